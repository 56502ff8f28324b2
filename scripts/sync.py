"""Run a schedule or job of the Meltano project one task at a time, so one area's failure does
not stop the others.

``meltano run sync-all`` stops at the first task that fails: if Personio refused the
employees pipeline, the timers would not be synced either. This runs each task of the job as
its own ``meltano run``, carries on after a failure, and exits 1 at the end, naming what
failed. A schedule's ``env`` (``MELTANO_RUN_FULL_REFRESH`` for ``daily-full-refresh``) is
applied as ``meltano schedule run`` would apply it.

    python scripts/sync.py daily-full-refresh    # the daily schedule: every area, whole window
    python scripts/sync.py incremental-every-2h  # the two-hourly schedule: what changed
    python scripts/sync.py sync-timers           # "sync now" for one area (a job)
    python scripts/sync.py --dry-run sync-all    # plan only: nothing written, no bookmark moved
    python scripts/sync.py --timeout 3600 daily-full-refresh   # from cron: never past an hour

Meltano starts once for the whole sync: ``scripts/meltano_runner.py``, run by Meltano's own
Python, reads the project (``meltano_facts.py``: the schedules and jobs, which system leads
absences, each extractor's catalog key) and runs each task as ``meltano run`` would, in its own
process. The absences task into the system that leads absences is left out (its target would
ignore the absences), saying so in one line; each extractor runs with a catalog kept in
``.meltano/sync-catalogs/``, discovered again only when its settings, rules or code changed
(``scripts/sync_tasks.py``; ``--refresh-catalog`` discovers anyway). Where Meltano's library
cannot be used (another Meltano version), each task runs as its own ``meltano run``, with
Meltano's discovery before each.

Names are looked up as schedules first, then as jobs. Standard library only; it calls the
``meltano`` found next to this Python or on PATH (or the one ``SYNC_MELTANO`` names), in the
current directory's project.

Files it makes Meltano write (the plugins' generated config, which holds secrets) are private
to the user (umask 077), and so is the project's ``.meltano`` folder. One sync at a time per
project: a second one waits (``--wait``, default 30 minutes) for the first to end, then runs.
SIGTERM or SIGINT stops the running task's whole process group (Meltano and the plugins) and
exits 128 + the signal number, with one sentence; ``--timeout`` does the same once the sync (its
wait included) has run that long, and exits 124.
"""

from __future__ import annotations

import argparse
import contextlib
import fcntl
import json
import os
import shutil
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))  # its helpers, also when imported
from sync_tasks import meltano_python, run_names

RUNNER = Path(__file__).resolve().parent / "meltano_runner.py"
UNAVAILABLE = 3
"""The runner's exit status when Meltano's library could not read the project."""

GRACE_SECONDS = 30
"""How long a stopped task may take to end after SIGTERM before it is killed."""


TIMEOUT_EXIT = 124
"""The exit status after ``--timeout`` (as timeout(1))."""


class Stopped(Exception):
    """SIGTERM or SIGINT reached this script."""

    def __init__(self, signum: int) -> None:
        super().__init__(signal.Signals(signum).name)
        self.signum = signum


class TimedOut(Exception):
    """The sync ran for its whole ``--timeout``."""


def _stop(signum: int, _frame: Any) -> None:
    raise Stopped(signum)


WAIT_SECONDS = 1800
"""How long a sync waits for another one of the same project (a daily full sync can take a
while); Meltano itself refuses to run a pipeline that is already running."""
LOCK_FILE = Path(".meltano") / "sync.lock"


class Busy(Exception):
    """Another sync of this project ran for the whole wait."""


@contextlib.contextmanager
def one_sync_at_a_time(names: str, wait: float) -> Iterator[None]:
    """Hold the project's sync lock (an flock the system drops when this process ends, so a
    killed sync never blocks the next one); wait up to ``wait`` seconds for another holder."""
    LOCK_FILE.parent.mkdir(exist_ok=True)
    with LOCK_FILE.open("a+") as lock:
        deadline = time.monotonic() + wait
        while True:
            try:
                fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if time.monotonic() >= deadline:
                    lock.seek(0)
                    holder = lock.read().strip() or "a process that has not said which"
                    raise Busy(
                        f"Another sync of this project is running ({holder}); waited "
                        f"{wait:g} s for it to end. Run again once it has, or raise --wait."
                    ) from None
                time.sleep(min(1.0, max(deadline - time.monotonic(), 0.01)))
        lock.seek(0)
        lock.truncate()
        since = datetime.now(UTC).strftime("%Y-%m-%d %H:%M:%S UTC")
        lock.write(f"scripts/sync.py {names}, process {os.getpid()}, since {since}")
        lock.flush()
        yield


