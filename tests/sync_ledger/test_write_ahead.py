"""The write-ahead record: a run that stops between a write and its record still shows it."""

from __future__ import annotations

import subprocess
import sys
from typing import Any

from sqlalchemy import update
from sync_ledger import Ledger
from sync_ledger.runs import UNKNOWN_OUTCOME
from sync_ledger.schema import runs


def _dead_pid() -> int:
    done = subprocess.run(
        [sys.executable, "-c", "import os; print(os.getpid())"],
        check=True,
        capture_output=True,
        text=True,
    )
    return int(done.stdout)


def _killed_run(ledger: Ledger) -> int:
    """A run that sent three writes and was killed before recording any of them."""
    run = ledger.start_run("target-staffomatic")
    created = run.intend("absence", "a-1", "create", "POST", "/locations/1/absences.json")
    run.settle(created, "done", "501")
    refused = run.intend("absence", "a-2", "create", "POST", "/locations/1/absences.json")
    run.settle(refused, "refused")
    run.intend("employee", "7", "update", "PUT", "/locations/1/users/9.json")  # no answer
    with ledger.engine.begin() as conn:  # its process is gone
        conn.execute(update(runs).where(runs.c.id == run.id).values(pid=_dead_pid()))
    return run.id


def test_the_next_run_turns_a_killed_runs_intents_into_its_run_log(
    ledger_url: str, clock: Any
) -> None:
    with Ledger(ledger_url, clock=clock) as ledger:
        killed = _killed_run(ledger)
        clock.advance(minutes=5)
        ledger.start_run("target-staffomatic").finish()
        (info,) = [r for r in ledger.runs() if r.id == killed]
        assert info.status == "interrupted"
        assert info.counts == {"absence": {"create": 1}, "employee": {"fail": 1}}
        rows = {(a.entity, a.source_id): a for a in ledger.actions(killed)}
    assert rows[("absence", "a-1")].dest_id == "501"
    assert "write-ahead log" in rows[("absence", "a-1")].reason
    assert rows[("employee", "7")].reason == f"update: {UNKNOWN_OUTCOME}"
    assert ("absence", "a-2") not in rows  # a refused write is logged by the run itself


def test_a_run_stopped_by_a_signal_records_what_it_wrote_before_its_record(
    ledger_url: str, clock: Any
) -> None:
    with Ledger(ledger_url, clock=clock) as ledger:
        run = ledger.start_run("target-personio")
        done = run.intend("work_timers", "t-1", "create", "POST", "/v2/attendance-periods")
        run.settle(done, "done", "p-1")
        run.record("work_timers", "t-0", "create", "1 period", "p-0")
        counts = run.finish("interrupted")
    assert counts == {"work_timers": {"create": 2}}


def test_recorded_writes_leave_no_intent_behind(ledger_url: str, clock: Any) -> None:
    with Ledger(ledger_url, clock=clock) as ledger:
        run = ledger.start_run("target-personio")
        done = run.intend("work_timers", "t-1", "create", "POST", "/v2/attendance-periods")
        run.settle(done, "done", "p-1")
        run.record("work_timers", "t-1", "create", "1 period", "p-1")
        counts = run.finish("interrupted")
    assert counts == {"work_timers": {"create": 1}}  # logged once, not again from its intent
