"""What the end-to-end tests share: the per-test runner and small reads and edits of the sandbox."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import httpx
from sandbox.admin import Admin
from sandbox.server import Sandbox

from sandbox import roster

BIN = Path(sys.executable).parent
ZONE = ZoneInfo(roster.COMPANY_TIME_ZONE)
# Variables of the calling shell that would change what the project does: left out of every run.
FOREIGN: tuple[str, ...] = ("TAP_", "TARGET_", "PERSONIO_", "STAFFOMATIC_", "SYNC_", "ABSENCE_")
FOREIGN += ("MELTANO_", "RETRY_DAYS", "LOOKBACK_MINUTES")
# Timers of the demo seed that target-personio sends: verified, settled, of matched people.
TIMER_PEOPLE = {"1009", "1015", "1017", "1022"}


def clean_environ() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(FOREIGN)}
    env["PATH"] = f"{BIN}{os.pathsep}{env.get('PATH', '')}"
    return env


@dataclass
class Sync:
    """One test's sandbox and the environment every command of the test runs with."""

    project: Path
    sandbox: Sandbox
    env: dict[str, str]
    ledger_url: str

    def meltano(self, *args: str, **extra_env: str) -> subprocess.CompletedProcess[str]:
        return self._run([str(BIN / "meltano"), *args], extra_env)

    def script(self, *args: str, **extra_env: str) -> subprocess.CompletedProcess[str]:
        """``python scripts/sync.py ARGS`` in the project."""
        return self._run([sys.executable, "scripts/sync.py", *args], extra_env)

    def facts(self, *names: str, **extra_env: str) -> dict[str, Any]:
        """``python scripts/meltano_facts.py NAMES`` in the project: what sync.py reads of it."""
        done = self._run([sys.executable, "scripts/meltano_facts.py", *names], extra_env)
        assert done.returncode == 0, done.stderr[-2000:]
        facts: dict[str, Any] = json.loads(done.stdout)
        return facts

    def _run(self, command: list[str], extra: dict[str, str]) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            command,
            cwd=self.project,
            env=self.env | extra,
            capture_output=True,
            text=True,
            timeout=600,
            check=False,
        )

    @property
    def personio(self) -> str:
        return self.sandbox.personio_url

    @property
    def staffomatic(self) -> str:
        return self.sandbox.staffomatic_url


def ok(done: subprocess.CompletedProcess[str]) -> subprocess.CompletedProcess[str]:
    assert done.returncode == 0, (done.stdout + done.stderr)[-4000:]
    return done


def state(url: str) -> dict[str, Any]:
    with Admin(url) as admin:
        return admin.state()


def load(url: str, data: dict[str, Any]) -> None:
    with Admin(url) as admin:
        admin.load(data)


def writes(url: str) -> int:
    """Data writes served (POST, PUT, PATCH, DELETE), sign-ins left out."""
    with Admin(url) as admin:
        counts = admin.counts()
    return sum(
        n
        for key, n in counts.items()
        if key.split()[0] in ("POST", "PUT", "PATCH", "DELETE") and "/auth" not in key
    )


def users_by_person(staffomatic: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {u["custom_id"]: u for u in staffomatic["users"] if u.get("custom_id")}


def rename_employee(personio_url: str, employee_id: int, last_name: str) -> None:
    """A changed name in Personio (its API cannot edit employees: the admin endpoints can)."""
    data = state(personio_url)
    employee = next(e for e in data["employees"] if e["id"] == employee_id)
    employee["attributes"]["last_name"] = last_name
    employee["last_modified_at"] = datetime.now(ZONE).isoformat(timespec="seconds")
    load(personio_url, data)


def delete_absence_period(personio_url: str, period_id: str) -> None:
    data = state(personio_url)
    data["absence_periods"] = [p for p in data["absence_periods"] if p["id"] != period_id]
    load(personio_url, data)


def add_verified_timer(staffomatic_url: str, user_id: int, days_ago: int) -> int:
    """A manager records and verifies a 08:00-14:30 shift, through the Staffomatic API."""
    day = datetime.now(ZONE).date() - timedelta(days=days_ago)
    starts = datetime(day.year, day.month, day.day, 8, tzinfo=ZONE)
    ends = starts + timedelta(hours=6, minutes=30)
    with httpx.Client(
        base_url=f"{staffomatic_url}/v3/{roster.STAFFOMATIC_ACCOUNT}",
        auth=(roster.STAFFOMATIC_EMAIL, roster.STAFFOMATIC_PASSWORD),
        headers={"User-Agent": "e2e tests (tests@example.org)"},
        timeout=10,
    ) as api:
        body = {"user_id": user_id, "starts_at": starts.isoformat(), "ends_at": ends.isoformat()}
        created = api.post("/work_timers.json", json={"work_timer": body})
        created.raise_for_status()
        timer_id = int(created.json()["id"])
        verify = {"work_timer": {"do": "verify"}}
        api.put(f"/work_timers/{timer_id}.json", json=verify).raise_for_status()
    return timer_id
