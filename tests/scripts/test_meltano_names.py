"""meltano.yml: each job and schedule name says what runs, and no name is both."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

PROJECT: dict[str, Any] = yaml.safe_load(
    (Path(__file__).resolve().parents[2] / "meltano.yml").read_text(encoding="utf-8")
)


def test_no_job_shares_a_name_with_a_schedule() -> None:
    jobs = {job["name"] for job in PROJECT["jobs"]}
    schedules = {schedule["name"] for schedule in PROJECT["schedules"]}
    assert jobs
    assert schedules
    assert jobs & schedules == set()


def test_only_schedules_named_full_refresh_read_whole_windows() -> None:
    """`scripts/sync.py NAME` and `meltano schedule run NAME` do what NAME says."""
    for schedule in PROJECT["schedules"]:
        full = (schedule.get("env") or {}).get("MELTANO_RUN_FULL_REFRESH") == "true"
        assert full == ("full-refresh" in schedule["name"]), schedule["name"]
        assert ("incremental" in schedule["name"]) == (not full), schedule["name"]
