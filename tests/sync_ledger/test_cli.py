"""`sync-ledger report` and `sync-ledger plan` through the command's entry point, both backends."""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sync_ledger import Ledger, events
from sync_ledger.cli import main, parse_since


def run_cli(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    code = main(list(args))
    out, err = capsys.readouterr()
    return code, out, err


def fill(ledger: Ledger, clock: Any) -> None:
    """A real run, a dry run of the same target and a run of the other target, in that order."""
    run = ledger.start_run(target="target-staffomatic")
    run.record("employee", "101", "create", "new employee", dest_id="9001")
    run.record("employee", "102", "update", "e-mail changed", dest_id="9002")
    run.record("employee", "103", "fail", "Staffomatic answered 422: custom_id taken")
    run.record("employee", "104", "skip", "office 7 has no Staffomatic location")
    run.record("absence", "55", "approve", dest_id="700")
    clock.advance(minutes=2)
    run.finish()
    ledger.queue_failure("personio", "employee", "103", "Staffomatic answered 422: custom_id taken")
    clock.advance(days=8)
    ledger.give_up_expired(retry_days=7)
    ledger.queue_failure("personio", "absence", "56", "Staffomatic answered 503")

    dry = ledger.start_run(target="target-staffomatic", dry_run=True)
    dry.record("employee", "105", "create", "new employee")
    dry.record("employee", "106", "create", "new employee")
    dry.record("employee", "101", "lock", "last working day passed", dest_id="9001")
    dry.record("absence", "57", "delete", "cancelled in Personio", dest_id="701")
    clock.advance(minutes=1)
    dry.finish()

    clock.advance(hours=1)
    other = ledger.start_run(target="target-personio")
    other.record("attendance", "t-1", "create", dest_id="a-1")
    clock.advance(minutes=1)
    other.finish()


def row(out: str, first: str) -> list[str]:
    """The cells of the first table line that starts with ``first`` (cells hold no double space)."""
    line = next(line for line in out.splitlines() if line.startswith(first))
    return [cell.strip() for cell in line.split("  ") if cell.strip()]


def test_report_shows_the_last_run_as_a_table(
    ledger: Ledger, ledger_url: str, clock: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    fill(ledger, clock)
    code, out, _ = run_cli(capsys, "--ledger-url", ledger_url, "report")
    assert code == 0
    assert out.startswith("Run 3: target-personio\n  started   2025-03-11 07:33:00 UTC\n")
    assert "  finished  2025-03-11 07:34:00 UTC\n  dry run   no\n  status    success\n" in out
    assert row(out, "entity") == ["entity", "create", "total"]
    assert row(out, "attendance") == ["attendance", "1", "1"]
    assert "target-staffomatic" not in out
    assert "Retry queue: 1 waiting, 1 given up." in out
    assert row(out, "personio") == [
        "personio",
        "employee",
        "103",
        "1",
        "2025-03-03 06:32:00 UTC",
        "Staffomatic answered 422: custom_id taken",
    ]


def test_report_of_one_target_shows_its_last_run(
    ledger: Ledger, ledger_url: str, clock: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    fill(ledger, clock)
    code, out, _ = run_cli(
        capsys, "--ledger-url", ledger_url, "report", "--target", "target-staffomatic"
    )
    assert code == 0
    assert out.startswith("Run 2: target-staffomatic\n")
    assert "  dry run   yes\n" in out
    assert row(out, "entity") == ["entity", "create", "lock", "delete", "total"]
    assert row(out, "employee") == ["employee", "2", "1", "0", "3"]
    assert row(out, "absence") == ["absence", "0", "0", "1", "1"]
    assert "Failures" not in out  # the dry run had none


def test_report_since_lists_every_run_since_then_with_failures_and_skips(
    ledger: Ledger, ledger_url: str, clock: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    fill(ledger, clock)
    code, out, _ = run_cli(
        capsys, "--ledger-url", ledger_url, "report", "--since", "2025-03-01",
        "--target", "target-staffomatic",
    )  # fmt: skip
    assert code == 0
    assert out.index("Run 1: target-staffomatic") < out.index("Run 2: target-staffomatic")
    assert "target-personio" not in out
    failures = out[out.index("Failures (1)") :]
    assert row(failures, "entity") == ["entity", "source id", "destination id", "reason"]
    assert row(failures, "employee") == [
        "employee",
        "103",
        "-",
        "Staffomatic answered 422: custom_id taken",
    ]
    skips = out[out.index("Skips (1)") :]
    assert row(skips, "employee")[1:] == ["104", "-", "office 7 has no Staffomatic location"]


def test_report_since_a_duration_counts_back_from_now(
    ledger: Ledger, ledger_url: str, clock: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    clock.now = datetime.now(UTC) - timedelta(days=10)
    ledger.start_run(target="target-staffomatic").finish()
    clock.now = datetime.now(UTC) - timedelta(days=2)
    recent = ledger.start_run(target="target-staffomatic")
    recent.finish()
    code, out, _ = run_cli(capsys, "--ledger-url", ledger_url, "report", "--since", "7d")
    assert code == 0
    assert out.startswith(f"Run {recent.id}: target-staffomatic\n")
    assert out.count("Run ") == 1
    assert "No records were processed." in out


def test_report_json_holds_runs_counts_failures_skips_and_given_up_retries(
    ledger: Ledger, ledger_url: str, clock: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    fill(ledger, clock)
    code, out, _ = run_cli(
        capsys, "--ledger-url", ledger_url, "report", "--since", "2025-03-03T07:00+01:00",
        "--format", "json",
    )  # fmt: skip
    assert code == 0
    data = json.loads(out)
    assert [(r["id"], r["target"], r["dry_run"]) for r in data["runs"]] == [
        (1, "target-staffomatic", False),
        (2, "target-staffomatic", True),
        (3, "target-personio", False),
    ]
    first = data["runs"][0]
    assert first["status"] == "success"
    assert first["started_at"] == "2025-03-03T06:30:00+00:00"
    assert first["finished_at"] == "2025-03-03T06:32:00+00:00"
    assert first["counts"] == {
        "absence": {"approve": 1},
        "employee": {"create": 1, "update": 1, "skip": 1, "fail": 1},
    }
    assert [(f["source_id"], f["reason"]) for f in first["failures"]] == [
        ("103", "Staffomatic answered 422: custom_id taken")
    ]
    assert [(s["source_id"], s["reason"]) for s in first["skips"]] == [
        ("104", "office 7 has no Staffomatic location")
    ]
    assert data["retries_waiting"] == 1
    assert [
        (g["system"], g["entity"], g["source_id"], g["attempts"]) for g in data["given_up"]
    ] == [("personio", "employee", "103", 1)]


def test_plan_lists_the_last_dry_run_per_entity_and_action(
    ledger: Ledger, ledger_url: str, clock: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    fill(ledger, clock)
    code, out, _ = run_cli(capsys, "--ledger-url", ledger_url, "plan")
    assert code == 0
    assert out.startswith("Plan of dry run 2: target-staffomatic\n")
    sections = out.split("\n\n")
    assert sections[2:] == [
        "absence / delete (1)\n"
        "source id  destination id  reason\n"
        "57         701             cancelled in Personio",
        "employee / create (2)\n"
        "source id  destination id  reason\n"
        "105        -               new employee\n"
        "106        -               new employee",
        "employee / lock (1)\n"
        "source id  destination id  reason\n"
        "101        9001            last working day passed\n",
    ]


def test_plan_json_groups_rows_per_entity_and_action(
    ledger: Ledger, ledger_url: str, clock: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    fill(ledger, clock)
    code, out, _ = run_cli(
        capsys, "--ledger-url", ledger_url, "plan", "--target", "target-staffomatic",
        "--format", "json",
    )  # fmt: skip
    assert code == 0
    (data,) = json.loads(out)["plans"]
    assert data["run"]["id"] == 2
    assert data["run"]["dry_run"] is True
    assert data["run"]["counts"] == {"absence": {"delete": 1}, "employee": {"create": 2, "lock": 1}}
    assert data["plan"] == {
        "absence": {
            "delete": [{"source_id": "57", "dest_id": "701", "reason": "cancelled in Personio"}]
        },
        "employee": {
            "create": [
                {"source_id": "105", "dest_id": None, "reason": "new employee"},
                {"source_id": "106", "dest_id": None, "reason": "new employee"},
            ],
            "lock": [{"source_id": "101", "dest_id": "9001", "reason": "last working day passed"}],
        },
    }


def test_plan_since_shows_every_dry_run_of_that_time_oldest_first(
    ledger: Ledger, ledger_url: str, clock: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    fill(ledger, clock)
    clock.advance(minutes=5)
    later = ledger.start_run(target="target-personio", dry_run=True)
    later.record("work_timers", "91001", "create", "verified timer")
    later.finish()
    code, out, _ = run_cli(
        capsys, "--ledger-url", ledger_url, "plan", "--since", "2025-03-01", "--format", "json"
    )
    assert code == 0
    plans = json.loads(out)["plans"]
    assert [(p["run"]["target"], p["run"]["id"]) for p in plans] == [
        ("target-staffomatic", 2),
        ("target-personio", 4),
    ]
    assert plans[1]["plan"] == {
        "work_timers": {
            "create": [{"source_id": "91001", "dest_id": None, "reason": "verified timer"}]
        }
    }
    code, text, _ = run_cli(capsys, "--ledger-url", ledger_url, "plan", "--since", "2025-03-01")
    assert text.count("Plan of dry run") == 2


def test_plan_without_a_dry_run_says_how_to_make_one(
    ledger: Ledger, ledger_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    ledger.start_run(target="target-staffomatic").finish()
    code, out, err = run_cli(capsys, "--ledger-url", ledger_url, "plan")
    assert (code, out) == (1, "")
    assert "holds no dry run; run the target with dry_run: true first." in err


def test_report_of_an_empty_ledger_exits_non_zero_with_a_message(
    ledger: Ledger, ledger_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, err = run_cli(capsys, "--ledger-url", ledger_url, "report")
    assert (code, out) == (1, "")
    assert err.startswith("sync-ledger: The sync ledger at ")
    assert err.endswith(" has no runs.\n")


def test_report_where_no_ledger_exists_creates_nothing_and_exits_non_zero(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "sync-ledger.db"
    code, out, err = run_cli(capsys, "--ledger-url", f"sqlite:///{path}", "report")
    assert (code, out) == (1, "")
    assert "There is no sync ledger at" in err
    assert "run a target first" in err
    assert not path.exists()


def test_unreachable_ledger_exits_non_zero_with_one_sentence(
    capsys: pytest.CaptureFixture[str],
) -> None:
    url = "postgresql+psycopg://sync:s3cret@127.0.0.1:1/ledger"
    code, out, err = run_cli(capsys, "--ledger-url", url, "report")
    assert (code, out) == (1, "")
    assert err.startswith("sync-ledger: Cannot open the sync ledger at ")
    assert "s3cret" not in err
    assert err.count("\n") == 1


def test_ledger_url_defaults_to_sync_ledger_url_then_the_project_file(
    ledger: Ledger,
    ledger_url: str,
    clock: Any,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    fill(ledger, clock)
    monkeypatch.setenv("SYNC_LEDGER_URL", ledger_url)
    assert run_cli(capsys, "report")[0] == 0

    monkeypatch.delenv("SYNC_LEDGER_URL")
    monkeypatch.setenv("MELTANO_PROJECT_ROOT", str(tmp_path))
    with Ledger(f"sqlite:///{tmp_path / 'sync-ledger.db'}") as project:
        project.start_run(target="target-from-project").finish()
    code, out, _ = run_cli(capsys, "report")
    assert code == 0
    assert "target-from-project" in out


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("7d", datetime(2025, 2, 24, 12, 0, tzinfo=UTC)),
        ("12h", datetime(2025, 3, 3, 0, 0, tzinfo=UTC)),
        ("30m", datetime(2025, 3, 3, 11, 30, tzinfo=UTC)),
        ("2w", datetime(2025, 2, 17, 12, 0, tzinfo=UTC)),
        ("2025-03-01", datetime(2025, 3, 1, tzinfo=UTC)),
        ("2025-03-01T06:00", datetime(2025, 3, 1, 6, 0, tzinfo=UTC)),
        ("2025-03-01T06:00+01:00", datetime(2025, 3, 1, 5, 0, tzinfo=UTC)),
    ],
)
def test_since_accepts_iso_times_and_durations(value: str, expected: datetime) -> None:
    assert parse_since(value, now=datetime(2025, 3, 3, 12, 0, tzinfo=UTC)) == expected


def test_since_rejects_other_values_with_a_usage_error(
    capsys: pytest.CaptureFixture[str],
) -> None:
    with pytest.raises(argparse.ArgumentTypeError, match="neither an ISO date"):
        parse_since("last week")
    with pytest.raises(SystemExit) as exit_info:
        main(["report", "--since", "yesterday"])
    assert exit_info.value.code == 2
    assert "neither an ISO date" in capsys.readouterr().err


def test_installed_command_runs_as_a_module(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'sync-ledger.db'}"
    with Ledger(url) as ledger:
        ledger.start_run(target="target-staffomatic", dry_run=True).finish()
    done = subprocess.run(
        [sys.executable, "-m", "sync_ledger", "--ledger-url", url, "plan", "--format", "json"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["plans"][0]["plan"] == {}


def test_report_shows_a_run_closed_as_interrupted_with_what_it_did(
    ledger: Ledger, ledger_url: str, clock: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    killed = ledger.start_run(target="target-staffomatic")
    killed.record("employee", "101", "create", "new employee", dest_id="9001")
    killed.flush()  # then the process was killed: it never finished the run
    clock.advance(hours=7)
    ledger.start_run(target="target-staffomatic").finish()

    code, out, _ = run_cli(capsys, "--ledger-url", ledger_url, "report", "--since", "2025-03-01")
    assert code == 0
    first = out[: out.index("Run ", 1)]
    assert first.startswith(f"Run {killed.id}: target-staffomatic\n")
    assert "  finished  2025-03-03 06:30:00 UTC\n" in first
    assert "  status    interrupted (its process ended before the run finished" in first
    assert row(first, "employee") == ["employee", "1", "1"]

    code, out, _ = run_cli(
        capsys, "--ledger-url", ledger_url, "report", "--since", "2025-03-01", "--format", "json"
    )
    [shown] = [r for r in json.loads(out)["runs"] if r["id"] == killed.id]
    assert (shown["status"], shown["counts"]) == ("interrupted", {"employee": {"create": 1}})


def test_report_shows_received_pending_done_and_failed_events_and_the_oldest_pending(
    ledger: Ledger, ledger_url: str, clock: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    fill(ledger, clock)
    first = events.store(ledger, "absence-period.created", "absences", "abs-1")
    events.finish(ledger, [first])
    clock.advance(minutes=1)
    events.store(ledger, "person.updated", "employees", "1011")
    events.store(ledger, "absence-period.deleted", "absences", "abs-2")
    broken = events.store(ledger, "person.created", "employees", "1099")
    events.failed_try(ledger, [broken], "meltano exited 1: boom", max_attempts=1, backoff=1)
    code, out, _ = run_cli(capsys, "--ledger-url", ledger_url, "report")
    assert code == 0
    assert "Webhook events: 4 received, 2 pending, 1 done, 1 failed." in out
    assert "Oldest pending: person.updated 1011, received 2025-03-11 07:35:00 UTC." in out
    assert row(out, "person.created") == ["person.created", "1099", "1", "meltano exited 1: boom"]
    code, out, _ = run_cli(capsys, "--ledger-url", ledger_url, "report", "--format", "json")
    data = json.loads(out)["events"]
    assert (data["received"], data["pending"], data["done"], data["failed"]) == (4, 2, 1, 1)
    assert data["oldest_pending"]["record_id"] == "1011"


def test_report_without_events_says_nothing_of_them(
    ledger: Ledger, ledger_url: str, clock: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    fill(ledger, clock)
    _, out, _ = run_cli(capsys, "--ledger-url", ledger_url, "report")
    assert "Webhook events" not in out
