"""target-personio: settings and one sink per tap-staffomatic stream."""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from singer_sdk import Target
from singer_sdk.exceptions import MissingKeyPropertiesError
from singer_sdk.helpers.capabilities import PluginCapabilities
from singer_sdk.sinks import Sink
from sync_ledger import LedgerError
from sync_ledger.targets import SentenceTarget, UnreadableRecord, ending
from typing_extensions import override

from target_personio.client import RunStopped
from target_personio.run import SyncRun
from target_personio.settings import CONFIG_SCHEMA, Settings
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

    config_jsonschema = CONFIG_SCHEMA

    def __init__(
        self,
        *,
        clock: Callable[[], datetime] | None = None,
        sleep: Callable[[float], None] = time.sleep,
        **kwargs: Any,
    ) -> None:
        """``clock``: the current time (UTC); ``sleep``: every wait of the HTTP client (pacing,
        retries). Tests pass a fixed clock and a sleep that only records."""
        super().__init__(**kwargs)
        self.settings = Settings.from_config(self.config)
        self.settings.check()
        now = clock or (lambda: datetime.now(UTC))
        self.sync = SyncRun(self.settings, self.logger, now, sleep=sleep)
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
    def abort(self, error: BaseException | None = None) -> None:
        self.sync.fail(ending(error))

    @override
    def process_endofpipe(self) -> None:
        self.sync.lookups_ready = True  # everything has been read: write what waited
        try:
            super().process_endofpipe()
        except BaseException as exc:
            self.sync.fail(ending(exc))
            raise
        self.sync.finish()
