"""The Meltano project end to end: jobs, schedules and scripts/sync.py against the sandbox.

Every test runs real ``meltano`` commands in a project installed once per session (conftest),
against a fresh demo-seeded sandbox, and reads the outcome back through ``/_sandbox/state``,
``/_sandbox/requests`` and the ledger.
"""

from __future__ import annotations

import fcntl
import json
import signal
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path
from typing import Any

import pytest
from sandbox.admin import Admin
from sync_ledger import Ledger

from tests.e2e.helpers import (
    TIMER_PEOPLE,
    Sync,
    add_verified_timer,
    delete_absence_period,
    ok,
    rename_employee,
    state,
    users_by_person,
    writes,
)

pytestmark = pytest.mark.slow

LINKED_BEFORE = {"1001", "1007", "1008", "1009", "1011", "1015", "1017", "1019", "1022"}
MATCHED_BY_EMAIL = {"1002", "1003", "1012"}
CREATED = {"1004", "1006", "1013", "1014", "1016", "1018", "1020", "1021"}


def new_ids(before: dict[str, Any], after: dict[str, Any], collection: str) -> set[Any]:
    return {r["id"] for r in after[collection]} - {r["id"] for r in before[collection]}


def assert_people_and_timers_synced(
    sync: Sync, personio_before: dict[str, Any], personio: dict[str, Any]
) -> None:
    """Users created, linked, locked and unlocked; verified timers in Personio."""
    staffomatic = state(sync.staffomatic)
    users = users_by_person(staffomatic)
    assert set(users) == LINKED_BEFORE | MATCHED_BY_EMAIL | CREATED  # not 1005 (no e-mail) or 1010
    locked = {person for person, user in users.items() if user["locked_at"]}
    assert locked == {"1006", "1007", "1008"}  # hired in two weeks; last day passed; inactive
    xaver = next(u for u in staffomatic["users"] if u["last_name"] == "Unbekannt")
    assert xaver["custom_id"] is None  # a user made by hand is never touched
    added = new_ids(personio_before, personio, "attendance_periods")
    periods = [p for p in personio["attendance_periods"] if p["id"] in added]
    assert {p["person"]["id"] for p in periods} == TIMER_PEOPLE


def assert_nothing_written_again(sync: Sync) -> None:
    """A second full sync writes nothing but one retry of each write that was refused."""
    with Ledger(sync.ledger_url) as ledger:
        queued = Counter(r.system for r in ledger.all_retries(given_up=False))
    personio, staffomatic = writes(sync.personio), writes(sync.staffomatic)
    ok(sync.meltano("run", "--full-refresh", "sync-all"))
    assert writes(sync.personio) - personio == queued["staffomatic"]
    assert writes(sync.staffomatic) - staffomatic == queued["personio"]


def test_one_variable_sets_the_absence_source_and_the_windows_of_every_plugin(
    sync: Sync,
) -> None:
    def config(plugin: str, **env: str) -> dict[str, Any]:
        done = ok(sync.meltano("config", "print", plugin, **env))
        return dict(json.loads(done.stdout))

    for plugin in ("target-staffomatic", "target-personio"):
        assert config(plugin)["absence_source"] == "personio"
        assert config(plugin, ABSENCE_SOURCE="staffomatic")["absence_source"] == "staffomatic"
    windows = {"ABSENCE_WINDOW_PAST_DAYS": "30", "RETRY_DAYS": "3"}
    for plugin in ("tap-personio--absences", "tap-staffomatic--absences", "target-personio"):
        assert config(plugin, **windows)["absence_window_past_days"] == 30
    assert config("tap-staffomatic--timers", **windows)["timer_window_days"] == 3
    assert config("target-personio", **windows)["retry_days"] == 3


