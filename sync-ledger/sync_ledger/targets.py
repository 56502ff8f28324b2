"""What both targets share besides the ledger: setting checks, record validation, the exit.

This module imports singer-sdk, which both targets depend on; the ledger and the
``sync-ledger`` command do not import it.
"""

from __future__ import annotations

import io
import signal
import sys
from collections.abc import Callable, Iterable, Iterator, Mapping
from datetime import UTC, date, datetime
from types import FrameType
from typing import Any, ClassVar, TypeVar

from singer_sdk import Target
from singer_sdk import typing as th
from singer_sdk.exceptions import InvalidRecord
from singer_sdk.sinks.core import BaseJSONSchemaValidator
from typing_extensions import override
from vendor_http.timeutil import epoch_microseconds
from vendor_http.urls import base_url_fault

from sync_ledger.singer_input import CheckedReader, MalformedInput

ABSENCE_SOURCES = ("personio", "staffomatic")

LOCK_WAIT_SETTING = th.Property(
    "lock_wait_seconds",
    th.IntegerType(minimum=0),
    default=300,
    description="One run at a time writes to a destination account: how long a run waits for "
    "another one to finish before it stops, naming it (seconds).",
)


def settings_values(
    names: Iterable[str],
    schema: Mapping[str, Any],
    config: Mapping[str, Any],
    typed: Callable[[str, Any], Any],
) -> dict[str, Any]:
    """Each named setting of a config the SDK validated against ``schema``, passed through
    ``typed(name, value)``; a value left null takes the schema's default (written nowhere else)."""
    declared = schema["properties"]
    values = {}
    for name in names:
        value = config.get(name)
        if value is None:
            value = declared[name].get("default")
        values[name] = typed(name, value)
    return values


def absence_source_problem(config: Any) -> str | None:
    """The sentence for a wrong ``absence_source``, or None when it is right."""
    source = config.get("absence_source", "personio")
    if source in ABSENCE_SOURCES:
        return None
    return (
        f"absence_source is {source!r}; set it to personio or staffomatic (the system whose "
        "absences are the master)."
    )


def base_url_problem(base_url: str, example: str, setting: str = "base_url") -> str | None:
    """The sentence for a base URL (the setting named ``setting``) that is not a URL or not
    https off loopback, or None."""
    fault = base_url_fault(base_url)
    if fault == "not a URL":
        return f"{setting} {base_url!r} is not a URL; use e.g. {example}."
    if fault == "plain http":
        return f"{setting} {base_url!r} must use https (plain http is allowed only on loopback)."
    return None


MAX_TEXT = 255
"""The longest text a target sends or reads names from; a longer one is refused before sending."""


def text_problem(
    record: Mapping[str, Any], checked: Iterable[str] = (), source: str = "the source"
) -> str | None:
    """Why a record's text cannot be synced: text anywhere in it that is not valid UTF-8 (bytes
    a tap could not decode), or a field in ``checked`` longer than :data:`MAX_TEXT`. The reason
    names the field, never its value."""
    for name, text in _texts(record, ""):
        try:
            text.encode("utf-8")
        except UnicodeEncodeError:
            return f"{name} holds text that is not valid UTF-8: correct it in {source}"
    for name in checked:
        value = record.get(name)
        if isinstance(value, str) and len(value) > MAX_TEXT:
            return f"{name} is longer than {MAX_TEXT} characters ({len(value)}): shorten it"
    return None


def _texts(value: Any, name: str) -> Iterator[tuple[str, str]]:
    if isinstance(value, str):
        yield name, value
    elif isinstance(value, Mapping):
        for key, item in value.items():
            yield from _texts(item, f"{name}.{key}" if name else str(key))
    elif isinstance(value, list | tuple):
        for item in value:
            yield from _texts(item, name)


class Interrupted(BaseException):
    """SIGTERM or SIGINT reached the target: it stops, and its run ends as ``interrupted``."""

    def __init__(self, signum: int) -> None:
        super().__init__(signal.Signals(signum).name)
        self.signum = signum


def ending(error: BaseException | None) -> str:
    """The ledger status of a run that stops on ``error``."""
    return "interrupted" if isinstance(error, Interrupted | KeyboardInterrupt) else "failed"


R = TypeVar("R", bound=Mapping[str, Any])


