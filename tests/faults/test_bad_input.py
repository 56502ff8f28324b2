"""Bad records: each one gets a per-record error with a clear reason, every other record syncs.

For each target, the real tap's output on the demo seed is taken and bad records, written by
hand, are slipped in after a good record of the same stream (inside the full-refresh window).
The target runs once as a real process on that input, every kind of bad record in the one run,
with its ledger on SQLite and (a second run) on PostgreSQL. Then each bad record must have a
``skip`` or ``fail`` row in the ledger's run log with a reason a person understands, the run must
end with exit code 0, and the destination must hold exactly what the fault-free run of the
pipeline writes: nothing of the bad records, nothing less of the good ones.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Iterator
from contextlib import ExitStack
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import pytest
from sync_ledger import Action, Ledger

from tests.faults.conftest import Expected, World, sandbox_world
from tests.faults.helpers import (
    PERSONIO_TO_STAFFOMATIC,
    STAFFOMATIC_TO_PERSONIO,
    LogBook,
    Spec,
    run_plugin,
)
from tests.pg import throwaway_database

pytestmark = pytest.mark.slow

RAW = "@RAW@"
"""Replaced by bytes that are not UTF-8 after the line was encoded."""
NOT_UTF8 = b"\xff\xfe"
LONG = "L" * 5000
MISSING = object()


@dataclass
class BadRun:
    code: int
    stderr: str
    actions: list[Action]
    view: dict[str, list[str]]
    touched: set[str]
    expected: Expected

    def assert_every_good_record_synced(self) -> None:
        """The run ended well and left the destination as a run without the bad records does."""
        assert self.code == 0, self.stderr[-3000:]
        assert "Traceback" not in self.stderr
        assert self.view == self.expected.view
        assert self.touched == self.expected.touched

    def errors_of(self, entity: str, source_id: str) -> list[Action]:
        return [
            a
            for a in self.actions
            if a.entity == entity and a.source_id == source_id and a.action in ("skip", "fail")
        ]


def tap_messages(world: World, spec: Spec) -> list[dict[str, Any]]:
    """The real tap's output on the demo seed, as messages."""
    config = spec.tap_config(world.sandbox)
    done = run_plugin(world.book, f"bad-input {spec.tap}", spec.tap, config, world.workdir)
    assert done.returncode == 0, done.stderr[-2000:]
    return [json.loads(line) for line in done.stdout.splitlines() if line.strip()]


def record(messages: list[dict[str, Any]], stream: str, rid: Any) -> dict[str, Any]:
    return next(
        m
        for m in messages
        if m["type"] == "RECORD" and m["stream"] == stream and m["record"].get("id") == rid
    )


def days_before(moment: str, days: int) -> str:
    return (datetime.fromisoformat(moment) - timedelta(days=days)).isoformat()


def variant(template: dict[str, Any], **changes: Any) -> dict[str, Any]:
    """A copy of a RECORD message with fields changed (MISSING removes a field)."""
    data = {**template["record"], **changes}
    return {**template, "record": {k: v for k, v in data.items() if v is not MISSING}}


def encode(messages: list[dict[str, Any]], extras: dict[tuple[str, Any], list[dict]]) -> bytes:
    """JSON lines with ``extras`` after the record ``(stream, id)`` they are keyed by."""
    lines: list[bytes] = []
    for message in messages:
        lines.append(json.dumps(message, ensure_ascii=False).encode("utf-8"))
        if message["type"] == "RECORD":
            for extra in extras.get((message["stream"], message["record"].get("id")), []):
                line = json.dumps(extra).encode("ascii")  # lone surrogates as \\u escapes
                lines.append(line.replace(RAW.encode(), NOT_UTF8))
    return b"\n".join(lines) + b"\n"


def outside_break(timer: dict[str, Any]) -> dict[str, Any]:
    """A break two hours after its timer ended."""
    end = datetime.fromisoformat(timer["ends_at"])
    return {
        "id": 1,
        "starts_at": (end + timedelta(hours=2)).isoformat(),
        "ends_at": (end + timedelta(hours=3)).isoformat(),
    }