def test_full_sync_with_personio_leading_absences_syncs_every_area_and_then_writes_nothing(
    sync: Sync,
) -> None:
    personio_before, staffomatic_before = state(sync.personio), state(sync.staffomatic)
    ok(sync.meltano("run", "sync-all"))

    personio = state(sync.personio)
    assert_people_and_timers_synced(sync, personio_before, personio)
    assert personio["absence_periods"] == personio_before["absence_periods"]  # never both ways
    # Every pending or approved Personio absence of a person with a user, except the type
    # Staffomatic lacks (Parental leave), is now a Staffomatic absence, approval mirrored.
    staffomatic = state(sync.staffomatic)
    users = users_by_person(staffomatic)
    types = {t["id"]: t["name"] for t in personio["absence_types"]}
    expected = Counter(
        p["approval"]["status"]
        for p in personio["absence_periods"]
        if p["approval"]["status"] in ("APPROVED", "PENDING")
        and types[p["absence_type"]["id"]] != "Parental leave"
        and p["person"]["id"] in users
    )
    added = new_ids(staffomatic_before, staffomatic, "absences")
    created = Counter(a["state"] for a in staffomatic["absences"] if a["id"] in added)
    assert created == {"approved": expected["APPROVED"], "new": expected["PENDING"]}

    assert_nothing_written_again(sync)


def test_full_sync_with_staffomatic_leading_absences_syncs_every_area_and_then_writes_nothing(
    sync: Sync,
) -> None:
    sync.env["ABSENCE_SOURCE"] = "staffomatic"
    personio_before, staffomatic_before = state(sync.personio), state(sync.staffomatic)
    ok(sync.meltano("run", "sync-all"))

    personio = state(sync.personio)
    assert_people_and_timers_synced(sync, personio_before, personio)
    staffomatic = state(sync.staffomatic)
    assert staffomatic["absences"] == staffomatic_before["absences"]  # never both ways
    # Approved Staffomatic absences became approved Personio absence periods.
    added = new_ids(personio_before, personio, "absence_periods")
    periods = [p for p in personio["absence_periods"] if p["id"] in added]
    assert periods
    assert {p["approval"]["status"] for p in periods} == {"APPROVED"}
    by_user = {u["id"]: u.get("custom_id") for u in staffomatic["users"]}
    approved_people = {
        by_user[a["applicant_id"]] for a in staffomatic["absences"] if a["state"] == "approved"
    }
    assert {p["person"]["id"] for p in periods} <= approved_people

    assert_nothing_written_again(sync)


def test_incremental_schedule_carries_changes_and_only_the_daily_full_refresh_removes_a_deletion(
    sync: Sync,
) -> None:
    ok(sync.meltano("schedule", "run", "daily-full-refresh"))
    anna = users_by_person(state(sync.staffomatic))["1001"]

    rename_employee(sync.personio, 1012, "Wolf-Berger")
    timer = add_verified_timer(sync.staffomatic, anna["id"], days_ago=2)
    personio_before = state(sync.personio)
    partial = ok(sync.meltano("schedule", "run", "incremental-every-2h"))
    assert "Performing full refresh" not in partial.stderr

    assert users_by_person(state(sync.staffomatic))["1012"]["last_name"] == "Wolf-Berger"
    personio = state(sync.personio)
    added = new_ids(personio_before, personio, "attendance_periods")
    assert [p["person"]["id"] for p in personio["attendance_periods"] if p["id"] in added] == [
        "1001"
    ]
    with Ledger(sync.ledger_url) as ledger:
        assert str(timer) in ledger.links("staffomatic", "work_timers")
        absence_links = ledger.links("personio", "absence")

    # Anna's approved vacation is deleted in Personio: an incremental read cannot see that.
    period = next(
        p
        for p in personio["absence_periods"]
        if p["person"]["id"] == "1001" and p["id"] in absence_links
    )
    linked = int(absence_links[period["id"]].dest_id)
    delete_absence_period(sync.personio, period["id"])
    ok(sync.meltano("schedule", "run", "incremental-every-2h"))
    assert linked in {a["id"] for a in state(sync.staffomatic)["absences"]}
    full = ok(sync.meltano("schedule", "run", "daily-full-refresh"))  # the schedule's full refresh
    assert "Performing full refresh" in full.stderr
    remaining = state(sync.staffomatic)["absences"]
    assert linked not in {a["id"] for a in remaining}
    assert any(a["applicant_id"] == anna["id"] for a in remaining)  # her other absence stays


