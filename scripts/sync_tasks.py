"""How ``scripts/sync.py`` (and its runner, ``meltano_runner.py``) go through a job's tasks:
which tasks a schedule or job names and which have nothing to do, each task in turn carrying on
after a failure, and each extractor's catalog, discovered again only when what it depends on
changed.

Why not Meltano's own catalog cache: Meltano 4.4 (``meltano/core/plugin/singer/tap.py``,
``catalog_cache_key``) caches no catalog of a plugin installed editable (``pip_url: -e ...``,
as every plugin of this project is), discovers again on every ``--full-refresh`` run, and keys
its cache on the settings only, not on the plugin's code. So ``sync.py`` keeps the catalog
itself: ``meltano invoke --dump=catalog EXTRACTOR`` (discovery with the ``select`` rules applied)
into ``.meltano/sync-catalogs/EXTRACTOR.json`` when the key (``meltano_facts.py``: every
setting of the extractor, its rules, its code and installed distributions) changed, and hands
it to ``meltano run`` through the extractor's ``catalog`` extra (``TAP_..._CATALOG``), with
which Meltano discovers nothing. Standard library only.
"""

from __future__ import annotations

import contextlib
import json
import os
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

CATALOGS = Path(".meltano") / "sync-catalogs"
"""Where the catalogs are kept, in the project (private to the user, like Meltano's files)."""

Runner = Callable[[list[str], dict[str, str], Path], int]
"""Runs a command with its standard output into a file; the exit status."""


def meltano_python(meltano: str) -> str | None:
    """The Python that runs ``meltano`` (its script's first line), to import Meltano's library."""
    with contextlib.suppress(OSError, UnicodeDecodeError):
        with open(meltano, encoding="utf-8") as script:
            first = script.readline().strip()
        if first.startswith("#!") and "python" in first and " " not in first[2:].strip():
            return first[2:].strip()
    return None


def tasks_of(name: str, facts: dict[str, Any]) -> tuple[list[str], dict[str, str]]:
    """The tasks of schedule or job ``name`` and the environment variables it sets."""
    schedule = facts["schedules"].get(name)
    if schedule is not None:
        return list(facts["jobs"].get(schedule["job"], [])), dict(schedule["env"])
    if name in facts["jobs"]:
        return list(facts["jobs"][name]), {}
    raise SystemExit(
        f"There is no schedule or job named {name!r} in meltano.yml (schedules: "
        f"{sorted(facts['schedules'])}; jobs: {sorted(facts['jobs'])})."
    )


def dry_run_tasks(tasks: list[str]) -> list[str]:
    """The tasks of a dry run. Nothing is written in a dry run, so an area cannot see what an
    earlier area would have created or linked (the absences of a user the employees area would
    create). Consecutive tasks that share their loader and whose extractors inherit from the same
    plugin (``tap-personio--employees``, ``tap-personio--absences``) therefore run as one pipeline
    of that plugin, whose target plans them together."""
    merged: list[list[str]] = []
    for task in tasks:
        extractor, *rest = task.split()
        family = extractor.split("--")[0]
        if merged and merged[-1][1:] == rest and merged[-1][0].split("--")[0] == family:
            merged[-1][0] = family
        else:
            merged.append([extractor, *rest])
    return [" ".join(task) for task in merged]


Plan = Callable[[str], tuple[list[str], dict[str, str]]]
"""A schedule's or job's tasks to run and the environment variables it sets."""
TaskRun = Callable[[str, str, dict[str, str]], int]
"""Runs task ``task`` of ``name`` with extra environment variables; its exit status."""


def run_names(
    names: list[str], plan: Plan, run: TaskRun, dry_run: bool, catalogs_only: bool
) -> list[str]:
    """Run every task of ``names`` in turn, carrying on after a failure; the failed tasks.
    Says each task, each failure and the outcome in one line each."""
    failed: list[str] = []
    total = 0
    for name in names:
        tasks, env = plan(name)
        if dry_run:
            env["SYNC_DRY_RUN"] = "true"
            tasks = dry_run_tasks(tasks)
        for task in tasks:
            total += 1
            only = " (its catalog only)" if catalogs_only else ""
            print(f"-- {name}: {task}{only}", flush=True)
            returncode = run(name, task, dict(env))
            if returncode != 0:
                failed.append(task)
                print(f"   failed (exit {returncode}); carrying on with the rest", flush=True)
    if catalogs_only:
        return failed
    if failed:
        print(f"{len(failed)} of {total} tasks failed: " + "; ".join(failed), file=sys.stderr)
    else:
        print(f"All {total} tasks succeeded.", flush=True)
    return failed


def not_leading(task: str, absence_source: dict[str, str]) -> str | None:
    """Why ``task`` has nothing to do, or None: an absences pipeline into the system that leads
    absences (its target reads the absences and ignores them)."""
    extractor, *rest = task.split()
    if not extractor.endswith("--absences") or len(rest) != 1:
        return None
    loader = rest[0]
    leading = absence_source.get(loader)
    if leading is None or len(set(absence_source.values())) != 1:
        return None  # not a sync target, or the targets disagree (they refuse to run then)
    if loader != f"target-{leading}":
        return None
    return f"{leading.capitalize()} leads absences (absence_source); {loader} ignores them"


def skipped(name: str, task: str, absence_source: dict[str, str]) -> bool:
    """Whether ``task`` of ``name`` is left out, said in one line."""
    why = not_leading(task, absence_source)
    if why:
        print(f"-- {name}: skipped {task}: {why}", flush=True)
    return bool(why)


def catalog_for(
    meltano: list[str], extractor: str, key: str, refresh: bool, runner: Runner
) -> Path | None:
    """The extractor's catalog, selection applied: the kept one when its key is ``key`` (and
    not ``refresh``), else discovered now. None when discovery failed (``meltano run`` then
    discovers by itself, and fails the task if it fails again)."""
    catalog, stamp = CATALOGS / f"{extractor}.json", CATALOGS / f"{extractor}.key"
    with contextlib.suppress(OSError):
        if not refresh and stamp.read_text() == key and catalog.is_file():
            return catalog.resolve()
    CATALOGS.mkdir(parents=True, exist_ok=True)
    stamp.unlink(missing_ok=True)
    fresh = catalog.with_suffix(".new")
    print(
        f"   discovering the catalog of {extractor} (new, or its code or settings changed)",
        flush=True,
    )
    code = runner([*meltano, "invoke", "--dump=catalog", extractor], dict(os.environ), fresh)
    try:
        valid = code == 0 and isinstance(json.loads(fresh.read_text()).get("streams"), list)
    except (OSError, ValueError, AttributeError):
        valid = False
    if not valid:
        fresh.unlink(missing_ok=True)
        print(f"   discovery failed (exit {code}); Meltano discovers again in the run", flush=True)
        return None
    fresh.replace(catalog)
    stamp.write_text(key)
    return catalog.resolve()