def backwards_break(timer: dict[str, Any]) -> dict[str, Any]:
    """A break inside its timer that ends before it starts."""
    start = datetime.fromisoformat(timer["starts_at"])
    return {
        "id": 1,
        "starts_at": (start + timedelta(hours=3)).isoformat(),
        "ends_at": (start + timedelta(hours=2)).isoformat(),
    }


@pytest.fixture(
    scope="module", params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)]
)
def ledger_kind(request: pytest.FixtureRequest) -> str:
    """Where the targets of this module keep their ledger: an SQLite file or PostgreSQL."""
    return str(request.param)


def run_target(
    world: World, spec: Spec, stdin: bytes, expected: Expected, ledger_kind: str
) -> BadRun:
    with ExitStack() as stack:
        if ledger_kind == "sqlite":
            url = f"sqlite:///{world.workdir / 'bad-input.db'}"
        else:
            name = f"bad_input_{spec.target.replace('-', '_')}_{os.getpid()}"
            url = stack.enter_context(throwaway_database(name))
        return _run_target(world, spec, stdin, expected, url)


def _run_target(world: World, spec: Spec, stdin: bytes, expected: Expected, url: str) -> BadRun:
    config = spec.target_config(world.sandbox, url)
    # A strict stdin decoder (as under most locales) must not stop the run on bytes that are
    # not UTF-8: the target reads them itself and skips the one record holding them.
    strict = {"PYTHONIOENCODING": "utf-8:strict"}
    done = run_plugin(
        world.book,
        f"bad-input {spec.target}",
        spec.target,
        config,
        world.workdir,
        stdin,
        env=strict,
    )
    with Ledger(url) as ledger:
        runs = ledger.runs()
        actions = ledger.actions(runs[0].id) if runs else []
    return BadRun(
        done.returncode,
        done.stderr,
        actions,
        spec.view(world.sandbox),
        world.touched(),
        expected,
    )


# ---- tap-personio | target-staffomatic ---------------------------------------------------------


@pytest.fixture(scope="module")
def into_staffomatic(
    book: LogBook,
    tmp_path_factory: pytest.TempPathFactory,
    expected: Callable[[Spec], Expected],
    ledger_kind: str,
) -> Iterator[BadRun]:
    spec = PERSONIO_TO_STAFFOMATIC
    want = expected(spec)
    workdir = tmp_path_factory.mktemp(f"bad-into-staffomatic-{ledger_kind}")
    for world in sandbox_world(book, workdir):
        messages = tap_messages(world, spec)
        anna = record(messages, "employees", 1001)
        people = [
            variant(anna, id=MISSING, email="no.id@demo-gastro.example"),
            variant(anna, id=7002, first_name="Nora", last_name="Nomail", email=None),
            variant(anna, id=7003, last_name=f"Ko{RAW}ch", email="bad.bytes@demo-gastro.example"),
            variant(anna, id=7004, last_name=LONG, email="very.long@demo-gastro.example"),
            variant(anna, id=7005, last_name="Sur\udcfcrogate", email="sur@demo-gastro.example"),
            variant(anna, id=7006, hire_date="2026-02-30", email="feb30@demo-gastro.example"),
            variant(
                anna, id=7007, first_name=None, last_name=None, email="noname@demo-gastro.example"
            ),
            variant(anna, id=7008, weekly_working_hours="forty", email="hours@demo-gastro.example"),
            variant(
                anna, id=7009, last_working_day="31.12.2026", email="format@demo-gastro.example"
            ),
            variant(anna, id=7010, first_name=["Ann"], email="list@demo-gastro.example"),
        ]
        vacation = next(
            m
            for m in messages
            if m["type"] == "RECORD"
            and m["stream"] == "absences"
            and m["record"]["person_id"] == "1001"
            and m["record"]["absence_type_name"] == "Vacation"
        )
        start = vacation["record"]["starts_from"]
        absences = [
            variant(vacation, id="bad-no-start", starts_from=MISSING),
            variant(vacation, id="bad-no-person", person_id=MISSING),
            variant(vacation, id="bad-type", absence_type_id="x-1", absence_type_name="Sabbatical"),
            variant(vacation, id="bad-backwards", ends_at=days_before(start, 7)),
            variant(vacation, id="bad-person", person_id="999999"),
            variant(vacation, id="bad-feb30", starts_from="2026-02-30T00:00:00"),
            variant(
                vacation,
                id="bad-9999",
                starts_from="9999-01-04T00:00:00",
                ends_at="9999-01-05T00:00:00",
            ),
            variant(vacation, id="bad-time", ends_at="next Tuesday"),
            variant(vacation, id="bad-no-type", absence_type_id=None, absence_type_name=None),
        ]
        extras = {
            ("employees", 1001): people,
            ("absences", vacation["record"]["id"]): absences,
        }
        yield run_target(world, spec, encode(messages, extras), want, ledger_kind)


