"""Reading a target's Singer input: a damaged stream stops with one sentence naming the line.

The SDK's reader logs a line it cannot parse whole (HR data in the log) and ends with a
traceback; a blank line, an unknown message type or a record before its schema end the run the
same way. :class:`CheckedReader` skips blank lines and turns every other problem into
:class:`MalformedInput`, whose message names the line number and what is wrong, never the
line's content. The targets stop on it with that sentence and exit status 1.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Callable
from typing import IO, Any

from singer_sdk.exceptions import RecordsWithoutSchemaException
from singer_sdk.singerlib.encoding import SimpleSingerReader
from singer_sdk.singerlib.encoding.base import SingerMessageType
from typing_extensions import override

KNOWN_TYPES = frozenset(t.value for t in SingerMessageType)
RERUN = "the tap's output is damaged; fix the tap or run the pipeline again"


class MalformedInput(Exception):
    """The input is not a Singer stream from some line on; the message names the line."""


class RecordBeforeSchema(MalformedInput, RecordsWithoutSchemaException):
    """A RECORD of a stream whose SCHEMA has not come (the SDK's exception, with the line)."""


class CheckedReader(SimpleSingerReader):
    """The SDK's reader, with line numbers, blank lines skipped and one sentence per problem.

    ``on_malformed`` (set by the target) is called before :class:`MalformedInput` is raised, so
    the target can close its ledger run as failed with everything written so far recorded."""

    on_malformed: Callable[[], None] | None = None

    @override
    def process_lines(
        self,
        file_input: IO[str] | None,
        callbacks: dict[str, Callable[[dict], None]],
    ) -> Counter[str]:
        stats: Counter[str] = Counter()
        number = 0
        for number, line in enumerate(file_input or self.default_input, start=1):
            if not line.strip():
                continue
            try:
                message = self._message(number, line)
                try:
                    callbacks[message["type"]](message)
                except RecordsWithoutSchemaException:
                    stream = message.get("stream")
                    raise RecordBeforeSchema(
                        f"Line {number} of the input is a RECORD of stream {stream!r} before "
                        f"that stream's SCHEMA message; {RERUN}."
                    ) from None
            except MalformedInput:
                if self.on_malformed is not None:
                    self.on_malformed()
                raise
            stats[message["type"]] += 1
        return stats

    def _message(self, number: int, line: str) -> dict[str, Any]:
        try:
            message = json.loads(line)
        except json.JSONDecodeError as exc:
            cut = "" if line.endswith("\n") else " (the input ends in the middle of it)"
            raise MalformedInput(
                f"Line {number} of the input is not valid JSON{cut}: {exc.msg} at column "
                f"{exc.colno}; {RERUN}."
            ) from None
        if not isinstance(message, dict) or "type" not in message:
            raise MalformedInput(
                f"Line {number} of the input is not a Singer message (no 'type'); {RERUN}."
            )
        if message["type"] not in KNOWN_TYPES:
            known = ", ".join(sorted(KNOWN_TYPES))
            raise MalformedInput(
                f"Line {number} of the input has the unknown message type "
                f"{str(message['type'])[:40]!r} (known: {known}); {RERUN}."
            )
        return message