def make_private(meltano_dir: Path) -> None:
    """Meltano's folder closed to others, so that what a plain ``meltano run`` writes there under
    another umask (the plugins' config, which holds secrets, is written for every run) cannot be
    read by them even before the next sync; and files an earlier run left readable by others in
    its run and log folders (a file rewritten keeps its mode). Only group and other bits are
    taken away."""
    left = [p for f in ("run", "logs") for p in (meltano_dir / f).rglob("*") if p.is_file()]
    for path in (meltano_dir, *left):
        with contextlib.suppress(OSError):
            if not path.is_symlink() and path.stat().st_mode & 0o077:
                path.chmod(path.stat().st_mode & 0o700)


def meltano_executable() -> str:
    chosen = os.environ.get("SYNC_MELTANO")
    if chosen:
        return chosen
    beside = Path(sys.executable).parent / "meltano"
    if beside.exists():
        return str(beside)
    found = shutil.which("meltano")
    if found is None:
        sys.exit("meltano is not installed here: run `make install` or `pip install meltano`.")
    return found


def meltano_json(meltano: list[str], *args: str) -> Any:
    done = subprocess.run(
        [*meltano, *args, "--format", "json"], capture_output=True, text=True, check=False
    )
    if done.returncode != 0:
        sys.exit(f"`meltano {' '.join(args)}` failed:\n{done.stderr.strip()}")
    return json.loads(done.stdout)


def resolve(meltano: list[str], name: str) -> tuple[list[str], dict[str, str]]:
    """The tasks of schedule or job ``name`` and the environment variables it sets, from
    Meltano's commands (when its library cannot be used)."""
    schedules = meltano_json(meltano, "schedule", "list")["schedules"]["job"]
    for found in schedules:
        if found["name"] == name:
            env = {key: str(value) for key, value in (found.get("env") or {}).items()}
            return list(found["job"]["tasks"]), env
    for job in meltano_json(meltano, "job", "list")["jobs"]:
        if job["job_name"] == name:
            return list(job["tasks"]), {}
    known = sorted({s["name"] for s in schedules})
    sys.exit(f"There is no schedule or job named {name!r} in meltano.yml (schedules: {known}).")


def run_task(
    command: list[str],
    env: dict[str, str],
    log: Path | None,
    deadline: float | None = None,
    own_stdout: bool = False,
) -> int:
    """Run the runner (or one ``meltano run``) in a process group of its own, its standard
    error (and, unless ``own_stdout``, its standard output) into ``log`` when given. When this
    script is stopped, or the ``deadline`` (a :func:`time.monotonic` value) passes, the whole
    group (Meltano and the plugins it started) gets SIGTERM, then SIGKILL after
    :data:`GRACE_SECONDS`, so nothing is left running."""
    out = log.open("a") if log else None
    try:
        child = subprocess.Popen(
            command,
            env=env,
            stdout=None if own_stdout else out,
            stderr=out,
            start_new_session=True,
        )
        try:
            left = None if deadline is None else max(deadline - time.monotonic(), 0.0)
            return child.wait(timeout=left)
        except subprocess.TimeoutExpired:
            stop_group(child)
            raise TimedOut from None
        except Stopped:
            stop_group(child)
            raise
    finally:
        if out is not None:
            out.close()


