"""``meltano run tap-personio target-jsonl`` against the Personio emulator (slow: installs plugins).

Meltano runs from the repository root, so the plugins are installed into the project's
``.meltano`` like a user's would be; its system database (state) and target-jsonl's output go to
a temporary directory. The tap's settings come from environment variables.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sandbox.server import Sandbox

ROOT = Path(__file__).resolve().parents[2]


def meltano(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(Path(sys.executable).parent / "meltano"), *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )


def lines(directory: Path, stream: str) -> list[list[dict[str, object]]]:
    """The records target-jsonl wrote for ``stream``, one list per run (file)."""
    files = sorted(directory.glob(f"{stream}-*.jsonl"))
    return [[json.loads(line) for line in f.read_text().splitlines()] for f in files]


@pytest.mark.slow
def test_meltano_runs_the_tap_into_target_jsonl_and_keeps_its_bookmarks(
    tmp_path: Path, sandbox: Sandbox
) -> None:
    output = tmp_path / "output"
    output.mkdir()
    env = {
        **os.environ,
        "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}",
        "MELTANO_ENVIRONMENT": "sandbox",
        "MELTANO_DATABASE_URI": f"sqlite:///{tmp_path}/meltano.db",
        "MELTANO_SEND_ANONYMOUS_USAGE_STATS": "false",
        "MELTANO_CLI_DISABLE_VERSION_CHECK": "true",
        "TAP_PERSONIO_BASE_URL": sandbox.personio_url,
        "TAP_PERSONIO_CLIENT_ID": "demo-client-id",
        "TAP_PERSONIO_CLIENT_SECRET": "demo-client-secret",
        "TARGET_JSONL_DESTINATION_PATH": str(output),
    }
    first = meltano(env, "run", "tap-personio", "target-jsonl")
    assert first.returncode == 0, first.stderr[-3000:]
    # window_activate_version is off by default: no ACTIVATE_VERSION for a loader to misread
    assert "ACTIVATE_VERSION" not in first.stderr
    assert "demo-client-secret" not in first.stderr + first.stdout

    sandbox.personio.state["absence_periods"][0]["comment"] = "moved"
    sandbox.personio.state["absence_periods"][0]["updated_at"] = datetime.now(UTC).strftime(
        "%Y-%m-%dT%H:%M:%S.000Z"
    )
    second = meltano(env, "run", "tap-personio", "target-jsonl")
    assert second.returncode == 0, second.stderr[-3000:]

    employees = lines(output, "employees")
    assert len(employees[0]) == 22
    assert {e["id"] for e in employees[0] if e["shift_planning"] is False} == {1014}
    # the plugin's default `select` leaves the salary out (the sandbox's credential reads it)
    assert "fix_salary" not in employees[0][0]
    assert employees[0][0]["email"]
    assert len(lines(output, "absence_types")[0]) == 4
    absences = lines(output, "absences")
    assert len(absences[0]) == 14
    # the second run is incremental: the changed absence plus the lookback, not the whole window
    assert "moved" in [a["comment"] for a in absences[1]]
    assert len(absences[1]) < len(absences[0])
    assert len(lines(output, "attendances")[0]) == 5
