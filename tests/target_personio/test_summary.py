"""The summary table at the end of a run is printed once on stderr."""

from __future__ import annotations

import json
import subprocess
import sys
from datetime import timedelta
from pathlib import Path

from sandbox.roster import company_today
from sandbox.server import Sandbox

from tests.target_personio.helpers import ANNA, singer_input, timer

CLI = str(Path(sys.executable).parent / "target-personio")


def test_summary_table_is_printed_once_on_stderr(sandbox: Sandbox, tmp_path: Path) -> None:
    config = {
        "client_id": "demo-client-id",
        "client_secret": "demo-client-secret",
        "base_url": sandbox.personio_url,
        "ledger_url": f"sqlite:///{tmp_path / 'ledger.db'}",
        "dry_run": True,
    }
    (tmp_path / "config.json").write_text(json.dumps(config))
    day = (company_today() - timedelta(days=1)).isoformat()
    text = singer_input([timer(1, ANNA, f"{day} 08:00", f"{day} 12:00")])
    result = subprocess.run(
        [CLI, "--config", str(tmp_path / "config.json")],
        input=text,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr[-2000:]
    assert result.stderr.count("Dry run of target-personio (nothing written)") == 1
    rows = [
        line for line in result.stderr.splitlines() if line.startswith(("entity ", "work_timers "))
    ]
    # The demo seed holds Anna's WORK period of yesterday 08:00-12:00 already: the timer is
    # found in Personio and linked again, which the run log records as ``link`` (issue 11).
    assert [row.split() for row in rows] == [
        ["entity", "create", "link", "update", "approve", "delete", "skip", "fail", "unchanged"],
        ["work_timers", "0", "1", "0", "0", "0", "0", "0", "0"],
    ]