def test_target_staffomatic_syncs_every_good_record_despite_the_bad_ones(
    into_staffomatic: BadRun,
) -> None:
    into_staffomatic.assert_every_good_record_synced()


@pytest.mark.parametrize(
    ("entity", "source_id", "words"),
    [
        pytest.param("employee", "7002", ["no e-mail"], id="user without e-mail and link"),
        pytest.param("employee", "7003", ["UTF-8", "last_name"], id="non-UTF-8 bytes"),
        pytest.param("employee", "7005", ["UTF-8", "last_name"], id="non-UTF-8 escape"),
        pytest.param("employee", "7004", ["last_name", "longer than"], id="oversized text"),
        pytest.param("absence", "bad-no-start", ["start"], id="absence missing its start"),
        pytest.param("absence", "bad-no-person", ["person"], id="absence missing its person"),
        pytest.param("absence", "bad-type", ["Sabbatical", "counterpart"], id="unknown type"),
        pytest.param("absence", "bad-backwards", ["ends before it starts"], id="ends before start"),
        pytest.param("absence", "bad-person", ["999999"], id="unknown person"),
        pytest.param("employee", "7006", ["hire_date"], id="impossible hire date"),
        pytest.param("employee", "7007", ["first", "last name"], id="no name"),
        pytest.param("employee", "7008", ["weekly_working_hours"], id="hours not a number"),
        pytest.param("employee", "7009", ["last_working_day"], id="malformed date"),
        pytest.param("employee", "7010", ["first_name"], id="name of the wrong type"),
        pytest.param("absence", "bad-feb30", ["starts_from"], id="impossible start date"),
        pytest.param("absence", "bad-9999", ["window"], id="absence outside the window"),
        pytest.param("absence", "bad-time", ["ends_at"], id="malformed end"),
        pytest.param("absence", "bad-no-type", ["type"], id="absence without type"),
    ],
)
def test_target_staffomatic_logs_each_bad_record_with_its_reason(
    into_staffomatic: BadRun, entity: str, source_id: str, words: list[str]
) -> None:
    errors = into_staffomatic.errors_of(entity, source_id)
    assert len(errors) == 1, into_staffomatic.actions
    for word in words:
        assert word in errors[0].reason


def test_target_staffomatic_logs_a_record_without_id_with_its_reason(
    into_staffomatic: BadRun,
) -> None:
    errors = [
        a
        for a in into_staffomatic.actions
        if a.entity == "employee" and a.action == "skip" and "'id'" in a.reason
    ]
    assert len(errors) == 1, into_staffomatic.actions


# ---- tap-staffomatic | target-personio ---------------------------------------------------------