def test_dry_run_writes_nothing_keeps_no_bookmark_and_records_the_plan(sync: Sync) -> None:
    done = ok(sync.script("--dry-run", "sync-all"))
    assert "All 2 tasks succeeded." in done.stdout  # one target run per pipeline
    assert writes(sync.personio) == 0
    assert writes(sync.staffomatic) == 0
    assert ok(sync.meltano("state", "list")).stdout.strip() == ""

    plan = ok(sync.meltano("invoke", "sync-ledger", "plan", "--target", "target-personio"))
    assert "dry run   yes" in plan.stdout
    assert "work_timers / create (5)" in plan.stdout  # the five verified, settled timers
    plan = ok(sync.meltano("invoke", "sync-ledger", "plan", "--target", "target-staffomatic"))
    # absences of users the same dry run would create or link are planned, as the real run does
    assert "absence / create (10)" in plan.stdout
    assert "employee 1002 has no linked Staffomatic user" not in plan.stdout
    with Ledger(sync.ledger_url) as ledger:
        assert ledger.links("personio", "employee") == {}  # a dry run links nothing


def test_a_failing_area_does_not_stop_the_others(sync: Sync) -> None:
    # Personio refuses the employees pipeline's credential (only that extractor's).
    personio_before, staffomatic_before = state(sync.personio), state(sync.staffomatic)
    done = sync.script("daily-full-refresh", TAP_PERSONIO__EMPLOYEES_CLIENT_SECRET="wrong-secret")

    assert done.returncode == 1
    assert "1 of 3 tasks failed: tap-personio--employees target-staffomatic" in done.stderr
    assert "wrong-secret" not in done.stdout + done.stderr
    staffomatic = state(sync.staffomatic)
    assert len(staffomatic["users"]) == len(staffomatic_before["users"])  # employees: failed
    # absences of the employees linked before the run, and the timers, went through
    assert new_ids(staffomatic_before, staffomatic, "absences")
    added = new_ids(personio_before, state(sync.personio), "attendance_periods")
    assert added


def catalog_times(project: Path) -> dict[str, int]:
    kept = project / ".meltano" / "sync-catalogs"
    return {path.stem: path.stat().st_mtime_ns for path in kept.glob("*.json")}


