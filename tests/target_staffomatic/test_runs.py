"""Whole runs: zero writes on a re-run, a lost ledger, the dry run, rejected records, stops."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

Kit = Any  # the conftest's Kit

ABSENCES = [
    ("a-1", 1001, "vac", 3, 5, "APPROVED"),
    ("a-2", 1011, "train", 8, 8, "PENDING"),
    ("a-3", 1002, "sick", -3, -2, "APPROVED"),
    ("a-4", 1004, "vac", 20, 22, "PENDING"),
]


def full_input(kit: Kit) -> str:
    absences = [kit.absence(*row) for row in ABSENCES]
    absences[1]["half_day_end"] = True
    return kit.singer(kit.demo_employees(), absences, version=7)


def test_rerun_with_unchanged_input_makes_zero_writes(kit: Kit) -> None:
    first = kit.run(full_input(kit))
    assert first.writes > 0
    second = kit.run(full_input(kit))
    assert second.writes == 0
    # Look-ups are read once per run, in pages, never per record.
    reads = second.requests["by_endpoint"]
    assert reads["GET /v3/{account}/users.json"] == 1
    assert reads["GET /v3/{account}/absences.json"] == 1
    assert second.requests["total"] <= 12


def test_lost_ledger_creates_no_duplicate_user_or_absence(
    kit: Kit, lose_ledger: Callable[[str], None]
) -> None:
    kit.run(full_input(kit))
    users, absences = len(kit.state()["users"]), len(kit.state()["absences"])
    lose_ledger(kit.ledger_url)

    again = kit.run(full_input(kit))
    assert again.writes == 0
    assert len(kit.state()["users"]) == users
    assert len(kit.state()["absences"]) == absences
    with kit.ledger() as ledger:
        assert len(ledger.links("personio", "absence")) == len(ABSENCES)
        assert "1004" in ledger.links("personio", "employee")


def test_dry_run_records_the_plan_prints_the_summary_and_writes_nothing(kit: Kit) -> None:
    before = kit.state()
    users, absences = len(before["users"]), len(before["absences"])
    result = kit.run(full_input(kit), dry_run=True)

    assert result.writes == 0
    assert len(kit.state()["users"]) == users
    assert len(kit.state()["absences"]) == absences
    assert "dry run" in result.stderr
    assert "employee" in result.stderr
    with kit.ledger() as ledger:
        (run,) = ledger.runs()
        assert run.dry_run
        assert run.status == "success"
        counts = run.counts or {}
        assert counts["employee"]["create"] == 8  # the Personio-only employees
        assert counts["absence"]["create"] == len(ABSENCES)  # 1004's too: its user is planned
        assert counts["absence"]["approve"] == 2
        assert ledger.links("personio", "employee") == {}  # nothing was linked for real
    assert result.stdout.strip().endswith('{"bookmarks": {"employees": {"n": 1}}}')


def test_rejected_record_is_logged_and_queued_while_the_others_go_on(kit: Kit) -> None:
    employees = kit.demo_employees(**{"1004": {"email": "not-an-e-mail"}})
    result = kit.run(kit.singer(employees))
    assert kit.user("1004") is None
    assert kit.user("1013") is not None  # the others were created
    assert "1004" in result.stderr
    assert "email is invalid" in result.stderr
    with kit.ledger() as ledger:
        (retry,) = ledger.retries("personio", "employee").values()
        assert retry.source_id == "1004"
        assert "HTTP 422" in retry.reason
        run = ledger.runs(limit=1)[0]
        assert run.status == "success"
        assert (run.counts or {})["employee"]["fail"] == 1

    kit.run(kit.singer(kit.demo_employees()))  # fixed in Personio: retried and cleared
    assert kit.user("1004") is not None
    with kit.ledger() as ledger:
        assert ledger.retries("personio", "employee") == {}


def test_rate_limit_and_server_errors_are_retried_honouring_retry_after(
    kit: Kit, no_sleep: list[float]
) -> None:
    kit.sandbox.staffomatic.faults.burst_429 = 3
    kit.sandbox.staffomatic.faults.retry_after = 4
    result = kit.run(kit.singer(kit.demo_employees()))
    assert kit.user("1004") is not None
    assert result.requests["throttled"] == 3
    assert no_sleep.count(4.0) == 3 or sorted(no_sleep)[-3:] == [4.0, 4.0, 4.0]


def test_wrong_credentials_stop_the_run_with_one_sentence(kit: Kit) -> None:
    message = kit.fails(kit.singer(kit.demo_employees()), api_token="wrong")
    assert message == (
        "Staffomatic refused the credentials for account 'demo' (401): check api_token, "
        "or email and password, and the account setting."
    )
    with kit.ledger() as ledger:
        assert ledger.runs() == []


def test_basic_auth_with_email_and_password_works(kit: Kit) -> None:
    kit.run(
        kit.singer(kit.demo_employees()),
        api_token=None,
        email="api@demo-gastro.example",
        password="demo-password",
    )
    assert kit.user("1004") is not None


def _cli(
    kit: Kit, config: dict[str, Any], messages: str, tmp_path: Path
) -> subprocess.CompletedProcess[str]:
    path = tmp_path / "config.json"
    path.write_text(json.dumps(config), encoding="utf-8")
    exe = Path(sys.executable).with_name("target-staffomatic")
    env = {**os.environ, "PYTHONWARNINGS": "ignore"}
    return subprocess.run(
        [str(exe), "--config", str(path)],
        input=messages,
        capture_output=True,
        text=True,
        timeout=60,
        env=env,
        check=False,
    )


def test_cli_exits_non_zero_with_one_sentence_for_bad_settings(kit: Kit, tmp_path: Path) -> None:
    done = _cli(kit, kit.settings(absence_source="both"), kit.singer([]), tmp_path)
    assert done.returncode == 1
    assert "absence_source is 'both'; set it to personio or staffomatic" in done.stderr
    assert "Traceback" not in done.stderr

    done = _cli(kit, kit.settings(api_token="wrong"), kit.singer(kit.demo_employees()), tmp_path)
    assert done.returncode == 1
    assert "Staffomatic refused the credentials" in done.stderr
    assert "Traceback" not in done.stderr
    assert "wrong" not in done.stderr

    insecure = kit.settings(base_url="http://staffomatic.example/v3")
    done = _cli(kit, insecure, kit.singer([]), tmp_path)
    assert done.returncode == 1
    assert "must use https" in done.stderr


def test_cli_run_prints_state_on_stdout_and_summary_on_stderr(kit: Kit, tmp_path: Path) -> None:
    done = _cli(kit, kit.settings(), full_input(kit), tmp_path)
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout.strip().splitlines()[-1]) == {
        "bookmarks": {"employees": {"n": 1}}
    }
    assert "target-staffomatic run" in done.stderr
    assert "demo-api-token" not in done.stderr