class NewestOnly:
    """One version of each source record per run: the newest.

    An input stream may hold a record twice (an overlapping re-read, a tap that pages while
    records change), or an older version after a newer one. Within a batch only the newest
    version (by the change time in ``stamp``; the one read last when the times are equal or
    missing) is handed on; a version older than one already handed on in this run is dropped.
    """

    def __init__(self, stamp: str) -> None:
        self.stamp = stamp
        self._handed: dict[str, int] = {}
        """The change time of each record handed on (an int, as one is kept per record)."""

    def __call__(self, records: Iterable[R]) -> list[R]:
        chosen: dict[str, R] = {}
        for record in records:
            key = str(record.get("id"))
            kept = chosen.get(key)
            if kept is None or not _older(self._time(record), self._time(kept)):
                chosen[key] = record
        handed = []
        for key, record in chosen.items():
            when = self._time(record)
            if _older(when, self._handed.get(key)):
                continue
            if when is not None:
                self._handed[key] = when
            handed.append(record)
        return handed

    def _time(self, record: Mapping[str, Any]) -> int | None:
        """The record's change time in microseconds since 1970 (naive: UTC)."""
        value = record.get(self.stamp)
        try:
            moment = datetime.fromisoformat(str(value)) if value else None
        except ValueError:
            return None
        if moment is None:
            return None
        if moment.tzinfo is None:
            moment = moment.replace(tzinfo=UTC)
        return epoch_microseconds(moment)


def _older(when: int | None, than: int | None) -> bool:
    return when is not None and than is not None and when < than


class UnreadableRecord(Exception):
    """A record the target cannot read; the message is the reason recorded for its skip."""


class QuietValidator(BaseJSONSchemaValidator):
    """The SDK's validation, raising :class:`UnreadableRecord` (the target skips the record
    with this reason) instead of the SDK logging a traceback that holds the whole record."""

    def __init__(self, schema: dict[str, Any], inner: BaseJSONSchemaValidator) -> None:
        super().__init__(schema)
        self.inner = inner

    @override
    def validate(self, record: dict[str, Any]) -> None:
        try:
            self.inner.validate(record)
        except InvalidRecord as exc:
            cause = exc.__cause__  # jsonschema's ValidationError
            validator = getattr(cause, "validator", None)
            if validator == "required":
                reason = f"the record lacks a required field ({getattr(cause, 'message', '')})"
            else:
                path = ".".join(str(p) for p in getattr(cause, "absolute_path", ()))
                reason = f"{path or 'a field'} does not match the stream's schema ({validator})"
            raise UnreadableRecord(reason) from None
        problem = _time_problem(self.schema, record, "")
        if problem:
            raise UnreadableRecord(problem)


_PARSERS = {"date": date.fromisoformat, "date-time": datetime.fromisoformat}


def _time_problem(schema: Mapping[str, Any], value: Any, name: str) -> str | None:
    """Why a date or time in ``value`` (as ``schema`` declares it) is not a real one, naming the
    field, never its value: the SDK would stop the whole run on it."""
    if isinstance(value, str) and schema.get("format") in _PARSERS:
        try:
            _PARSERS[schema["format"]](value.replace("Z", "+00:00"))
        except ValueError as exc:
            what = "date" if schema["format"] == "date" else "date and time"
            why = "not in ISO 8601 form" if "isoformat" in str(exc) else str(exc)  # no value
            return f"{name} is not a valid {what} ({why}): correct it in the source"
    elif isinstance(value, Mapping):
        for key, sub in (schema.get("properties") or {}).items():
            found = _time_problem(sub, value.get(key), f"{name}.{key}" if name else key)
            if found:
                return found
    elif isinstance(value, list) and isinstance(schema.get("items"), Mapping):
        for item in value:
            found = _time_problem(schema["items"], item, name)
            if found:
                return found
    return None


class SentenceTarget(Target):
    """The base of both targets: errors that need a person (``stop_errors``) end the run with
    their one sentence and exit status 1, without a traceback; input bytes that are not UTF-8
    reach the sinks (which skip the record holding them, with the reason) instead of stopping
    the reader."""

    stop_errors: ClassVar[tuple[type[Exception], ...]] = ()
    message_reader_class = CheckedReader

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        if isinstance(self.message_reader, CheckedReader):
            self.message_reader.on_malformed = self.abort

    def abort(self, error: BaseException | None = None) -> None:
        """Close the ledger run as failed (or interrupted, for :class:`Interrupted`), keeping
        what was written recorded: the input broke off, or ``error`` stopped the run."""

    @override
    def _handle_termination(self, signum: int, frame: FrameType | None) -> None:
        # The SDK exits 0 on SIGTERM, which Meltano takes for success; the run is interrupted.
        raise Interrupted(signum)

    @classmethod
    @override
    def invoke(  # type: ignore[override]
        cls,
        *,
        about: bool = False,
        about_format: str | None = None,
        config: Any = None,
        file_input: Any = None,
    ) -> None:
        if file_input is None and isinstance(sys.stdin, io.TextIOWrapper):
            sys.stdin.reconfigure(errors="surrogateescape")
        stops: tuple[type[Exception], ...] = (MalformedInput, *cls.stop_errors)
        try:
            super().invoke(
                about=about, about_format=about_format, config=config, file_input=file_input
            )
        except stops as exc:
            cls.logger.error("%s", exc)
            sys.exit(1)
        except Interrupted as stop:
            cls.logger.error(
                "Stopped by %s; the run is recorded as interrupted in the ledger and the next "
                "run carries on.",
                stop,
            )
            sys.exit(128 + stop.signum)