def test_the_schedule_skips_the_absences_into_the_leading_system_and_keeps_its_catalogs(
    sync: Sync,
) -> None:
    for kept in (sync.project / ".meltano" / "sync-catalogs").glob("*"):
        kept.unlink()  # other tests of the session may have kept them
    ready = ok(sync.script("--catalogs-only", "daily-full-refresh"))
    extractors = {"tap-personio--employees", "tap-personio--absences", "tap-staffomatic--timers"}
    for extractor in extractors:
        assert f"discovering the catalog of {extractor}" in ready.stdout
    assert ready.stderr.count("Running catalog discovery") == 3  # once each, by sync.py
    assert "3 of 3 catalogs ready; no task was run." in ready.stdout
    assert writes(sync.personio) + writes(sync.staffomatic) == 0
    assert set(catalog_times(sync.project)) == extractors
    # the extractor of the skipped task is not even keyed (resolving its settings takes time)
    assert set(sync.facts("daily-full-refresh")["extractors"]) == extractors
    employees = json.loads(
        (sync.project / ".meltano" / "sync-catalogs" / "tap-personio--employees.json").read_text()
    )
    selected = [
        s["tap_stream_id"]
        for s in employees["streams"]
        if any(m["breadcrumb"] == [] and m["metadata"].get("selected") for m in s["metadata"])
    ]
    assert selected == ["employees"]  # meltano.yml's select rules are applied

    times = catalog_times(sync.project)
    # Meltano starts once for the whole sync (scripts/meltano_runner.py), not once per task: the
    # `meltano` command is never started (it only counts here, then runs Meltano as it would).
    starts = sync.project / "meltano-starts"
    starts.unlink(missing_ok=True)
    counting = sync.project / "counting-meltano"
    counting.write_text(
        f"#!{sys.executable}\n"
        "import sys\n"
        f"open({str(starts)!r}, 'a').write(' '.join(sys.argv[1:]) + '\\n')\n"
        "from meltano.cli import main\n"
        "sys.exit(main())\n"
    )
    counting.chmod(0o700)
    done = ok(sync.script("daily-full-refresh", SYNC_MELTANO=str(counting)))
    assert not starts.exists()
    skipped = "tap-staffomatic--absences target-personio"
    assert f"-- daily-full-refresh: skipped {skipped}: Personio leads absences" in done.stdout
    assert f"-- daily-full-refresh: {skipped}" not in done.stdout
    assert "All 3 tasks succeeded." in done.stdout
    assert "discovering the catalog" not in done.stdout
    assert "Running catalog discovery" not in done.stderr  # no --discover of any tap
    assert done.stderr.count("Using custom catalog") == 3
    assert catalog_times(sync.project) == times

    # A setting of one extractor changed: only its catalog is discovered again.
    again = ok(sync.script("incremental-every-2h", TAP_PERSONIO__EMPLOYEES_LOOKBACK_MINUTES="120"))
    assert "discovering the catalog of tap-personio--employees" in again.stdout
    assert again.stdout.count("discovering the catalog") == 1
    changed = catalog_times(sync.project)
    assert changed["tap-personio--employees"] != times["tap-personio--employees"]
    assert {k: v for k, v in changed.items() if k != "tap-personio--employees"} == {
        k: v for k, v in times.items() if k != "tap-personio--employees"
    }


def test_with_staffomatic_leading_the_schedule_skips_the_absences_into_staffomatic(
    sync: Sync,
) -> None:
    done = ok(sync.script("incremental-every-2h", ABSENCE_SOURCE="staffomatic"))
    skipped = "tap-personio--absences target-staffomatic"
    assert f"-- incremental-every-2h: skipped {skipped}: Staffomatic leads absences" in done.stdout
    assert "-- incremental-every-2h: tap-staffomatic--absences target-personio" in done.stdout
    assert "All 3 tasks succeeded." in done.stdout
    keyed = sync.facts("incremental-every-2h", ABSENCE_SOURCE="staffomatic")["extractors"]
    assert set(keyed) == {
        "tap-personio--employees",
        "tap-staffomatic--absences",
        "tap-staffomatic--timers",
    }


def test_meltano_run_of_a_job_stops_at_its_first_failing_task(sync: Sync) -> None:
    """Why the schedules run through scripts/sync.py (documented in the README)."""
    done = sync.meltano("run", "sync-all", TAP_PERSONIO__EMPLOYEES_CLIENT_SECRET="wrong-secret")
    assert done.returncode == 1
    assert writes(sync.personio) == 0  # the timers never ran


def wait_until_a_sync_holds_the_project(project: Path) -> None:
    lock = project / ".meltano" / "sync.lock"
    deadline = time.monotonic() + 60
    while True:
        if lock.exists():
            with lock.open("a") as probe:
                try:
                    fcntl.flock(probe, fcntl.LOCK_EX | fcntl.LOCK_NB)
                    fcntl.flock(probe, fcntl.LOCK_UN)
                except BlockingIOError:
                    return
        assert time.monotonic() < deadline, "no sync took the project's lock"
        time.sleep(0.05)


