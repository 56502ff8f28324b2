"""The sinks: look-up streams fill the run's look-ups; timers and absences are collected in
batches and handed to the run, which plans them (pure rules), applies and records the plans.

Full refresh: tap-staffomatic sends ACTIVATE_VERSION(v) before the records of ``work_timers`` and
``absences`` and a second ACTIVATE_VERSION(v) after the last one. The second one means "the
window was read completely": once every pending record has been written (at the end of the
input, when the look-ups are complete too), linked Personio periods of records that were not
seen are deleted (only those the sync created: the ledger says which).

tap-staffomatic may send a window stream before ``users``; its records wait (they are not
drained) until the users have been read, so every person can be matched.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from singer_sdk import Target
from singer_sdk.sinks import BatchSink, RecordSink, Sink
from singer_sdk.sinks.core import BaseJSONSchemaValidator
from sync_ledger.engine import Plan
from sync_ledger.engine.vocabulary import SKIP
from sync_ledger.targets import NewestOnly, QuietValidator, ending, text_problem
from typing_extensions import override

from target_personio.run import ABSENCES, TIMERS, SyncRun

NO_KEY = "the record has no 'id' (its key), so it cannot be synced"


class _RunSink(Sink):
    """A sink with access to the run shared by every sink of the target."""

    @override
    def get_validator(self) -> BaseJSONSchemaValidator | None:
        inner = super().get_validator()
        return None if inner is None else QuietValidator(self.schema, inner)

    def __init__(
        self,
        target: Target,
        stream_name: str,
        schema: dict,
        key_properties: Sequence[str] | None,
    ) -> None:
        super().__init__(target, stream_name, schema, key_properties)
        self.sync: SyncRun = target.sync  # type: ignore[attr-defined]


class IgnoredSink(_RunSink, RecordSink):
    """Streams the target does not need (locations, departments, ...)."""

    @override
    def get_validator(self) -> BaseJSONSchemaValidator | None:
        return None  # dropped records need no validation

    @override
    def process_record(self, record: dict, context: dict) -> None:
        return


class AccountSink(_RunSink, RecordSink):
    """The Staffomatic account: its ``time_zone`` is the default company time zone."""

    @override
    def process_record(self, record: dict, context: dict) -> None:
        if record.get("time_zone"):
            self.sync.lookups.account_time_zone = str(record["time_zone"])


class UsersSink(_RunSink, RecordSink):
    """Staffomatic users: ``custom_id`` (the Personio id) and e-mail, for matching people."""

    @override
    def process_record(self, record: dict, context: dict) -> None:
        self.sync.lookups.add_user(record)


class AbsenceTypesSink(_RunSink, RecordSink):
    """Staffomatic absence types: names by id, for absences that carry only the id."""

    @override
    def process_record(self, record: dict, context: dict) -> None:
        self.sync.lookups.staffomatic_types[str(record["id"])] = str(record.get("name") or "")


class _WindowSink(_RunSink, BatchSink):
    """A batch sink of a window stream: records in, plans applied and recorded by the run."""

    MAX_SIZE_DEFAULT = 500
    """Records planned and applied together: memory stays flat however large the window
    (``batch_size_rows`` overrides it)."""

    entity = ""
    checked_text: tuple[str, ...] = ()
    """Fields whose text is refused above ``sync_ledger.targets.MAX_TEXT`` characters."""

    @override
    def setup(self) -> None:
        super().setup()
        self._version: int | None = None
        self._complete = False
        self._seen: set[str] = set()
        self._deferred: list[dict[str, Any]] = []
        self.newest = NewestOnly("updated_at")
        self.sync.at_end.append(self.end_of_input)

    @property
    @override
    def include_sdc_metadata_properties(self) -> bool:
        # ACTIVATE_VERSION is handled here without _sdc columns; saying yes keeps the SDK from
        # warning about them on every full refresh. The extra _sdc fields are ignored.
        return True

    @property
    @override
    def is_full(self) -> bool:
        # Records wait until the look-up streams (users, types, account) have been read.
        return self.sync.lookups_ready and super().is_full

    @override
    def process_record(self, record: dict, context: dict) -> None:
        if self.sync.lookups.users:
            # tap-staffomatic sends one stream after the other: users are complete by now
            # (or, with user_custom_id and user_email selected, each timer brings its own).
            self.sync.lookups_ready = True
        self._seen.add(str(record["id"]))
        super().process_record(record, context)

    @override
    def process_batch(self, context: dict) -> None:
        records = self._deferred + list(context.get("records") or [])
        if not self.sync.lookups_ready:
            self._deferred = records
            return
        self._deferred = []
        try:
            self.sync.settle(self.plans(self.newest(records)))
        except BaseException as exc:
            self.sync.fail(ending(exc))
            raise

    def plans(self, records: list[dict[str, Any]]) -> list[Plan]:
        """A skip for each record whose text cannot be sent, the rules' plans for the others."""
        readable, plans = [], []
        for record in records:
            problem = text_problem(record, self.checked_text, "Staffomatic")
            if problem is None:
                readable.append(record)
                continue
            self.sync.logger.warning("%s %s skipped: %s", self.entity, record.get("id"), problem)
            plans.append(Plan(self.entity, str(record.get("id")), outcome=SKIP, reason=problem))
        return plans + self.plan(readable)

    def plan(self, records: list[dict[str, Any]]) -> list[Plan]:
        raise NotImplementedError

    @property
    def whole(self) -> bool:
        """Whether this is a complete window's read (an ACTIVATE_VERSION opened it): its
        look-ups are read whole; a batch of changes reads only its people's."""
        return self._version is not None

    def vanished(self, seen: set[str]) -> list[Plan]:
        raise NotImplementedError

    @override
    def activate_version(self, new_version: int) -> None:
        """The first ACTIVATE_VERSION opens a full window, the second says it was read whole."""
        if self._version != new_version:
            self._version = new_version
            self._seen = set()
            self._complete = False
            return
        self._complete = True

    def end_of_input(self) -> None:
        """After the last drain: write what waited, then remove what a full window lacked."""
        try:
            if self._deferred:
                self.process_batch({"records": []})
            if self._complete:
                self.sync.settle(self.vanished(self._seen))
                self._complete = False
        except BaseException as exc:
            self.sync.fail(ending(exc))
            raise

    def mark_seen(self, source_id: str) -> None:
        """A record that was skipped still counts as seen: its periods are not removed."""
        if source_id != "(no id)":
            self._seen.add(source_id)


