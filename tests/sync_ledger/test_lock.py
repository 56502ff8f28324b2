"""One run at a time per destination account, through a lock held in the ledger's database."""

from __future__ import annotations

import os
import signal
import stat
import subprocess
import sys
from pathlib import Path

import pytest
from sync_ledger import Ledger, LedgerError
from sync_ledger.lock import LockBusy, RunLock


class FakeTime:
    """A monotonic clock that sleeping moves forward (no real waiting)."""

    def __init__(self) -> None:
        self.now = 0.0
        self.slept: list[float] = []

    def clock(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        self.now += seconds


def _lock(ledger: Ledger, account: str, wait: float, time: FakeTime) -> RunLock:
    return RunLock(
        ledger, "target-staffomatic", account, wait=wait, clock=time.clock, sleep=time.sleep
    )


def test_a_second_run_on_the_same_account_waits_then_names_the_run_holding_the_lock(
    ledger_url: str,
) -> None:
    time = FakeTime()
    with Ledger(ledger_url) as first, Ledger(ledger_url) as second:
        holder = _lock(first, "acme", 0, time)
        with holder:
            run = first.start_run("target-staffomatic")
            holder.held_by_run(run.id)
            with pytest.raises(LockBusy) as caught:
                _lock(second, "acme", 30, time).acquire()
        message = str(caught.value)
        assert message.startswith("Another run of target-staffomatic (run ")
        assert f"run {run.id}, process {os.getpid()} on this host" in message
        assert "waited 30 s" in message
        assert "\n" not in message
        assert 29.5 <= sum(time.slept) <= 30  # it waited the whole setting, in short polls
        assert max(time.slept) <= 0.5
        with _lock(second, "acme", 0, time):  # released: the next run goes ahead at once
            pass


def test_runs_on_different_accounts_do_not_wait_for_each_other(ledger_url: str) -> None:
    time = FakeTime()
    with (
        Ledger(ledger_url) as ledger,
        _lock(ledger, "acme", 0, time),
        _lock(ledger, "globex", 0, time),
    ):
        assert time.slept == []


def test_a_run_waiting_for_the_lock_goes_ahead_when_the_holder_finishes(ledger_url: str) -> None:
    with Ledger(ledger_url) as first, Ledger(ledger_url) as second:
        holder = _lock(first, "acme", 0, FakeTime())
        holder.acquire()
        time = FakeTime()

        def finish_holder(seconds: float) -> None:
            time.sleep(seconds)
            if len(time.slept) == 3:
                holder.release()

        waiting = RunLock(
            second, "target-staffomatic", "acme", wait=60, clock=time.clock, sleep=finish_holder
        )
        with waiting:
            assert len(time.slept) == 3


HOLD = """
import sys, time
from sync_ledger import Ledger
from sync_ledger.lock import RunLock
ledger = Ledger(sys.argv[1])
lock = RunLock(ledger, "target-personio", "acme", wait=0)
lock.acquire()
print("held", flush=True)
time.sleep(120)
"""


def test_the_lock_of_a_killed_run_frees_itself(ledger_url: str) -> None:
    Ledger(ledger_url).close()
    child = subprocess.Popen(
        [sys.executable, "-c", HOLD, ledger_url], stdout=subprocess.PIPE, text=True
    )
    try:
        assert child.stdout is not None
        assert child.stdout.readline().strip() == "held"
        time = FakeTime()
        with Ledger(ledger_url) as ledger:
            with pytest.raises(LockBusy, match="Another run of target-personio"):
                RunLock(ledger, "target-personio", "acme", wait=0).acquire()
            child.send_signal(signal.SIGKILL)
            child.wait(timeout=10)
            lock = RunLock(
                ledger, "target-personio", "acme", wait=30, clock=time.clock, sleep=_real_sleep
            )
            with lock:
                pass
    finally:
        child.kill()
        child.wait(timeout=10)
        if child.stdout is not None:
            child.stdout.close()


def _real_sleep(seconds: float) -> None:  # PostgreSQL notices the closed session at once
    import time

    time.sleep(min(seconds, 0.1))


# --- the ledger's files and location ---------------------------------------------------------


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_an_sqlite_ledger_and_its_lock_files_are_readable_by_their_owner_only(
    tmp_path: Path,
) -> None:
    path = tmp_path / "sync-ledger.db"
    with Ledger(f"sqlite:///{path}") as ledger:
        ledger.start_run("target-personio").finish()
        with RunLock(ledger, "target-personio", "acme", wait=0):
            made = sorted(p.name for p in tmp_path.iterdir())
            assert any("-lock-" in name for name in made)
            assert {name: _mode(tmp_path / name) for name in made} == dict.fromkeys(made, 0o600)


def test_a_ledger_file_left_readable_by_others_is_made_private(tmp_path: Path) -> None:
    path = tmp_path / "sync-ledger.db"
    Ledger(f"sqlite:///{path}").close()
    path.chmod(0o644)
    Ledger(f"sqlite:///{path}").close()
    assert _mode(path) == 0o600


def test_a_ledger_folder_that_cannot_be_created_is_one_sentence(tmp_path: Path) -> None:
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("")
    with pytest.raises(LedgerError) as caught:
        Ledger(f"sqlite:///{blocker}/ledger/sync-ledger.db")
    message = str(caught.value)
    assert message.startswith(f"Cannot create the folder {blocker}/ledger for the sync ledger (")
    assert "ledger_url (SYNC_LEDGER_URL)" in message
    assert "\n" not in message


def test_a_read_only_ledger_is_one_sentence(tmp_path: Path) -> None:
    path = tmp_path / "sync-ledger.db"
    Ledger(f"sqlite:///{path}").close()
    read_only = f"sqlite:///file:{path}?mode=ro&uri=true"
    with pytest.raises(LedgerError) as caught:
        Ledger(read_only)
    message = str(caught.value)
    assert "is read-only" in message
    assert "make the file and its folder writable" in message
    assert "\n" not in message
