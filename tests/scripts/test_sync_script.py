"""scripts/sync.py: how a dry run groups a job's tasks, Meltano's folder kept private, stopping it,
and its --timeout."""

from __future__ import annotations

import contextlib
import importlib.util
import os
import signal
import stat
import subprocess
import sys
import time
from pathlib import Path
from types import ModuleType

import pytest


def load_script(name: str) -> ModuleType:
    path = Path(__file__).parents[2] / "scripts" / f"{name}.py"
    spec = importlib.util.spec_from_file_location(f"{name}_module", path)
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_meltano_folder_and_files_left_readable_are_made_private(tmp_path: Path) -> None:
    meltano = tmp_path / ".meltano"
    config = meltano / "run" / "tap-x" / "tap.config.json"
    config.parent.mkdir(parents=True)
    config.write_text("{}")
    for path, mode in ((meltano, 0o755), (config.parent, 0o755), (config, 0o644)):
        path.chmod(mode)
    sync = load_script("sync")
    sync.make_private(meltano)
    # a file a plain `meltano run` writes later under umask 022 is out of others' reach
    assert stat.S_IMODE(meltano.stat().st_mode) == 0o700
    assert stat.S_IMODE(config.stat().st_mode) == 0o600
    sync.make_private(tmp_path / "no-project-yet")  # nothing to do, no error


def test_dry_run_plans_each_pipeline_in_one_target_run() -> None:
    tasks = [
        "tap-personio--employees target-staffomatic",
        "tap-personio--absences target-staffomatic",
        "tap-staffomatic--absences target-personio",
        "tap-staffomatic--timers target-personio",
    ]
    assert load_script("sync_tasks").dry_run_tasks(tasks) == [
        "tap-personio target-staffomatic",
        "tap-staffomatic target-personio",
    ]


def test_dry_run_keeps_tasks_of_other_loaders_or_plugins_apart() -> None:
    tasks = [
        "tap-personio--absences target-staffomatic",
        "tap-staffomatic--absences target-personio",
        "tap-personio--employees target-jsonl",
    ]
    assert load_script("sync_tasks").dry_run_tasks(tasks) == tasks


# --- stopping and the files a run leaves --------------------------------------------------------

FAKE_MELTANO = r"""#!{python}
import json, os, subprocess, sys, time
args = sys.argv[1:]
if args[:2] == ["schedule", "list"]:
    job = {{"name": "sync-all", "tasks": ["tap-a target-b", "tap-c target-d"]}}
    print(json.dumps({{"schedules": {{"job": [{{"name": "daily", "job": job, "env": {{}}}}]}}}}))
elif args[:2] == ["job", "list"]:
    print(json.dumps({{"jobs": []}}))
else:  # run: a plugin that holds a generated config file, as Meltano's plugins do
    work = os.environ["FAKE_WORK"]
    with open(os.path.join(work, "plugin.config.json"), "w") as config:
        config.write('{{"client_secret": "s3cret"}}')
    plugin = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(300)"])
    with open(os.path.join(work, "pids"), "w") as pids:
        pids.write(f"{{os.getpid()}} {{plugin.pid}}")
    time.sleep(300)
"""


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    with contextlib.suppress(FileNotFoundError):  # a zombie is not running
        if Path(f"/proc/{pid}/stat").read_text().split(")")[-1].split()[0] == "Z":
            return False
    return True


def start_sync(tmp_path: Path, *args: str) -> subprocess.Popen[str]:
    """``scripts/sync.py ARGS daily`` on a fake meltano whose task never ends."""
    fake = tmp_path / "meltano"
    fake.write_text(FAKE_MELTANO.format(python=sys.executable))
    fake.chmod(0o755)
    env = {**os.environ, "SYNC_MELTANO": str(fake), "FAKE_WORK": str(tmp_path)}
    script = Path(__file__).parents[2] / "scripts" / "sync.py"
    return subprocess.Popen(
        [sys.executable, str(script), *args, "daily"],
        cwd=tmp_path,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def task_pids(tmp_path: Path) -> tuple[int, int]:
    """The fake meltano's and its plugin's process ids, once the first task runs."""
    pids_file = tmp_path / "pids"
    deadline = time.monotonic() + 30
    while not (pids_file.exists() and pids_file.read_text()):
        assert time.monotonic() < deadline, "the fake meltano run never started"
        time.sleep(0.05)
    meltano_pid, plugin_pid = (int(p) for p in pids_file.read_text().split())
    return meltano_pid, plugin_pid


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGINT])
def test_stopping_the_script_stops_meltano_and_its_plugins_and_leaves_private_files(
    tmp_path: Path, signum: signal.Signals
) -> None:
    with start_sync(tmp_path) as sync:
        meltano_pid, plugin_pid = task_pids(tmp_path)
        sync.send_signal(signum)
        out, err = sync.communicate(timeout=60)
    assert sync.returncode == 128 + signum
    assert f"Stopped by {signum.name}" in err
    assert "The next run starts normally" in err
    assert "-- daily: tap-c target-d" not in out  # the rest of the job was not started
    assert not _alive(meltano_pid)
    assert not _alive(plugin_pid)
    assert stat.S_IMODE((tmp_path / "plugin.config.json").stat().st_mode) == 0o600


def test_timeout_stops_the_running_task_and_starts_no_other(tmp_path: Path) -> None:
    started = time.monotonic()
    with start_sync(tmp_path, "--timeout", "3") as sync:
        meltano_pid, plugin_pid = task_pids(tmp_path)
        out, err = sync.communicate(timeout=90)
    assert sync.returncode == 124
    assert time.monotonic() - started < 60  # the task itself would run for 300 s
    assert "Stopped after the --timeout of 3 s" in err
    assert "-- daily: tap-a target-b" in out
    assert "-- daily: tap-c target-d" not in out
    assert not _alive(meltano_pid)
    assert not _alive(plugin_pid)
