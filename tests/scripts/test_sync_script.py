"""scripts/sync.py: how a dry run groups a job's tasks."""

from __future__ import annotations

import importlib.util
from pathlib import Path
from types import ModuleType


def load_sync() -> ModuleType:
    path = Path(__file__).parents[2] / "scripts" / "sync.py"
    spec = importlib.util.spec_from_file_location("sync_script", path)
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_dry_run_plans_each_pipeline_in_one_target_run() -> None:
    tasks = [
        "tap-personio--employees target-staffomatic",
        "tap-personio--absences target-staffomatic",
        "tap-staffomatic--absences target-personio",
        "tap-staffomatic--timers target-personio",
    ]
    assert load_sync().dry_run_tasks(tasks) == [
        "tap-personio target-staffomatic",
        "tap-staffomatic target-personio",
    ]


def test_dry_run_keeps_tasks_of_other_loaders_or_plugins_apart() -> None:
    tasks = [
        "tap-personio--absences target-staffomatic",
        "tap-staffomatic--absences target-personio",
        "tap-personio--employees target-jsonl",
    ]
    assert load_sync().dry_run_tasks(tasks) == tasks
