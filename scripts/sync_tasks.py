"""What ``scripts/sync.py`` asks of the Meltano project before it runs a job's tasks: the
project's facts in one start-up of Meltano, which tasks have nothing to do, and each
extractor's catalog, discovered again only when what it depends on changed.

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
from collections.abc import Callable
from pathlib import Path
from typing import Any

CATALOGS = Path(".meltano") / "sync-catalogs"
"""Where the catalogs are kept, in the project (private to the user, like Meltano's files)."""

Runner = Callable[[list[str], dict[str, str], Path], int]
"""Runs a command with its standard output into a file; the exit status (sync.py's run_task)."""


FACTS = Path(__file__).resolve().parent / "meltano_facts.py"


def meltano_python(meltano: str) -> str | None:
    """The Python that runs ``meltano`` (its script's first line), to import Meltano's library."""
    with contextlib.suppress(OSError, UnicodeDecodeError):
        with open(meltano, encoding="utf-8") as script:
            first = script.readline().strip()
        if first.startswith("#!") and "python" in first and " " not in first[2:].strip():
            return first[2:].strip()
    return None


def project_facts(
    meltano: str, environment: str | None, names: list[str], runner: Runner
) -> dict[str, Any] | None:
    """Schedules, jobs, ``absence_source`` and the extractors' catalog keys, from one start-up
    of Meltano (``meltano_facts.py``); None when that cannot run here."""
    python = meltano_python(meltano)
    if python is None or not Path("meltano.yml").is_file():
        return None
    command = [python, str(FACTS), *(["--environment", environment] if environment else []), *names]
    CATALOGS.mkdir(parents=True, exist_ok=True)
    out = CATALOGS / "facts.json"
    try:
        if runner(command, dict(os.environ), out) != 0:
            return None
        found: dict[str, Any] = json.loads(out.read_text())
    except (OSError, ValueError):
        return None
    finally:
        out.unlink(missing_ok=True)
    return found


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