def test_two_full_syncs_at_once_end_as_one_and_one_that_cannot_wait_says_why(
    sync: Sync,
) -> None:
    """Two `scripts/sync.py daily-full-refresh` started together (cron overlapping a manual
    run): the second waits for the first, then finds everything done; the end state is one full
    sync's, with no duplicate, and a further run writes nothing. A third that may not wait stops
    with one sentence naming the sync it found running."""
    personio_before = state(sync.personio)
    command = [sys.executable, "scripts/sync.py", "daily-full-refresh"]
    runs = [
        subprocess.Popen(
            command,
            cwd=sync.project,
            env=sync.env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        for _ in range(2)
    ]
    wait_until_a_sync_holds_the_project(sync.project)
    impatient = sync.script("daily-full-refresh", "--wait", "0")
    outputs = [run.communicate(timeout=900)[0] for run in runs]
    assert [run.returncode for run in runs] == [0, 0], [o[-3000:] for o in outputs]
    assert all("All 3 tasks succeeded." in output for output in outputs)
    assert impatient.returncode == 1
    assert impatient.stderr.startswith(
        "Another sync of this project is running (scripts/sync.py daily-full-refresh, process "
    )
    assert "waited 0 s for it to end" in impatient.stderr

    personio = state(sync.personio)
    assert_people_and_timers_synced(sync, personio_before, personio)
    staffomatic = state(sync.staffomatic)
    keys = Counter(
        (a["applicant_id"], a["starts_at"], a["ends_at"], a["absence_type_id"])
        for a in staffomatic["absences"]
    )
    assert [key for key, count in keys.items() if count > 1] == []  # no duplicate absence
    periods = Counter(
        (p["person"]["id"], p["start"]["date_time"]) for p in personio["attendance_periods"]
    )
    assert [key for key, count in periods.items() if count > 1] == []
    with Ledger(sync.ledger_url) as ledger:
        targets = Counter(r.target for r in ledger.runs() if r.status == "success")
    # two syncs: employees and absences into Staffomatic, timers into Personio (the absences into
    # Personio, which leads them, are skipped)
    assert targets == {"target-staffomatic": 4, "target-personio": 2}
    # what the runs leave behind (ledger, Meltano's database and run files) is private
    ledger_file = Path(sync.ledger_url.removeprefix("sqlite:///"))
    meltano = sync.project / ".meltano"
    configs = (meltano / "run").rglob("*.json")  # the plugins' generated config, with secrets
    kept = meltano.glob("sync-catalogs/*")  # the catalogs scripts/sync.py keeps
    parsed = list(meltano.glob("sync-parsed/*"))  # and its runner's parse of meltano.yml
    left = [*ledger_file.parent.glob("*.db*"), *configs, *meltano.glob("logs/**/*"), *kept]
    readable = [str(p) for p in [*left, *parsed] if p.is_file() and p.stat().st_mode & 0o077]
    assert ledger_file.exists()
    assert len(parsed) == 1
    assert readable == []
    # (after the check: a plain `meltano run` makes files under the shell's umask)
    assert_nothing_written_again(sync)


def test_a_stopped_sync_stops_its_running_task_at_once_and_starts_no_other(sync: Sync) -> None:
    """SIGTERM to scripts/sync.py reaches its one Meltano process and the plugins: Meltano
    cancels the running task, the runner starts no other, and all ends well before the grace
    period after which the script would kill what is left."""
    with Admin(sync.personio) as personio:
        personio.faults(latency_ms=2000)  # the first task reads Personio slowly
        before = personio.requests()["total"]
    command = [sys.executable, "scripts/sync.py", "daily-full-refresh"]
    with subprocess.Popen(
        command, cwd=sync.project, env=sync.env, stdout=subprocess.PIPE, stderr=subprocess.PIPE
    ) as run:
        with Admin(sync.personio) as personio:
            deadline = time.monotonic() + 120
            while personio.requests()["total"] == before:  # the first task's tap is reading
                assert time.monotonic() < deadline, "the first task never reached Personio"
                time.sleep(0.1)
        stopped = time.monotonic()
        run.send_signal(signal.SIGTERM)
        out, err = run.communicate(timeout=120)
    assert run.returncode == 128 + signal.SIGTERM
    assert time.monotonic() - stopped < 20  # not the 30 s grace period: Meltano stopped itself
    assert "-- daily-full-refresh: tap-personio--employees target-staffomatic" in out.decode()
    assert "tap-personio--absences target-staffomatic" not in out.decode()
    assert "Stopped by SIGTERM" in err.decode()
