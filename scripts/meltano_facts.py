"""What ``scripts/sync.py`` needs from the Meltano project, read through Meltano's library (by
``meltano_runner.py``, in the process that then runs the tasks).

Also a command, run by the Python that runs Meltano, in the project's folder:

    python scripts/meltano_facts.py [--environment NAME] [SCHEDULE_OR_JOB ...]

prints one JSON document:

- ``schedules``: ``{name: {"job": job name, "env": {...}}}``; ``jobs``: ``{name: [task, ...]}``;
- ``absence_source``: each sync target's resolved ``absence_source`` (``ABSENCE_SOURCE``, a
  per-plugin variable, ``.env``, the environment's config or meltano.yml's default, as Meltano
  resolves it for the run);
- ``extractors``: per extractor of the tasks of the names given that are run (not of an absences
  task into the system that leads absences, left out), the variable of its ``catalog`` extra and
  the key of its catalog: a hash of everything discovery and the selection depend on (see
  :func:`catalog_key`).

``scripts/sync.py`` falls back to ``meltano schedule list`` / ``job list`` (and Meltano's own
discovery before each task) when Meltano's library cannot be used, e.g. on another version.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import sys
from pathlib import Path
from typing import Any

from meltano.core.plugin import PluginType
from meltano.core.plugin.settings_service import PluginSettingsService
from meltano.core.project import Project

sys.path.insert(0, str(Path(__file__).resolve().parent))
from sync_tasks import not_leading

SOURCE_SUFFIXES = (".py", ".json", ".toml", ".cfg", ".yml", ".yaml", ".txt")
"""Files of an editable plugin folder that can change what its discovery answers."""
SKIPPED = ("__pycache__", "tests", "build", "dist")


def code_fingerprint(root: Path, pip_url: str, plugin_dir: Path) -> str:
    """The plugin's installed code: the source files of each editable folder in ``pip_url``
    (``-e ./tap-personio``), the ``pip_url`` itself (a pinned version) and the distributions
    installed in the plugin's virtual environment (a new singer-sdk)."""
    digest = hashlib.sha256(pip_url.encode())
    words = pip_url.split()
    editable = [words[i + 1] for i, word in enumerate(words[:-1]) if word == "-e"]
    for folder in editable:
        base = (root / folder).resolve()
        for path in sorted(base.rglob("*")):
            parts = path.relative_to(base).parts
            if any(p.startswith(".") or p in SKIPPED or p.endswith(".egg-info") for p in parts):
                continue
            if path.is_file() and path.suffix in SOURCE_SUFFIXES:
                digest.update(f"{folder}/{'/'.join(parts)}\0".encode())
                digest.update(path.read_bytes())
    for dist in sorted(plugin_dir.glob("venv/lib/python*/site-packages/*.dist-info")):
        digest.update(dist.name.encode())
    return digest.hexdigest()


def catalog_key(project: Project, config: dict[str, Any], code: str) -> str:
    """Discovery's inputs: every setting of the extractor (its account, credential and options:
    as Meltano's own cache key) and its extras (the selection, metadata and schema rules applied
    to the discovered catalog), and the plugin's code. Secrets only enter the hash."""
    inputs = {
        "config": config,
        "environment": project.environment.name if project.environment else None,
        "code": code,
    }
    return hashlib.sha256(json.dumps(inputs, sort_keys=True, default=str).encode()).hexdigest()


def facts(environment: str | None, names: list[str]) -> dict[str, Any]:
    """The facts; catalog keys for the extractors of the tasks of ``names`` that are run only
    (resolving an extractor's settings takes Meltano a good fraction of a second)."""
    project = Project.find()
    chosen = environment or os.environ.get("MELTANO_ENVIRONMENT")
    chosen = chosen or project.settings.get("default_environment")
    if chosen:
        project.activate_environment(chosen)
    out: dict[str, Any] = {
        "schedules": {
            s.name: {"job": s.job, "env": {k: str(v) for k, v in (s.env or {}).items()}}
            for s in project.meltano.schedules
            if s.job
        },
        "jobs": {job.name: [str(task) for task in job.tasks] for job in project.meltano.jobs},
        "absence_source": {},
        "extractors": {},
    }
    for loader in project.plugins.get_plugins_of_type(PluginType.LOADERS):
        settings = PluginSettingsService(project, loader)
        if settings.find_setting("absence_source") is not None:
            out["absence_source"][loader.name] = settings.get("absence_source")
    jobs = [out["schedules"][n]["job"] if n in out["schedules"] else n for n in names]
    tasks = [task for job in jobs for task in out["jobs"].get(job, [])]
    wanted = {t.split()[0] for t in tasks if not not_leading(t, out["absence_source"])}
    for extractor in project.plugins.get_plugins_of_type(PluginType.EXTRACTORS):
        if extractor.name not in wanted:
            continue
        settings = PluginSettingsService(project, extractor)
        # every setting and every extra (extras=True would give the extras alone), resolved once
        config = settings.as_dict(redacted=False)
        code = code_fingerprint(
            project.root, extractor.pip_url or "", project.dirs.plugin(extractor, make_dirs=False)
        )
        out["extractors"][extractor.name] = {
            "catalog_env": settings.setting_env(settings.find_setting("_catalog")),
            "key": catalog_key(project, config, code),
            "own_catalog": bool(config.get("_catalog")),  # the user's: sync.py keeps out
        }
    return out


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--environment")
    parser.add_argument("names", nargs="*", help="schedules or jobs whose extractors to key")
    args = parser.parse_args()
    out = sys.stdout
    sys.stdout = sys.stderr  # Meltano logs to standard output; the JSON goes there alone
    try:
        found = facts(args.environment, args.names)
    finally:
        sys.stdout = out
    json.dump(found, out)
    return 0


if __name__ == "__main__":
    sys.exit(main())
