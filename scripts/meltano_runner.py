"""The tasks of ``scripts/sync.py`` in ONE start-up of Meltano: each task as ``meltano run``
does it, one after another, carrying on after a failure.

Run by the Python that runs Meltano (it imports Meltano's library), in the project's folder:

    python scripts/meltano_runner.py [--environment NAME] [--full-refresh] [--dry-run]
        [--refresh-catalog] [--catalogs-only] SCHEDULE_OR_JOB ...

It reads the project's facts (``meltano_facts.py``), leaves out the tasks that have nothing to
do, keeps each extractor's catalog (``sync_tasks.py``), then runs each task through Meltano's
own command-line interface, in this process: ``meltano run TASK`` with its own run id, so
state, bookmarks, the system database and the plugins' config are Meltano's, exactly as for
``meltano run``. Starting Meltano (importing it: about 0.7 s) happens once, not once per task,
with the garbage collector off until the project is read (0.1 s less), from a parse of
``meltano.yml`` kept from the sync before (``meltano_parsed.py``: 0.15 s less), and each task's
settings are resolved once each where Meltano would resolve them again and again
(``meltano_settings.py``).

Prints the same lines as ``sync.py`` on standard output (Meltano logs on standard error), and
exits 0 when every task succeeded, 1 when one failed, :data:`UNAVAILABLE` when Meltano's library
could not read the project (``sync.py`` then runs each task as its own ``meltano run``), and
128 + the signal number after SIGTERM or SIGINT, starting no other task.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import signal
import subprocess
import sys
import traceback
import uuid
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
from meltano_parsed import keep_parsed
from meltano_settings import resolved_once
from sync_tasks import catalog_for, run_names, skipped, tasks_of

UNAVAILABLE = 3
"""The exit status when Meltano's library could not read the project (no task was run)."""


class Stopped(Exception):
    """SIGTERM or SIGINT reached the runner (between tasks, or Meltano cancelled one)."""

    def __init__(self, signum: int) -> None:
        super().__init__(signal.Signals(signum).name)
        self.signum = signum


def _stop(signum: int, _frame: Any) -> None:
    raise Stopped(signum)


def meltano(args: list[str], extra: dict[str, str]) -> int:
    """``meltano ARGS`` in this process; its exit status."""
    from click import ClickException
    from meltano.cli import cli
    from meltano.core.error import MeltanoError
    from meltano.core.job.job import sigterm_received

    with resolved_once(extra):
        try:
            code = cli.main(
                args=args, prog_name="meltano", standalone_mode=False, obj={"project": None}
            )
            return code if isinstance(code, int) else 0
        except asyncio.CancelledError:  # Meltano's answer to SIGTERM during a job
            raise Stopped(signal.SIGTERM) from None
        except KeyboardInterrupt:
            raise Stopped(signal.SIGINT) from None
        except ClickException as err:
            err.show()
            return err.exit_code
        except MeltanoError as err:
            print(f"meltano {' '.join(args)}: {err}", file=sys.stderr, flush=True)
            return 1
        except Exception:  # a failure of this task only: the next one runs
            traceback.print_exc()
            return 1
        finally:
            if sigterm_received():
                raise Stopped(signal.SIGTERM)


def discover(command: list[str], env: dict[str, str], out: Path) -> int:
    """``meltano invoke --dump=catalog ...`` (only when a catalog's key changed) into ``out``."""
    with out.open("w") as file:
        return subprocess.run(command, env=env, stdout=file, check=False).returncode


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--environment")
    parser.add_argument("--full-refresh", action="store_true")
    parser.add_argument("--dry-run", action="store_true")
    parser.add_argument("--refresh-catalog", action="store_true")
    parser.add_argument("--catalogs-only", action="store_true")
    parser.add_argument("names", nargs="+")
    args = parser.parse_args(argv)
    for signum in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signum, _stop)
    gc.disable()  # Meltano's import and the project's facts: a heap of objects, no garbage
    try:
        from meltano.cli import cli  # noqa: F401  (sets Meltano's logging up: on standard error)
        from meltano_facts import facts

        keep_parsed()
        with resolved_once({}):
            found = facts(args.environment, args.names)
    except Stopped as stop:
        return 128 + stop.signum
    except Exception as err:  # another Meltano version, or a project it cannot read
        print(f"Meltano's library could not read the project: {err!r}", file=sys.stderr)
        return UNAVAILABLE
    finally:
        gc.freeze()  # what is there now lives as long as the process: not looked at again
        gc.enable()

    executable = [str(Path(sys.executable).with_name("meltano"))]
    top = ["--environment", args.environment] if args.environment else []
    flags = ["--full-refresh"] if args.full_refresh or args.dry_run else []
    flags += ["--no-state-update"] if args.dry_run else []
    catalogs: dict[str, Path | None] = {}

    def plan(name: str) -> tuple[list[str], dict[str, str]]:
        tasks, env = tasks_of(name, found)
        return [t for t in tasks if not skipped(name, t, found["absence_source"])], env

    def run_one(name: str, task: str, env: dict[str, str]) -> int:
        extractor = task.split()[0]
        known = found["extractors"].get(extractor)
        if known and not known["own_catalog"] and extractor not in catalogs:
            catalogs[extractor] = catalog_for(
                executable + top, extractor, known["key"], args.refresh_catalog, discover
            )
        if args.catalogs_only:
            return 0
        # The ledger stores with each target run the Meltano run and the job that started it.
        env.update(MELTANO_RUN_ID=str(uuid.uuid4()), SYNC_JOB=name)
        if args.environment:
            env["MELTANO_ENVIRONMENT"] = args.environment
        if known and catalogs.get(extractor) is not None:
            env[known["catalog_env"]] = str(catalogs[extractor])
        return meltano([*top, "run", *flags, *task.split()], env)

    try:
        failed = run_names(args.names, plan, run_one, args.dry_run, args.catalogs_only)
    except Stopped as stop:
        return 128 + stop.signum
    if args.catalogs_only:
        ready = sum(1 for path in catalogs.values() if path is not None)
        print(f"{ready} of {len(catalogs)} catalogs ready; no task was run.", flush=True)
        return 0 if ready == len(catalogs) else 1
    return 1 if failed else 0


def let_go() -> None:
    """Before the interpreter ends: close the connections to Meltano's system database (a
    PostgreSQL server sees a goodbye, not a dropped connection), then leave the objects this
    process made to the end of the process instead of the garbage collector's last passes
    (finalizing Meltano's object graph took ~0.25 s of every sync). Exit handlers still run
    (Meltano's telemetry among them); only cycles of objects are not taken apart one by one."""
    from meltano.core import db

    for engine, _ in list(getattr(db, "_engines", {}).values()):
        engine.dispose()
    gc.freeze()


if __name__ == "__main__":
    code = main()
    if "meltano.core.db" in sys.modules:
        let_go()
    sys.exit(code)
