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


def test_the_design_s_jobs_exist_and_full_sync_runs_what_sync_all_runs() -> None:
    """docs/design.md section 7 names sync-employees, sync-absences, sync-timers, full-sync."""
    jobs = {job["name"]: job["tasks"] for job in PROJECT["jobs"]}
    assert {"sync-employees", "sync-absences", "sync-timers", "full-sync", "sync-all"} <= set(jobs)
    assert jobs["full-sync"] == jobs["sync-all"]
    areas = jobs["sync-employees"] + jobs["sync-absences"] + jobs["sync-timers"]
    assert jobs["full-sync"] == areas
