"""The ledger's library API on SQLite and PostgreSQL (through the `ledger` fixture)."""

from __future__ import annotations

import hashlib
import os
import socket
import subprocess
import sys
import threading
from datetime import UTC, datetime, timedelta, timezone
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import create_engine, inspect, select
from sync_ledger import ACTIONS, Ledger, LedgerError, Link, default_url, fingerprint
from sync_ledger.ledger import this_host
from sync_ledger.migrate import VERSION_TABLE
from sync_ledger.schema import metadata, runs

# --- fingerprint and default location -------------------------------------------------------


def make_it_old(ledger_url: str) -> None:
    """Turn a ledger into one from before the process columns, locks, intents and versions."""
    engine = create_engine(ledger_url)
    with engine.begin() as conn:
        conn.exec_driver_sql("ALTER TABLE ledger_runs DROP COLUMN pid")
        conn.exec_driver_sql("ALTER TABLE ledger_runs DROP COLUMN host")
        for column in ("meltano_run_id", "meltano_job", "meltano_environment"):
            conn.exec_driver_sql(f"ALTER TABLE ledger_runs DROP COLUMN {column}")
        conn.exec_driver_sql("DROP TABLE ledger_locks")
        conn.exec_driver_sql("DROP TABLE ledger_intents")
        conn.exec_driver_sql("DROP TABLE ledger_events")
        conn.exec_driver_sql("DROP TABLE ledger_lookups")
        conn.exec_driver_sql(f"DROP TABLE {VERSION_TABLE}")
    engine.dispose()


def test_fingerprint_is_sha256_of_canonical_json_whatever_the_key_order() -> None:
    canonical = '{"a":1,"b":{"c":[1,"x"],"d":null}}'
    expected = hashlib.sha256(canonical.encode()).hexdigest()
    assert fingerprint({"b": {"d": None, "c": [1, "x"]}, "a": 1}) == expected
    assert fingerprint({"a": 1, "b": {"c": [1, "x"], "d": None}}) == expected


def test_fingerprint_changes_when_a_value_changes() -> None:
    assert fingerprint({"first_name": "A"}) != fingerprint({"first_name": "B"})
    assert fingerprint([1, 2]) != fingerprint([2, 1])


def test_fingerprint_treats_decimals_like_the_numbers_they_hold() -> None:
    assert fingerprint({"hours": Decimal("40")}) == fingerprint({"hours": 40})
    assert fingerprint({"hours": Decimal("37.5")}) == fingerprint({"hours": 37.5})


