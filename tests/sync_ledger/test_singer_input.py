"""The targets' input reader: a damaged Singer stream stops with one sentence naming the line."""

from __future__ import annotations

import io
import json
from collections.abc import Callable
from typing import Any

import pytest
from singer_sdk.exceptions import RecordsWithoutSchemaException
from sync_ledger.singer_input import CheckedReader, MalformedInput

SCHEMA = json.dumps({"type": "SCHEMA", "stream": "employees", "schema": {}, "key_properties": []})
RECORD = json.dumps({"type": "RECORD", "stream": "employees", "record": {"first_name": "Jana"}})


def _read(text: str) -> tuple[list[dict[str, Any]], list[str], MalformedInput | None]:
    seen: list[dict[str, Any]] = []
    aborted: list[str] = []
    reader = CheckedReader()
    reader.on_malformed = lambda: aborted.append("aborted")
    kinds = ("SCHEMA", "RECORD", "STATE", "ACTIVATE_VERSION", "BATCH")
    callbacks: dict[str, Callable[[dict], None]] = dict.fromkeys(kinds, seen.append)
    try:
        reader.process_lines(io.StringIO(text), callbacks)
    except MalformedInput as exc:
        return seen, aborted, exc
    return seen, aborted, None


def test_blank_lines_are_ignored() -> None:
    seen, aborted, error = _read(f"\n{SCHEMA}\n   \n{RECORD}\n\n")
    assert error is None
    assert [m["type"] for m in seen] == ["SCHEMA", "RECORD"]
    assert aborted == []


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            f'{SCHEMA}\n{{"type": "RECORD", "record": {{"first_name": "Jana"\n{RECORD}\n',
            "Line 2 of the input is not valid JSON: Expecting ',' delimiter at column ",
        ),
        (
            f'{SCHEMA}\n{RECORD}\n{{"type": "RECORD", "stream": "employees", "record": {{"fir',
            "Line 3 of the input is not valid JSON (the input ends in the middle of it): ",
        ),
        (
            f'{SCHEMA}\n{{"type": "RECOR", "record": {{"first_name": "Jana"}}}}\n',
            "Line 2 of the input has the unknown message type 'RECOR' (known: ACTIVATE_VERSION,",
        ),
        (
            f'{SCHEMA}\n{{"stream": "employees", "record": {{"first_name": "Jana"}}}}\n',
            "Line 2 of the input is not a Singer message (no 'type')",
        ),
        (f"{SCHEMA}\n[1, 2]\n", "Line 2 of the input is not a Singer message (no 'type')"),
    ],
    ids=["broken-json", "truncated-last-line", "unknown-type", "no-type", "not-an-object"],
)
def test_a_damaged_line_is_one_sentence_with_its_number_and_never_its_content(
    text: str, expected: str
) -> None:
    seen, aborted, error = _read(text)
    assert error is not None
    message = str(error)
    assert message.startswith(expected)
    assert message.endswith("fix the tap or run the pipeline again.")
    assert "Jana" not in message
    assert "\n" not in message
    assert aborted == ["aborted"]  # the target closes its ledger run before the stop
    assert [m["type"] for m in seen] == ["SCHEMA", "RECORD"][: len(seen)]


def test_a_record_before_its_schema_names_the_line_and_the_stream() -> None:
    def refuse(_message: dict[str, Any]) -> None:
        raise RecordsWithoutSchemaException("a record before a schema")

    reader = CheckedReader()
    with pytest.raises(MalformedInput) as caught:
        reader.process_lines(io.StringIO(f"\n{RECORD}\n"), {"RECORD": refuse})
    assert str(caught.value).startswith(
        "Line 2 of the input is a RECORD of stream 'employees' before that stream's SCHEMA"
    )
