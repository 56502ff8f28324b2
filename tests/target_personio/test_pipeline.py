"""End to end: ``tap-staffomatic | target-personio`` on the demo seed, as two real executables."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from sandbox.admin import Admin, Admins
from sandbox.server import Sandbox
from sync_ledger import Ledger

from tests.target_personio.helpers import minutes

BIN = Path(sys.executable).parent


def pipe(tmp_path: Path, tap_config: dict, target_config: dict) -> str:
    (tmp_path / "tap.json").write_text(json.dumps(tap_config))
    (tmp_path / "target.json").write_text(json.dumps(target_config))
    tap = subprocess.Popen(
        [str(BIN / "tap-staffomatic"), "--config", str(tmp_path / "tap.json")],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
    )
    target = subprocess.run(
        [str(BIN / "target-personio"), "--config", str(tmp_path / "target.json")],
        stdin=tap.stdout,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert tap.stdout is not None
    tap.stdout.close()
    assert tap.wait(timeout=60) == 0
    assert target.returncode == 0, target.stderr[-2000:]
    return target.stderr


def writes(admin: Admin) -> dict[str, int]:
    counts = admin.counts()
    return {
        key: n
        for key, n in counts.items()
        if key.split()[0] in ("POST", "PATCH", "DELETE") and "/auth" not in key
    }


@pytest.mark.slow
def test_tap_staffomatic_into_target_personio_on_the_demo_seed(
    tmp_path: Path, sandbox: Sandbox, admins: Admins
) -> None:
    sb = sandbox
    tap_config = {
        "account": "demo",
        "api_token": "demo-api-token",
        "base_url": sb.staffomatic_api,
        "user_agent": "target-personio tests (dev@example.org)",
        "window_activate_version": True,  # as the sync's extractors: a full read may remove
    }
    target_config = {
        "client_id": "demo-client-id",
        "client_secret": "demo-client-secret",
        "base_url": sb.personio_url,
        "ledger_url": f"sqlite:///{tmp_path / 'ledger.db'}",
        "absence_source": "staffomatic",
    }
    seeded = {p["id"] for p in admins.personio.state()["attendance_periods"]}
    summary = pipe(tmp_path, tap_config, target_config)
    assert "target-personio run" in summary
    state = admins.personio.state()
    staffomatic = admins.staffomatic.state()

    # Yasmin Yilmaz (1022): the two-break shift, five periods, WORK equal to net time.
    rows = sorted(
        (p["type"], p["start"]["date_time"], p["end"]["date_time"])
        for p in state["attendance_periods"]
        if p["person"]["id"] == "1022"
    )
    rows.sort(key=lambda r: r[1])
    assert [r[0] for r in rows] == ["WORK", "BREAK", "WORK", "BREAK", "WORK"]
    assert sum(minutes(s, e) for kind, s, e in rows if kind == "WORK") == 8 * 60 - 45
    # Only verified timers of matched people within retry_days: not the running (1001) or
    # unverified (1011) ones, not Xaver's (9001, no Personio employee).
    sent = {p["person"]["id"] for p in state["attendance_periods"] if p["id"] not in seeded}
    assert sent == {"1009", "1015", "1017", "1022"}
    assert any(t["state"] == "running" for t in staffomatic["work_timers"])
    # The approved vacation of Anna Schmidt (1001) is in Personio, approved.
    ledger = Ledger(target_config["ledger_url"])
    assert ledger.links("staffomatic", "absences")
    ledger.close()

    # A second full run with nothing changed writes nothing (token requests aside) but
    # retries, once each, what Personio refused (Ida Koch's vacation overlaps her
    # parental leave in Personio).
    ledger = Ledger(target_config["ledger_url"])
    queued = ledger.all_retries(given_up=False)
    ledger.close()
    assert [(r.entity, r.reason.split(":")[0]) for r in queued] == [
        ("absences", "Personio refused it")
    ]
    before = writes(admins.personio)
    pipe(tmp_path, tap_config, target_config)
    after = writes(admins.personio)
    assert sum(after.values()) - sum(before.values()) == len(queued)
