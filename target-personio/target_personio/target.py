"""target-personio: settings and one sink per tap-staffomatic stream."""

from __future__ import annotations

from typing import Any

from singer_sdk import Target
from singer_sdk import typing as th
from singer_sdk.exceptions import MissingKeyPropertiesError
from singer_sdk.helpers.capabilities import PluginCapabilities
from singer_sdk.sinks import Sink
from sync_ledger import LedgerError
from sync_ledger.targets import SentenceTarget, UnreadableRecord
from typing_extensions import override

from target_personio.client import RunStopped
from target_personio.run import SyncRun
from target_personio.settings import check_settings
from target_personio.sinks import (
    NO_KEY,
    AbsencesSink,
    AbsenceTypesSink,
    AccountSink,
    IgnoredSink,
    UsersSink,
    WorkTimersSink,
    _WindowSink,
)

SINKS: dict[str, type[Sink]] = {
    "account": AccountSink,
    "users": UsersSink,
    "absence_types": AbsenceTypesSink,
    "work_timers": WorkTimersSink,
    "absences": AbsencesSink,
}


class TargetPersonio(SentenceTarget):
    """Writes Staffomatic work timers and absences to Personio attendance and absence periods."""

    name = "target-personio"
    stop_errors = (RunStopped, LedgerError)
    capabilities = [*Target.capabilities, PluginCapabilities.ACTIVATE_VERSION]
    default_sink_class = IgnoredSink

    config_jsonschema = th.PropertiesList(
        th.Property("client_id", th.StringType, secret=True, description="Personio API client id."),
        th.Property(
            "client_secret", th.StringType, secret=True, description="Personio API client secret."
        ),
        th.Property(
            "credentials_file",
            th.StringType,
            description="Instead of client_id/client_secret: a JSON file with both keys.",
        ),
        th.Property(
            "base_url",
            th.StringType,
            default="https://api.personio.de",
            description="Personio API root; https is required unless it is a loopback address.",
        ),
        th.Property(
            "app_id",
            th.StringType,
            default="TARGET_PERSONIO",
            description="Sent as X-Personio-App-ID on every request (UPPER_SNAKE_CASE).",
        ),
        th.Property(
            "ledger_url",
            th.StringType,
            description="SQLAlchemy URL of the sync ledger (default: sync-ledger.db in the "
            "Meltano project); postgresql+psycopg://... in production.",
        ),
        th.Property(
            "dry_run",
            th.BooleanType,
            default=False,
            description="Compute and record the plan, print the summary, write nothing.",
        ),
        th.Property(
            "absence_source",
            th.StringType,
            default="personio",
            description="Which system owns absences: personio (this target ignores absences) "
            "or staffomatic (this target writes them to Personio).",
        ),
        th.Property(
            "only_verified_timers",
            th.BooleanType,
            default=True,
            description="Send only timers a manager verified in Staffomatic.",
        ),
        th.Property(
            "settle_minutes",
            th.IntegerType,
            default=60,
            description="A timer is sent once it has been stopped this long.",
        ),
        th.Property(
            "retry_days",
            th.IntegerType,
            default=7,
            description="Nothing older is written; rejected records are retried this long.",
        ),
        th.Property(
            "only_approved_absences",
            th.BooleanType,
            default=True,
            description="Send only approved absences; false: new ones are sent pending too.",
        ),
        th.Property(
            "absence_type_map",
            th.ObjectType(additional_properties=th.StringType),
            description="Staffomatic absence type name (or id) to Personio absence type name "
            "(or id), for types whose names differ.",
        ),
        th.Property(
            "absence_window_past_days",
            th.IntegerType,
            default=60,
            description="Days before today tap-staffomatic reads absences (same as the tap's "
            "setting); a full sync removes vanished absences only inside the window.",
        ),
        th.Property(
            "absence_window_future_days",
            th.IntegerType,
            default=365,
            description="Days after today tap-staffomatic reads absences (same as the tap's).",
        ),
        th.Property(
            "time_zone",
            th.StringType,
            description="Company time zone (IANA name); default: the Staffomatic account's.",
        ),
        th.Property(
            "skip_approval",
            th.BooleanType,
            default=True,
            description="Create periods approved in Personio (the data was approved in "
            "Staffomatic); false leaves them for approval in Personio.",
        ),
        th.Property(
            "start_date",
            th.DateTimeType,
            description="Nothing that starts before this date is written.",
        ),
    ).to_dict()

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        check_settings(dict(self.config))
        self.sync = SyncRun(dict(self.config), self.logger)
        self.max_parallelism = 1  # the sinks share one HTTP client, its pacing and the ledger

    @override
    def get_sink_class(self, stream_name: str) -> type[Sink]:
        return SINKS.get(stream_name, IgnoredSink)

    @override
    def _process_record_message(self, message_dict: dict[str, Any]) -> None:
        """One RECORD; one the SDK cannot read is skipped with its reason, the run goes on."""
        try:
            super()._process_record_message(message_dict)
        except (MissingKeyPropertiesError, UnreadableRecord) as exc:
            stream = str(message_dict.get("stream"))
            sink = self.get_sink(stream)
            if isinstance(sink, IgnoredSink):
                raise  # a stream this target does not use: the SDK's own behaviour
            record = message_dict.get("record")
            record = record if isinstance(record, dict) else {}
            sid = str(record["id"]) if record.get("id") is not None else "(no id)"
            reason = str(exc) if isinstance(exc, UnreadableRecord) else NO_KEY
            self.logger.warning("%s %s skipped: %s", stream, sid, reason)
            if isinstance(sink, _WindowSink) and getattr(sink, "active", True):
                sink.mark_seen(sid)
                self.sync.skip(sink.entity, sid, reason)

    @override
    def process_endofpipe(self) -> None:
        self.sync.lookups_ready = True  # everything has been read: write what waited
        try:
            super().process_endofpipe()
        except BaseException:
            self.sync.fail()
            raise
        self.sync.finish()