@pytest.fixture(scope="module")
def into_personio(
    book: LogBook,
    tmp_path_factory: pytest.TempPathFactory,
    expected: Callable[[Spec], Expected],
    ledger_kind: str,
) -> Iterator[BadRun]:
    spec = STAFFOMATIC_TO_PERSONIO
    want = expected(spec)
    workdir = tmp_path_factory.mktemp(f"bad-into-personio-{ledger_kind}")
    for world in sandbox_world(book, workdir):
        messages = tap_messages(world, spec)
        shift = record(messages, "work_timers", 91003)  # Sebastian, verified, 07:00-15:30
        start, end = shift["record"]["starts_at"], shift["record"]["ends_at"]
        timers = [
            variant(shift, id=990001, starts_at=MISSING),
            variant(shift, id=MISSING),
            variant(shift, id=990003, starts_at=start.replace("T07:00", "T12:00"), ends_at=end),
            # the tap gives a timer its user's identity: none for a user it cannot find, none
            # for a user without e-mail or custom_id
            variant(shift, id=990004, user_id=999999, user_custom_id=None, user_email=None),
            variant(shift, id=990005, user_id=286990, user_custom_id=None, user_email=None),
            variant(shift, id=990006, starts_at=end, ends_at=start),
            variant(shift, id=990007, starts_at="2026-02-30T07:00:00+01:00"),
            variant(shift, id=990008, breaks=[outside_break(shift["record"])]),
            variant(shift, id=990009, breaks=[backwards_break(shift["record"])]),
            variant(shift, id=990010, user_id="someone"),
            variant(shift, id=990011, ends_at="soon"),
        ]
        user = record(messages, "users", 286011)
        users = [variant(user, id=286990, email=None, custom_id=None, first_name="Nora")]
        vacation = record(messages, "absences", 565001)  # Anna, approved vacation
        absences = [
            variant(vacation, id=990101, absence_type_name="Sabbatical", absence_type_id=999),
            variant(
                vacation,
                id=990102,
                starts_at=vacation["record"]["ends_at"],
                ends_at=vacation["record"]["starts_at"],
            ),
            variant(vacation, id=990103, absence_type_name=f"Vaca{RAW}tion"),
            variant(vacation, id=990104, absence_type_name=LONG),
            variant(vacation, id=990105, starts_at=MISSING),
            variant(vacation, id=990106, starts_at="2026-02-30T00:00:00+01:00"),
            variant(
                vacation,
                id=990107,
                starts_at="9999-01-04T00:00:00+01:00",
                ends_at="9999-01-05T23:59:59+01:00",
            ),
        ]
        extras = {
            ("work_timers", 91003): timers,
            ("users", 286011): users,
            ("absences", 565001): absences,
        }
        yield run_target(world, spec, encode(messages, extras), want, ledger_kind)


def test_target_personio_syncs_every_good_record_despite_the_bad_ones(
    into_personio: BadRun,
) -> None:
    into_personio.assert_every_good_record_synced()


@pytest.mark.parametrize(
    ("entity", "source_id", "words"),
    [
        pytest.param("work_timers", "990001", ["start"], id="timer missing its start"),
        pytest.param("work_timers", "990003", ["overlaps"], id="overlapping attendance"),
        pytest.param("work_timers", "990004", ["999999"], id="unknown person"),
        pytest.param("work_timers", "990005", ["e-mail"], id="user without e-mail and link"),
        pytest.param("work_timers", "990006", ["ends before it starts"], id="timer backwards"),
        pytest.param("absences", "990101", ["Sabbatical"], id="unknown absence type"),
        pytest.param("absences", "990102", ["ends before it starts"], id="absence backwards"),
        pytest.param("absences", "990103", ["UTF-8", "absence_type_name"], id="non-UTF-8"),
        pytest.param("absences", "990104", ["absence_type_name", "longer than"], id="oversized"),
        pytest.param("absences", "990105", ["start"], id="absence missing its start"),
        pytest.param("work_timers", "990007", ["starts_at"], id="impossible timer date"),
        pytest.param("work_timers", "990008", ["break", "outside"], id="break outside timer"),
        pytest.param("work_timers", "990009", ["break", "before"], id="break backwards"),
        pytest.param("work_timers", "990010", ["user_id"], id="user id of the wrong type"),
        pytest.param("work_timers", "990011", ["ends_at"], id="malformed timer end"),
        pytest.param("absences", "990106", ["starts_at"], id="impossible absence date"),
        pytest.param("absences", "990107", ["window"], id="absence outside the window"),
    ],
)
def test_target_personio_logs_each_bad_record_with_its_reason(
    into_personio: BadRun, entity: str, source_id: str, words: list[str]
) -> None:
    errors = into_personio.errors_of(entity, source_id)
    assert len(errors) == 1, [
        (a.entity, a.source_id, a.action, a.reason) for a in into_personio.actions
    ]
    for word in words:
        assert word in errors[0].reason


def test_target_personio_logs_a_record_without_id_with_its_reason(into_personio: BadRun) -> None:
    errors = [
        a
        for a in into_personio.actions
        if a.entity == "work_timers" and a.action == "skip" and "'id'" in a.reason
    ]
    assert len(errors) == 1, into_personio.actions