def test_default_url_is_a_sqlite_file_in_the_meltano_project_root(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("MELTANO_PROJECT_ROOT", str(tmp_path))
    assert default_url() == f"sqlite:///{tmp_path.resolve()}/sync-ledger.db"
    monkeypatch.delenv("MELTANO_PROJECT_ROOT")
    monkeypatch.chdir(tmp_path)
    assert default_url() == f"sqlite:///{tmp_path.resolve()}/sync-ledger.db"


def test_sqlite_ledger_file_and_its_folder_are_created_on_first_use(tmp_path: Path) -> None:
    path = tmp_path / "meltano-project" / ".ledger" / "sync-ledger.db"
    with Ledger(f"sqlite:///{path}") as ledger:
        ledger.save_link("personio", "employee", "1", "10", None)
    assert path.is_file()


# --- links ----------------------------------------------------------------------------------


def test_saved_links_load_in_bulk_per_system_and_entity(ledger: Ledger, clock: Any) -> None:
    ledger.save_link("personio", "employee", "101", "9001", "f1")
    ledger.save_link("personio", "employee", "102", "9002", None, data={"ids": ["a", "b"]})
    ledger.save_link("personio", "absence", "101", "7001", "f3")
    ledger.save_link("staffomatic", "employee", "101", "5", "f4")

    assert ledger.links("personio", "employee") == {
        "101": Link("9001", "f1", clock.now, {}),
        "102": Link("9002", None, clock.now, {"ids": ["a", "b"]}),
    }
    assert set(ledger.links("personio", "absence")) == {"101"}
    assert ledger.links("personio", "attendance") == {}


def test_loaded_links_with_the_same_data_share_one_dict(ledger: Ledger) -> None:
    days: list[dict[str, Any]] = [{"day": "2026-10-08"}, {"day": "2026-10-08"}]
    days.append({"day": "2026-10-09"})
    others: list[dict[str, Any]] = [{"on": True}, {"on": 1}, {"ids": [1]}, {"ids": [1]}]
    for n, data in enumerate(days):
        ledger.save_link("personio", "absence", f"a{n}", f"{n}", "f", data)
    for n, data in enumerate(others):
        ledger.save_link("personio", "absence", f"b{n}", f"{n}", "f", data)

    loaded = ledger.links("personio", "absence")
    assert loaded["a0"].data == loaded["a1"].data == {"day": "2026-10-08"}
    assert loaded["a0"].data is loaded["a1"].data
    assert loaded["a2"].data == {"day": "2026-10-09"}
    assert loaded["b0"].data["on"] is True  # not shared with {"on": 1}
    assert loaded["b1"].data["on"] == 1
    assert loaded["b0"].data is not loaded["b1"].data
    assert loaded["b2"].data == loaded["b3"].data == {"ids": [1]}
    assert loaded["b2"].data is not loaded["b3"].data  # a list is not shared


def test_saving_a_link_again_replaces_destination_fingerprint_data_and_time(
    ledger: Ledger, clock: Any
) -> None:
    ledger.save_link("personio", "absence", "55", "1", "old", data={"parts": ["1"]})
    later = clock.advance(hours=2)
    ledger.save_link("personio", "absence", "55", "2", "new", data={"parts": ["2", "3"]})
    assert ledger.links("personio", "absence") == {
        "55": Link("2", "new", later, {"parts": ["2", "3"]})
    }


def test_integer_ids_are_stored_as_strings(ledger: Ledger) -> None:
    ledger.save_link("personio", "employee", 42, 7, None)  # type: ignore[arg-type]
    assert ledger.links("personio", "employee")["42"].dest_id == "7"


def test_dropped_link_is_gone_and_the_others_stay(ledger: Ledger) -> None:
    ledger.save_link("personio", "absence", "1", "10", "f")
    ledger.save_link("personio", "absence", "2", "20", "f")
    ledger.drop_link("personio", "absence", "1")
    ledger.drop_link("personio", "absence", "unknown")  # dropping nothing is fine
    assert set(ledger.links("personio", "absence")) == {"2"}


def test_times_come_back_timezone_aware_in_utc(ledger: Ledger, clock: Any) -> None:
    clock.now = datetime(2025, 7, 1, 8, 0, tzinfo=timezone(timedelta(hours=2)))
    ledger.save_link("personio", "employee", "1", "2", None)
    stamp = ledger.links("personio", "employee")["1"].updated_at
    assert stamp.utcoffset() == timedelta(0)
    assert stamp == datetime(2025, 7, 1, 6, 0, tzinfo=UTC)


def test_naive_times_are_refused(ledger: Ledger, clock: Any) -> None:
    clock.now = datetime(2025, 7, 1, 8, 0)
    with pytest.raises(Exception, match="timezone-aware"):
        ledger.save_link("personio", "employee", "1", "2", None)


# --- run log --------------------------------------------------------------------------------


def test_finished_run_stores_its_counts_per_entity_and_action(ledger: Ledger, clock: Any) -> None:
    run = ledger.start_run(target="target-staffomatic", dry_run=False)
    run.record("employee", "1", "create", dest_id="100")
    run.record("employee", "2", "update", "e-mail changed", dest_id="200")
    run.record("employee", "3", "lock", "last working day passed", dest_id="300")
    run.record("absence", "9", "fail", "Staffomatic answered 422 (overlapping absence)")
    run.record("absence", "8", "skip", "absence type 4 has no counterpart")
    run.record("absence", "7", "skip", "absence type 4 has no counterpart")
    finished_at = clock.advance(minutes=1)
    counts = run.finish(status="success")

    expected = {
        "absence": {"skip": 2, "fail": 1},
        "employee": {"create": 1, "update": 1, "lock": 1},
    }
    assert counts == expected
    [info] = ledger.runs()
    assert (info.id, info.target, info.dry_run, info.status) == (
        run.id,
        "target-staffomatic",
        False,
        "success",
    )
    assert info.counts == expected
    assert info.finished_at == finished_at
    logged = ledger.actions(run.id)
    assert [(a.entity, a.source_id, a.action) for a in logged][:2] == [
        ("employee", "1", "create"),
        ("employee", "2", "update"),
    ]
    assert logged[1].reason == "e-mail changed"
    assert logged[1].dest_id == "200"


def test_a_run_that_is_not_finished_shows_as_running(ledger: Ledger) -> None:
    run = ledger.start_run(target="target-personio", dry_run=True)
    run.record("attendance", "1", "create")
    run.flush()
    [info] = ledger.runs()
    assert (info.status, info.dry_run, info.finished_at, info.counts) == (
        "running",
        True,
        None,
        None,
    )
    assert ledger.counts(run.id) == {"attendance": {"create": 1}}


def test_many_recorded_actions_are_all_stored(ledger: Ledger) -> None:
    run = ledger.start_run(target="target-staffomatic")
    for n in range(450):
        run.record("employee", str(n), "skip" if n % 3 else "update", "unchanged")
    assert run.finish() == {"employee": {"update": 150, "skip": 300}}
    assert len(ledger.actions(run.id)) == 450


@pytest.mark.parametrize("action", ["insert", "Create", "", "deleted"])
def test_unknown_action_is_rejected(ledger: Ledger, action: str) -> None:
    run = ledger.start_run(target="target-staffomatic")
    with pytest.raises(ValueError, match="unknown ledger action"):
        run.record("employee", "1", action)
    assert run.finish() == {}


def test_every_documented_action_is_accepted(ledger: Ledger) -> None:
    run = ledger.start_run(target="target-staffomatic")
    for action in ACTIONS:
        run.record("employee", action, action)
    assert run.finish() == {"employee": dict.fromkeys(ACTIONS, 1)}


def test_unknown_run_status_is_rejected(ledger: Ledger) -> None:
    run = ledger.start_run(target="target-staffomatic")
    with pytest.raises(ValueError, match="unknown run status"):
        run.finish(status="done")


def test_run_log_older_than_62_days_is_pruned_when_a_run_finishes(
    ledger: Ledger, clock: Any
) -> None:
    old = ledger.start_run(target="target-staffomatic")
    old.record("employee", "1", "create")
    old.finish()
    clock.advance(days=30)
    kept = ledger.start_run(target="target-staffomatic")
    kept.record("employee", "1", "update")
    kept.finish()

    clock.advance(days=32, minutes=1)  # the first run is now 62 days and a minute old
    latest = ledger.start_run(target="target-personio")
    latest.record("attendance", "5", "create")
    latest.finish()

    assert [r.id for r in ledger.runs()] == [latest.id, kept.id]
    assert ledger.actions(old.id) == []
    assert len(ledger.actions(kept.id)) == 1


# --- interrupted runs -----------------------------------------------------------------------


def _status(ledger: Ledger, run_id: int) -> str:
    return next(r.status for r in ledger.runs() if r.id == run_id)


KILLED_CHILD = """
import sys
from sync_ledger import Ledger
with Ledger(sys.argv[1]) as ledger:
    run = ledger.start_run(target="target-personio")
    run.record("attendance", "7", "create")
    run.flush()
    print(run.id, flush=True)
    sys.stdin.readline()
    run.finish()
"""


def test_a_killed_run_stays_running_while_its_process_lives_and_is_interrupted_once_it_is_gone(
    ledger: Ledger, ledger_url: str, clock: Any
) -> None:
    clock.now = datetime.now(UTC)  # the child stamps real times
    child = subprocess.Popen(
        [sys.executable, "-c", KILLED_CHILD, ledger_url],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert child.stdout is not None
        line = child.stdout.readline()
        assert line.strip().isdigit(), child.communicate(timeout=30)
        killed = int(line)
        concurrent = ledger.start_run(target="target-personio")
        assert _status(ledger, killed) == "running"  # its process still runs: left alone
    finally:
        child.kill()
        child.communicate(timeout=30)  # reaped: the process is gone

    ledger.start_run(target="target-personio")

    info = next(r for r in ledger.runs() if r.id == killed)
    assert info.status == "interrupted"
    assert info.counts == {"attendance": {"create": 1}}
    assert info.finished_at is not None
    assert info.finished_at >= info.started_at
    assert _status(ledger, concurrent.id) == "running"  # this process lives


def test_an_unfinished_run_older_than_six_hours_is_interrupted_when_its_target_starts_again(
    ledger: Ledger, clock: Any
) -> None:
    old = ledger.start_run(target="target-staffomatic")  # this process: it looks alive
    old.record("employee", "1", "create")
    old.flush()
    recorded_at = clock.now
    other_target = ledger.start_run(target="target-personio")
    clock.advance(hours=6)
    six_hours_later = ledger.start_run(target="target-staffomatic")
    assert _status(ledger, old.id) == "running"  # exactly six hours: may still be running

    clock.advance(minutes=1)
    ledger.start_run(target="target-staffomatic")

    info = next(r for r in ledger.runs() if r.id == old.id)
    assert (info.status, info.finished_at, info.counts) == (
        "interrupted",
        recorded_at,
        {"employee": {"create": 1}},
    )
    assert _status(ledger, six_hours_later.id) == "running"
    assert _status(ledger, other_target.id) == "running"  # another target's run is not touched


def test_a_run_closed_as_interrupted_without_actions_ends_at_its_start(
    ledger: Ledger, clock: Any
) -> None:
    old = ledger.start_run(target="target-staffomatic", dry_run=True)
    clock.advance(hours=7)
    ledger.start_run(target="target-staffomatic")
    info = next(r for r in ledger.runs() if r.id == old.id)
    assert (info.status, info.finished_at, info.counts) == ("interrupted", info.started_at, {})


def test_a_run_records_the_process_and_a_hash_of_the_host_it_runs_on(ledger: Ledger) -> None:
    run = ledger.start_run(target="target-staffomatic")
    with ledger.engine.connect() as conn:
        row = conn.execute(select(runs.c.pid, runs.c.host).where(runs.c.id == run.id)).one()
    assert row.pid == os.getpid()
    assert row.host == this_host()
    assert socket.gethostname() not in row.host


def test_a_ledger_from_before_the_process_columns_gets_them_and_closes_old_runs_by_age(
    ledger_url: str, clock: Any
) -> None:
    with Ledger(ledger_url, clock=clock) as first:
        stale = first.start_run(target="target-staffomatic")
    make_it_old(ledger_url)  # as the ledger was before the columns were added
    with Ledger(ledger_url, create=False) as reader:  # the report reads an old ledger as is
        assert [r.status for r in reader.runs()] == ["running"]

    clock.advance(hours=5)
    with Ledger(ledger_url, clock=clock) as ledger:
        assert {"pid", "host"} <= {
            c["name"] for c in inspect(ledger.engine).get_columns("ledger_runs")
        }
        ledger.start_run(target="target-staffomatic")
        assert _status(ledger, stale.id) == "running"  # no process known: only its age counts
        clock.advance(hours=1, minutes=1)
        newest = ledger.start_run(target="target-staffomatic")
        assert _status(ledger, stale.id) == "interrupted"
        assert _status(ledger, newest.id) == "running"
    with Ledger(ledger_url, clock=clock) as again:  # opening an up-to-date ledger changes nothing
        assert len(again.runs()) == 3


def test_interrupted_is_an_accepted_run_status(ledger: Ledger) -> None:
    run = ledger.start_run(target="target-staffomatic")
    run.finish(status="interrupted")
    assert _status(ledger, run.id) == "interrupted"


# --- retry queue ----------------------------------------------------------------------------


def test_retry_queue_counts_attempts_keeps_first_failure_and_clears(
    ledger: Ledger, clock: Any
) -> None:
    first = clock.now
    ledger.queue_failure("personio", "employee", "7", "Staffomatic answered 500")
    later = clock.advance(hours=2)
    ledger.queue_failure("personio", "employee", "7", "Staffomatic answered 422 (custom_id)")
    ledger.queue_failure("personio", "absence", "7", "timeout")

    [retry] = ledger.retries("personio", "employee").values()
    assert retry.source_id == "7"
    assert retry.attempts == 2
    assert retry.reason == "Staffomatic answered 422 (custom_id)"
    assert (retry.first_failed_at, retry.last_failed_at) == (first, later)
    assert not retry.given_up

    ledger.clear_retry("personio", "employee", "7")
    assert ledger.retries("personio", "employee") == {}
    assert set(ledger.retries("personio", "absence")) == {"7"}


def test_failures_older_than_retry_days_are_given_up_and_kept_for_the_report(
    ledger: Ledger, clock: Any
) -> None:
    ledger.queue_failure("personio", "employee", "old", "Staffomatic answered 422")
    ledger.queue_failure("staffomatic", "attendance", "other", "Personio answered 400")
    clock.advance(days=5)
    ledger.queue_failure("personio", "employee", "young", "Staffomatic answered 500")
    clock.advance(days=3)
    ledger.queue_failure("personio", "employee", "old", "still failing")  # does not extend

    given_up = ledger.give_up_expired(retry_days=7, system="personio")
    assert [(r.system, r.entity, r.source_id, r.given_up) for r in given_up] == [
        ("personio", "employee", "old", True)
    ]
    assert given_up[0].attempts == 2
    assert set(ledger.retries("personio", "employee")) == {"young"}
    assert set(ledger.retries("personio", "employee", include_given_up=True)) == {"old", "young"}
    assert set(ledger.retries("staffomatic", "attendance")) == {"other"}
    assert ledger.give_up_expired(retry_days=7, system="personio") == []  # reported once

    everything = ledger.give_up_expired(retry_days=7, now=clock.now + timedelta(days=30))
    assert {r.source_id for r in everything} == {"young", "other"}
    assert [r.source_id for r in ledger.all_retries(given_up=True)] == ["old", "other", "young"]


def test_failing_again_after_giving_up_starts_a_new_retry_period(
    ledger: Ledger, clock: Any
) -> None:
    ledger.queue_failure("personio", "absence", "3", "first")
    clock.advance(days=8)
    assert len(ledger.give_up_expired(retry_days=7)) == 1
    restart = clock.advance(days=1)
    ledger.queue_failure("personio", "absence", "3", "changed and failed again")
    [retry] = ledger.retries("personio", "absence").values()
    assert (retry.attempts, retry.first_failed_at, retry.given_up) == (1, restart, False)


# --- schema ---------------------------------------------------------------------------------


def _table_names(url: str) -> set[str]:
    engine = create_engine(url)
    try:
        return set(inspect(engine).get_table_names())
    finally:
        engine.dispose()


def test_schema_creation_is_safe_from_several_threads_at_once(ledger_url: str) -> None:
    workers = 6
    barrier = threading.Barrier(workers)
    errors: list[BaseException] = []

    def open_and_use(n: int) -> None:
        try:
            barrier.wait()
            with Ledger(ledger_url) as ledger:
                ledger.save_link("personio", "employee", str(n), str(n), None)
        except BaseException as exc:  # collected and asserted below
            errors.append(exc)

    threads = [threading.Thread(target=open_and_use, args=(n,)) for n in range(workers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert errors == []
    with Ledger(ledger_url) as ledger:
        assert len(ledger.links("personio", "employee")) == workers


CHILD = """
import sys
from sync_ledger import Ledger
print("ready", flush=True)
sys.stdin.readline()
with Ledger(sys.argv[1]) as ledger:
    ledger.start_run(target=sys.argv[2]).finish()
"""


def _open_from_four_processes_at_once(ledger_url: str) -> None:
    """Four processes open the ledger at the same moment and each records a finished run."""
    children = [
        subprocess.Popen(
            [sys.executable, "-c", CHILD, ledger_url, f"target-{n}"],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for n in range(4)
    ]
    for child in children:  # every child has imported everything and waits
        assert child.stdout is not None
        assert child.stdout.readline().strip() == "ready"
    for child in children:  # then all open the ledger at the same moment
        assert child.stdin is not None
        child.stdin.write("go\n")
        child.stdin.flush()
    outcomes = [child.communicate(timeout=60) for child in children]
    assert [child.returncode for child in children] == [0, 0, 0, 0], outcomes


def test_schema_creation_is_safe_from_several_processes_at_once(ledger_url: str) -> None:
    _open_from_four_processes_at_once(ledger_url)
    assert set(metadata.tables) <= _table_names(ledger_url)
    with Ledger(ledger_url) as ledger:
        assert sorted(r.target for r in ledger.runs()) == [f"target-{n}" for n in range(4)]


def test_adding_the_process_columns_is_safe_from_several_processes_at_once(
    ledger_url: str,
) -> None:
    Ledger(ledger_url).close()
    make_it_old(ledger_url)  # a ledger from before the columns were added
    _open_from_four_processes_at_once(ledger_url)
    with Ledger(ledger_url) as ledger:
        columns = {c["name"] for c in inspect(ledger.engine).get_columns("ledger_runs")}
        assert {"pid", "host"} <= columns
        assert sorted(r.target for r in ledger.runs()) == [f"target-{n}" for n in range(4)]


PERSONAL = ("name", "mail", "phone", "birth", "address", "salary", "iban", "gender")


def test_ledger_tables_have_no_personal_data_columns(ledger: Ledger) -> None:
    columns = {
        table: {c["name"] for c in inspect(ledger.engine).get_columns(table)}
        for table in metadata.tables
    }
    assert columns == {
        "ledger_links": {
            "system",
            "entity",
            "source_id",
            "dest_id",
            "fingerprint",
            "data",
            "updated_at",
        },
        "ledger_runs": {
            "id",
            "target",
            "dry_run",
            "status",
            "started_at",
            "finished_at",
            "counts",
            "pid",
            "host",
            "meltano_run_id",
            "meltano_job",
            "meltano_environment",
        },
        "ledger_actions": {
            "id",
            "run_id",
            "at",
            "entity",
            "source_id",
            "action",
            "reason",
            "dest_id",
        },
        "ledger_locks": {"key", "target", "run_id", "pid", "host", "acquired_at"},
        "ledger_intents": {
            "id",
            "run_id",
            "at",
            "entity",
            "source_id",
            "action",
            "method",
            "path",
            "outcome",
            "dest_id",
        },
        "ledger_retries": {
            "system",
            "entity",
            "source_id",
            "reason",
            "attempts",
            "first_failed_at",
            "last_failed_at",
            "given_up",
        },
        "ledger_events": {
            "id",
            "received_at",
            "event",
            "area",
            "record_id",
            "status",
            "attempts",
            "next_try_at",
            "finished_at",
            "reason",
            "delivery_key",  # a hash of the delivery's fields, not the fields
        },
        "ledger_lookups": {"key", "what", "etag", "body", "updated_at"},
    }
    names = {name for cols in columns.values() for name in cols}
    assert not [n for n in names for word in PERSONAL if word in n]


# --- errors ---------------------------------------------------------------------------------


def test_unreachable_database_is_one_clear_sentence_without_the_password() -> None:
    with pytest.raises(LedgerError) as caught:
        Ledger("postgresql+psycopg://sync:s3cret-pw@127.0.0.1:1/ledger")
    message = str(caught.value)
    assert "s3cret-pw" not in message
    assert message.startswith("Cannot open the sync ledger at postgresql+psycopg://sync:***@")
    assert "check the ledger_url setting" in message
    assert "\n" not in message


def test_invalid_ledger_url_names_the_accepted_forms() -> None:
    with pytest.raises(LedgerError, match=r"not valid.*postgresql\+psycopg://"):
        Ledger("ledger.db")


def test_other_databases_are_refused_with_the_supported_ones_named() -> None:
    with pytest.raises(LedgerError, match="runs on SQLite or PostgreSQL"):
        Ledger("mysql+pymysql://sync:pw@127.0.0.1/ledger")


def test_opening_without_create_refuses_a_missing_sqlite_file(tmp_path: Path) -> None:
    path = tmp_path / "missing.db"
    with pytest.raises(LedgerError, match="There is no sync ledger at"):
        Ledger(f"sqlite:///{path}", create=False)
    assert not path.exists()
