"""`meltano run tap-staffomatic target-jsonl` against the sandbox with the project's meltano.yml."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import httpx
import pytest
from sandbox.admin import Admin

from sandbox import roster

ROOT = Path(__file__).resolve().parents[2]
MELTANO = str(Path(sys.executable).parent / "meltano")


def meltano(project: Path, env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [MELTANO, *args],
        cwd=project,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )


def jsonl(output: Path, stream: str, skip: set[Path] | None = None) -> list[dict[str, Any]]:
    """Records target-jsonl wrote for ``stream`` (it names files ``<stream>-<time>.jsonl``)."""
    paths = sorted(set(output.glob(f"{stream}-*.jsonl")) - (skip or set()))
    return [json.loads(line) for p in paths for line in p.read_text().splitlines() if line.strip()]


@pytest.mark.slow
def test_meltano_runs_the_tap_into_target_jsonl_and_resumes_from_its_state(
    tmp_path: Path, sandbox: Any, staffomatic: Admin
) -> None:
    project = tmp_path / "project"
    project.mkdir()
    shutil.copy(ROOT / "meltano.yml", project / "meltano.yml")
    for folder in ("vendor-http", "tap-staffomatic"):
        (project / folder).symlink_to(ROOT / folder)
    env = {key: value for key, value in os.environ.items() if not key.startswith("TAP_")}
    env |= {
        "MELTANO_SEND_ANONYMOUS_USAGE_STATS": "false",
        "MELTANO_CLI_DISABLE_VERSION_CHECK": "true",
        "TAP_STAFFOMATIC_BASE_URL": sandbox.staffomatic_api,
        "TAP_STAFFOMATIC_ACCOUNT": roster.STAFFOMATIC_ACCOUNT,
        "TAP_STAFFOMATIC_EMAIL": roster.STAFFOMATIC_EMAIL,
        "TAP_STAFFOMATIC_PASSWORD": roster.STAFFOMATIC_PASSWORD,
        "TAP_STAFFOMATIC_USER_AGENT": "tap-staffomatic tests (tests@example.com)",
    }

    first = meltano(project, env, "run", "tap-staffomatic", "target-jsonl")

    assert first.returncode == 0, first.stderr[-3000:]
    output = project / "output"
    stored = staffomatic.state()
    assert len(jsonl(output, "users")) == len(stored["users"])
    assert len(jsonl(output, "absences")) == len(stored["absences"])
    timers = jsonl(output, "work_timers")
    assert timers
    assert all(isinstance(timer["breaks"], list) for timer in timers)
    assert roster.STAFFOMATIC_PASSWORD not in first.stderr

    with httpx.Client(
        base_url=f"{sandbox.staffomatic_api}/{roster.STAFFOMATIC_ACCOUNT}",
        auth=(roster.STAFFOMATIC_EMAIL, roster.STAFFOMATIC_PASSWORD),
        headers={"User-Agent": "tap-staffomatic tests (tests@example.com)"},
    ) as client:
        changed = next(a for a in stored["absences"] if a["state"] == "new")
        client.put(f"/absences/{changed['id']}.json", json={"justification": "changed"})
    written = set(output.iterdir())
    time.sleep(1)  # target-jsonl names its files by the second
    second = meltano(project, env, "run", "tap-staffomatic", "target-jsonl")

    assert second.returncode == 0, second.stderr[-3000:]
    again = jsonl(output, "absences", skip=written)
    assert changed["id"] in {row["id"] for row in again}
    assert len(again) < len(stored["absences"])