def stop_group(child: subprocess.Popen[Any]) -> None:
    try:
        os.killpg(child.pid, signal.SIGTERM)
    except ProcessLookupError:
        return
    try:
        child.wait(timeout=GRACE_SECONDS)
    except subprocess.TimeoutExpired:
        os.killpg(child.pid, signal.SIGKILL)
        child.wait()
    with contextlib.suppress(ProcessLookupError):  # plugins that outlived Meltano
        os.killpg(child.pid, signal.SIGKILL)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("names", nargs="+", metavar="NAME", help="schedule or job")
    parser.add_argument("--environment", help="Meltano environment (default: the project's)")
    parser.add_argument("--full-refresh", action="store_true", help="read whole windows")
    parser.add_argument(
        "--dry-run",
        action="store_true",
        help="targets plan and record only (SYNC_DRY_RUN); implies --full-refresh, keeps state",
    )
    parser.add_argument(
        "--refresh-catalog",
        action="store_true",
        help="discover each extractor's catalog again, even if nothing it depends on changed",
    )
    parser.add_argument(
        "--catalogs-only",
        action="store_true",
        help="only make the catalogs of the tasks ready (after an install or a settings change)",
    )
    parser.add_argument("--log", type=Path, help="append Meltano's output to this file")
    parser.add_argument(
        "--wait",
        type=float,
        default=WAIT_SECONDS,
        help=f"seconds to wait for another sync of this project to end (default {WAIT_SECONDS})",
    )
    parser.add_argument(
        "--timeout",
        type=float,
        metavar="SECONDS",
        help="stop the running task and start no other once the sync (its wait for another "
        f"sync included) has run this long; exit {TIMEOUT_EXIT}",
    )
    args = parser.parse_args(argv)
    deadline = None if args.timeout is None else time.monotonic() + args.timeout
    # Files Meltano writes for the plugins (their config, holding secrets), the ledger and the
    # system database are readable by this user only.
    os.umask(0o077)
    make_private(Path(".meltano"))
    for signum in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signum, _stop)

    meltano = [meltano_executable()]
    if args.environment:
        meltano += ["--environment", args.environment]
    run_flags = []
    if args.full_refresh or args.dry_run:
        run_flags.append("--full-refresh")
    if args.dry_run:
        run_flags.append("--no-state-update")

    wait = args.wait if args.timeout is None else min(args.wait, args.timeout)
    try:
        with one_sync_at_a_time(" ".join(args.names), wait):
            return run_all(args, meltano, run_flags, deadline)
    except TimedOut:
        print(
            f"Stopped after the --timeout of {args.timeout:g} s; the running task was stopped "
            "too (its target records the run as interrupted) and no other was started. The "
            "next run carries on.",
            file=sys.stderr,
            flush=True,
        )
        return TIMEOUT_EXIT
    except Busy as busy:
        print(busy, file=sys.stderr, flush=True)
        return 1
    except Stopped as stop:
        print(
            f"Stopped by {stop}; the running task was stopped too (its target records the run "
            "as interrupted). The next run starts normally.",
            file=sys.stderr,
            flush=True,
        )
        return 128 + stop.signum


def run_all(
    args: argparse.Namespace, meltano: list[str], run_flags: list[str], deadline: float | None
) -> int:
    python = meltano_python(meltano[0])
    if python is not None and Path("meltano.yml").is_file():
        options = ["--environment", args.environment] if args.environment else []
        for flag in ("full_refresh", "dry_run", "refresh_catalog", "catalogs_only"):
            options += [f"--{flag.replace('_', '-')}"] if getattr(args, flag) else []
        command = [python, str(RUNNER), *options, *args.names]
        returncode = run_task(command, dict(os.environ), args.log, deadline, own_stdout=True)
        if returncode != UNAVAILABLE:
            return 0 if returncode == 0 else 1
    print(
        "Could not read the project through Meltano's library (scripts/meltano_runner.py); "
        "running each task as its own `meltano run`, with Meltano's discovery before each.",
        flush=True,
    )

    def run_one(name: str, task: str, env: dict[str, str]) -> int:
        if args.catalogs_only:
            return 0
        command = [*meltano, "run", *run_flags, *task.split()]
        env.update(MELTANO_RUN_ID=str(uuid.uuid4()), SYNC_JOB=name)
        if args.environment:
            env["MELTANO_ENVIRONMENT"] = args.environment
        return run_task(command, {**os.environ, **env}, args.log, deadline)

    failed = run_names(
        args.names, lambda name: resolve(meltano, name), run_one, args.dry_run, args.catalogs_only
    )
    if args.catalogs_only:
        print("No catalog was kept (Meltano's library could not be used).", flush=True)
        return 1
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
