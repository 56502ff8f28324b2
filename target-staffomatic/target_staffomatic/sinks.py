"""One sink per tap-personio stream; each hands its records to the run's :class:`Session`."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from singer_sdk.sinks import BatchSink, RecordSink, Sink
from singer_sdk.sinks.core import BaseJSONSchemaValidator
from sync_ledger.targets import NewestOnly, QuietValidator
from typing_extensions import override

if TYPE_CHECKING:
    from collections.abc import Sequence

    from target_staffomatic.session import Session
    from target_staffomatic.target import TargetStaffomatic


NO_KEY = "the record has no 'id' (its key), so it cannot be synced"


class _SessionSink(Sink):
    """Gives a sink the run's session (created on first use by the target)."""

    staffomatic_target: TargetStaffomatic

    def __init__(
        self,
        target: TargetStaffomatic,
        stream_name: str,
        schema: dict[str, Any],
        key_properties: Sequence[str] | None,
    ) -> None:
        self.staffomatic_target = target
        super().__init__(target, stream_name, schema, key_properties)

    @override
    def get_validator(self) -> BaseJSONSchemaValidator | None:
        inner = super().get_validator()
        return None if inner is None else QuietValidator(self.schema, inner)

    @property
    def session(self) -> Session:
        return self.staffomatic_target.session


class EmployeesSink(_SessionSink, BatchSink):
    """Employees -> users, a batch at a time (look-ups are in memory, writes run a few at once)."""

    MAX_SIZE_DEFAULT = 100

    @override
    def setup(self) -> None:
        super().setup()
        self.newest = NewestOnly("last_modified_at")

    @override
    def process_batch(self, context: dict[str, Any]) -> None:
        self.session.sync_employees(self.newest(context.get("records", [])))


class AbsenceTypesSink(_SessionSink, RecordSink):
    """Personio absence types: kept in memory (names and categories for the other streams)."""

    @override
    def process_record(self, record: dict[str, Any], context: dict[str, Any]) -> None:
        self.session.note_absence_type(record)


class AbsencesSink(_SessionSink, BatchSink):
    """Personio absence periods -> Staffomatic absences, with the full-window removal.

    tap-personio sends ACTIVATE_VERSION(v) before the window's records and the same version
    again after the last one: the second message means the window was read completely, so the
    pending batch is drained first and then linked absences whose source vanished are deleted.
    """

    MAX_SIZE_DEFAULT = 100

    def __init__(
        self,
        target: TargetStaffomatic,
        stream_name: str,
        schema: dict[str, Any],
        key_properties: Sequence[str] | None,
    ) -> None:
        self.version: int | None = None
        self.newest = NewestOnly("updated_at")
        super().__init__(target, stream_name, schema, key_properties)

    @override
    def process_batch(self, context: dict[str, Any]) -> None:
        self.session.sync_absences(self.newest(context.get("records", [])))

    @override
    def activate_version(self, new_version: int) -> None:
        if self.version != new_version:
            self.version = new_version
            self.session.seen_absences = set()
            return
        if self.current_size:
            self.process_batch(self.start_drain())
            self.mark_drained()
        self.session.activate_version_complete()

    @override
    def clean_up(self) -> None:
        self.session.finish_absences()
        super().clean_up()


class IgnoredSink(RecordSink):
    """A stream this target does not sync (e.g. ``attendances``): its records are dropped."""

    @override
    def get_validator(self) -> BaseJSONSchemaValidator | None:
        return None  # dropped records need no validation

    @override
    def process_record(self, record: dict[str, Any], context: dict[str, Any]) -> None:
        return None

    @override
    def activate_version(self, new_version: int) -> None:
        return None
