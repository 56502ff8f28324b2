"""target-staffomatic: settings, one sink per tap-personio stream, and the run's lifecycle."""

from __future__ import annotations

from typing import Any, ClassVar

from singer_sdk.exceptions import MissingKeyPropertiesError
from singer_sdk.helpers.capabilities import (
    CapabilitiesEnum,
    PluginCapabilities,
    TargetCapabilities,
)
from singer_sdk.sinks import Sink
from sync_ledger import Ledger, LedgerError, default_url
from sync_ledger.targets import SentenceTarget, UnreadableRecord, ending
from typing_extensions import override

from target_staffomatic.client import StaffomaticClient, StaffomaticError
from target_staffomatic.rules import ABSENCE, EMPLOYEE
from target_staffomatic.session import Session
from target_staffomatic.settings import CONFIG_SCHEMA, Settings, StopRun
from target_staffomatic.sinks import (
    NO_KEY,
    AbsencesSink,
    AbsenceTypesSink,
    EmployeesSink,
    IgnoredSink,
)

DELETED_AT = "_sdc_deleted_at"
"""Set by tap-personio on a record read by id that Personio no longer has."""
SYNCED_STREAMS = {"employees": EMPLOYEE, "absences": ABSENCE}


class TargetStaffomatic(SentenceTarget):
    """Personio employees and absences (from tap-personio) into Staffomatic users and absences."""

    name = "target-staffomatic"
    stop_errors = (StopRun,)

    capabilities: ClassVar[list[CapabilitiesEnum]] = [
        PluginCapabilities.ABOUT,
        PluginCapabilities.STREAM_MAPS,
        PluginCapabilities.FLATTENING,
        PluginCapabilities.STRUCTURED_LOGGING,
        PluginCapabilities.ACTIVATE_VERSION,
        TargetCapabilities.VALIDATE_RECORDS,
    ]

    config_jsonschema = CONFIG_SCHEMA

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.max_parallelism = 1  # sinks share one session, client and ledger
        self._session: Session | None = None
        self.settings = Settings.from_config(self.config)
        self.settings.check()

    @override
    def get_sink_class(self, stream_name: str) -> type[Sink]:
        return {
            "employees": EmployeesSink,
            "absences": AbsencesSink,
            "absence_types": AbsenceTypesSink,
        }.get(stream_name, IgnoredSink)

    @property
    def session(self) -> Session:
        """The run's session, opened on first use: ledger, Staffomatic client, look-ups."""
        if self._session is None:
            self._session = open_session(self.settings)
        return self._session

    # Every place that may write is guarded so that the ledger run is closed as failed.

    @override
    def _process_record_message(self, message_dict: dict[str, Any]) -> None:
        self._guard(self._read_record, message_dict)

    def _read_record(self, message_dict: dict[str, Any]) -> None:
        """One RECORD; one the SDK cannot read is skipped with its reason, the run goes on; one
        Personio no longer has (``_sdc_deleted_at``, from an ``only_ids`` read) is gone."""
        entity = SYNCED_STREAMS.get(str(message_dict.get("stream")))
        record = message_dict.get("record")
        if entity and isinstance(record, dict) and record.get(DELETED_AT) and record.get("id"):
            self.session.source_gone(entity, str(record["id"]))
            return
        try:
            super()._process_record_message(message_dict)
        except (MissingKeyPropertiesError, UnreadableRecord) as exc:
            entity = SYNCED_STREAMS.get(str(message_dict.get("stream")))
            record = message_dict.get("record")
            reason = str(exc) if isinstance(exc, UnreadableRecord) else NO_KEY
            if entity is None or not isinstance(record, dict):
                raise  # a stream this target does not sync: the SDK's own behaviour
            self.session.skip_unreadable(entity, record, reason)

    @override
    def _process_activate_version_message(self, message_dict: dict[str, Any]) -> None:
        self._guard(super()._process_activate_version_message, message_dict)

    @override
    def process_endofpipe(self) -> None:
        self._guard(super().process_endofpipe)
        if self._session is not None:
            session, self._session = self._session, None
            session.finish("success")

    def _guard(self, call: Any, *args: Any) -> None:
        try:
            call(*args)
        except BaseException as exc:
            self.abort(exc)
            raise

    @override
    def abort(self, error: BaseException | None = None) -> None:
        if self._session is not None:
            session, self._session = self._session, None
            try:
                session.finish(ending(error))
            except Exception:
                self.logger.warning("Could not close the ledger run after the failure.")


def open_session(settings: Settings) -> Session:
    """Connect to the ledger and to Staffomatic and load the look-ups; StopRun if that fails."""
    try:
        ledger = Ledger(settings.ledger_url or default_url())
    except LedgerError as exc:
        raise StopRun(str(exc)) from None
    try:
        client = StaffomaticClient(
            settings.base_url,
            settings.account,
            email=settings.email,
            password=settings.password,
            api_token=settings.api_token,
            user_agent=settings.agent,
            rate_limit_wait=settings.rate_limit_wait_seconds,
        )
    except StaffomaticError as exc:
        ledger.close()
        raise StopRun(str(exc)) from None
    try:
        return Session(settings, client, ledger)
    except LedgerError as exc:  # another run holds the account, or the ledger failed
        client.close()
        ledger.close()
        raise StopRun(str(exc)) from None
    except BaseException:
        client.close()
        ledger.close()
        raise