class WorkTimersSink(_WindowSink):
    """Work timers into attendance periods (WORK and BREAK), one timer to several periods."""

    entity = TIMERS

    @override
    def process_record(self, record: dict, context: dict) -> None:
        self.sync.lookups.add_timer_user(record)
        super().process_record(record, context)

    @override
    def plan(self, records: list[dict[str, Any]]) -> list[Plan]:
        return self.sync.planner.plan_timers(records, whole=self.whole)

    @override
    def vanished(self, seen: set[str]) -> list[Plan]:
        return self.sync.planner.vanished_timers(seen)


class AbsencesSink(_WindowSink):
    """Staffomatic absences into Personio absence periods (only when absence_source=staffomatic)."""

    entity = ABSENCES
    checked_text = ("absence_type_name",)

    @property
    def active(self) -> bool:
        return self.sync.settings.syncs_absences

    @override
    def process_record(self, record: dict, context: dict) -> None:
        if self.active:
            super().process_record(record, context)

    @override
    def activate_version(self, new_version: int) -> None:
        if self.active:
            super().activate_version(new_version)

    @override
    def plan(self, records: list[dict[str, Any]]) -> list[Plan]:
        return self.sync.planner.plan_absences(records, whole=self.whole)

    @override
    def vanished(self, seen: set[str]) -> list[Plan]:
        return self.sync.planner.vanished_absences(seen)
