"""``tap-personio | target-staffomatic`` on the demo seed: every edge case of the roster."""

from __future__ import annotations

import json
import subprocess
import sys
from datetime import datetime, time, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from sandbox.admin import Admins
from sandbox.server import Sandbox

BIN = Path(sys.executable).parent
BERLIN = ZoneInfo("Europe/Berlin")


def pipe(tap: dict[str, Any], target: dict[str, Any], tmp: Path) -> str:
    (tmp / "tap.json").write_text(json.dumps(tap), encoding="utf-8")
    (tmp / "target.json").write_text(json.dumps(target), encoding="utf-8")
    with open(tmp / "tap.log", "w", encoding="utf-8") as tap_log:
        producer = subprocess.Popen(
            [str(BIN / "tap-personio"), "--config", str(tmp / "tap.json")],
            stdout=subprocess.PIPE,
            stderr=tap_log,
        )
        consumer = subprocess.run(
            [str(BIN / "target-staffomatic"), "--config", str(tmp / "target.json")],
            stdin=producer.stdout,
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )
        assert producer.stdout is not None
        producer.stdout.close()
        assert producer.wait(timeout=60) == 0, (tmp / "tap.log").read_text(encoding="utf-8")
    assert consumer.returncode == 0, consumer.stderr[-3000:]
    return consumer.stderr


@pytest.mark.slow
def test_demo_seed_end_to_end_then_a_rerun_writes_nothing(
    tmp_path: Path, sandbox: Sandbox, admins: Admins
) -> None:
    sb = sandbox
    tap = {
        "client_id": "demo-client-id",
        "client_secret": "demo-client-secret",
        "base_url": sb.personio_url,
        "window_activate_version": True,  # as the sync's extractors: a full read may remove
    }
    target = {
        "account": "demo",
        "api_token": "demo-api-token",
        "base_url": sb.staffomatic_api,
        "ledger_url": f"sqlite:///{tmp_path / 'ledger.db'}",
        "user_agent": "e2e-tests (tests@example.com)",
        "stream_maps": {"employees": {"__filter__": "shift_planning != False"}},
    }
    hand_made = {a["id"] for a in sb.staffomatic.state["absences"]}
    summary = pipe(tap, target, tmp_path)
    state = sb.staffomatic.state
    users = {u["custom_id"]: u for u in state["users"] if u.get("custom_id")}
    types = {t["id"]: t["name"] for t in state["absence_types"]}
    today = datetime.now(BERLIN).date()

    # People: linked, matched by e-mail (also in another letter case), created, skipped.
    assert {"1001", "1002", "1003", "1004", "1013", "1016", "1020", "1021"} <= set(users)
    assert "1005" not in users
    assert "1010" not in users
    assert "1014" not in users  # filtered out by the stream map (shift_planning false)
    assert users["1003"]["email"].startswith("Clara.Weber@")
    assert users["1002"]["max_hours_per_month"] == 130
    assert users["1020"]["max_vacation_days"] == 30
    # Lifecycle: future hire, last day passed, inactive locked; rehire unlocked.
    for locked in ("1006", "1007", "1008"):
        assert users[locked]["locked_at"] is not None
    for active in ("1001", "1009", "1019", "1021"):
        assert users[active]["locked_at"] is None
    xaver = next(u for u in state["users"] if u["last_name"] == "Unbekannt")
    assert xaver["custom_id"] is None
    assert xaver["locked_at"] is None

    def synced(custom_id: str) -> list[dict[str, Any]]:
        uid = users[custom_id]["id"]
        return [
            a for a in state["absences"] if a["applicant_id"] == uid and a["id"] not in hand_made
        ]

    by_type = {types[a["absence_type_id"]]: a for a in synced("1001")}
    assert set(by_type) == {"Vacation", "Sick leave"}
    single = by_type["Vacation"]
    assert single["state"] == "approved"
    assert single["all_day"] is True
    day = datetime.combine(today + timedelta(days=10), time(0, 0), BERLIN)
    assert datetime.fromisoformat(single["starts_at"]) == day
    (pending,) = synced("1002")
    assert pending["state"] == "new"
    (noon,) = synced("1003")
    assert noon["all_day"] is False
    start = datetime.combine(today + timedelta(days=30), time(12, 0), BERLIN)
    assert datetime.fromisoformat(noon["starts_at"]) == start
    (sick,) = synced("1004")  # David's user was created in the same run
    assert types[sick["absence_type_id"]] == "Sick leave"
    (course,) = synced("1011")
    assert types[course["absence_type_id"]] == "training"
    assert course["state"] == "new"
    assert synced("1007") == []
    assert synced("1020") == []
    assert synced("1009") == []  # Parental leave: no counterpart, held back
    assert "'Parental leave' has no Staffomatic counterpart: 1 absence(s) held back" in summary

    hand_made_after = {a["id"] for a in state["absences"]}
    assert hand_made <= hand_made_after  # absences made by hand are untouched

    sb.staffomatic.log.by_endpoint.clear()
    pipe(tap, target, tmp_path)
    log = admins.staffomatic.requests()
    assert log["writes"] == 0
