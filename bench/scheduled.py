"""The production path: ``python scripts/sync.py SCHEDULE`` running the schedule's tasks through
Meltano, against the bench's sandbox and ledger, measured as one process tree.

The Meltano project is a copy of the repository's ``meltano.yml`` in ``bench/.meltano-project/``
with links to the plugin folders (as the end-to-end tests make it). Its plugins are installed
once (``meltano install``, editable, about a minute) and again only when ``meltano.yml`` or a
plugin's ``pyproject.toml`` changed; code changes need no reinstall.
"""

from __future__ import annotations

import contextlib
import copy
import hashlib
import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from sandbox_process import BenchError, Sandbox

ROOT = Path(__file__).resolve().parents[1]
PROJECT = ROOT / "bench" / ".meltano-project"
BIN = Path(sys.executable).parent
LINKED: tuple[str, ...] = ("vendor-http", "sync-ledger", "tap-personio", "tap-staffomatic")
LINKED += ("target-personio", "target-staffomatic", "sync-events", "sandbox")
FOREIGN: tuple[str, ...] = ("TAP_", "TARGET_", "PERSONIO_", "STAFFOMATIC_", "SYNC_", "ABSENCE_")
FOREIGN += ("MELTANO_", "RETRY_DAYS", "LOOKBACK_MINUTES", "RATE_LIMIT_WAIT_SECONDS")
"""Variables of the calling shell that would change what the project does: left out."""


def checked(command: list[str], cwd: Path, env: dict[str, str], timeout: float, what: str) -> str:
    """Run ``command`` in ``cwd`` to the end, its output; :class:`BenchError` with the end of
    its output, naming ``what``, when it fails."""
    done = subprocess.run(
        command, cwd=cwd, env=env, capture_output=True, text=True, timeout=timeout, check=False
    )
    if done.returncode != 0:
        raise BenchError(f"`{what}` failed in {cwd}:\n{(done.stdout + done.stderr)[-2000:]}")
    return done.stdout


def fingerprint() -> str:
    digest = hashlib.sha256(b"compiled")  # plugins installed before bytecode was: again
    digest.update((ROOT / "meltano.yml").read_bytes())
    for name in LINKED:
        digest.update((ROOT / name / "pyproject.toml").read_bytes())
    return digest.hexdigest()


def clean_environ() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(FOREIGN)}
    env["PATH"] = f"{BIN}{os.pathsep}{env.get('PATH', '')}"
    return env


def meltano_project() -> Path:
    """The bench's Meltano project, its plugins installed (``meltano install`` when needed)."""
    PROJECT.mkdir(parents=True, exist_ok=True)
    shutil.copy(ROOT / "meltano.yml", PROJECT / "meltano.yml")  # meltano refuses a symlink
    for name in LINKED:
        link = PROJECT / name
        if not link.is_symlink():
            link.symlink_to(ROOT / name)
    stamp = PROJECT / ".installed"
    wanted = fingerprint()
    if stamp.exists() and stamp.read_text() == wanted:
        return PROJECT
    print("  installing the Meltano project's plugins (once) ...", end=" ", flush=True)
    env = clean_environ() | {"MELTANO_DATABASE_URI": f"sqlite:///{PROJECT / 'install.db'}"}
    if (BIN / "uv").exists():
        # compiled at install, as pip does (uv does not by default): without it each start of a
        # plugin compiles its imports again wherever PYTHONDONTWRITEBYTECODE is set
        env |= {"MELTANO_VENV_BACKEND": "uv", "UV_COMPILE_BYTECODE": "1"}
    checked([str(BIN / "meltano"), "install"], PROJECT, env, 900, "meltano install")
    stamp.write_text(wanted)
    print("done")
    return PROJECT


def environment(sb: Sandbox, workdir: Path) -> dict[str, str]:
    """The project's ``sandbox`` environment, pointed at the bench's sandbox and ledger, with
    a Meltano system database (and so state) of this bench run."""
    return clean_environ() | {
        "MELTANO_ENVIRONMENT": "sandbox",
        "MELTANO_DATABASE_URI": f"sqlite:///{workdir / 'meltano.db'}",
        "SYNC_LEDGER_URL": f"sqlite:///{workdir / 'sync-ledger.db'}",
        "PERSONIO_BASE_URL": sb.urls["personio"],
        "STAFFOMATIC_BASE_URL": f"{sb.urls['staffomatic']}/v3",
    }


def meltano_file(project: Path, env: dict[str, str], plugin: str, what: str, out: Path) -> Path:
    """``meltano invoke --dump=WHAT PLUGIN`` into ``out``: the config Meltano hands the plugin
    (``config``) or an extractor's catalog with its selection (``catalog``)."""
    with out.open("w") as file:
        done = subprocess.run(
            [str(BIN / "meltano"), "invoke", f"--dump={what}", plugin],
            cwd=project,
            env=env,
            stdout=file,
            stderr=subprocess.PIPE,
            text=True,
            timeout=600,
            check=False,
        )
    if done.returncode != 0:
        raise BenchError(f"`meltano invoke --dump={what} {plugin}` failed:\n{done.stderr[-1500:]}")
    return out


def installed(project: Path, plugin: str) -> Path:
    """The executable Meltano runs for ``plugin`` (a tap or a target of ours; an inheriting
    extractor such as ``tap-personio--absences`` runs its parent's install)."""
    name = plugin.split("--")[0]
    kind = "extractors" if name.startswith("tap-") else "loaders"
    return project / ".meltano" / kind / name / "venv" / "bin" / name


def warm(executables: list[Path]) -> None:
    """Read every file of the installs of ``executables`` (Meltano's, the plugins') and of the
    plugins' source folders: in the page cache before a measured run, whichever path it takes.
    The machine drops files left unread for a minute, and Meltano's and the project's installs
    sit unread while the piped phases run: read cold, a target's imports took up to 0.4 s
    longer, Meltano's 0.25 s."""
    folders = {path.parents[1] for path in executables} | {ROOT / name for name in LINKED}
    for folder in folders:
        for parent, _, files in os.walk(folder):
            for name in files:
                with contextlib.suppress(OSError), open(os.path.join(parent, name), "rb") as f:
                    while f.read(1 << 20):
                        pass


def tasks_run(out: str, schedule: str) -> list[str]:
    """The tasks ``scripts/sync.py`` ran (its ``-- SCHEDULE: TASK`` lines; skipped ones not)."""
    prefix = f"-- {schedule}: "
    return [
        line[len(prefix) :].strip()
        for line in out.splitlines()
        if line.startswith(prefix) and not line[len(prefix) :].startswith("skipped ")
    ]


def prepare_catalogs(project: Path, schedule: str, env: dict[str, str]) -> dict[str, Path]:
    """``scripts/sync.py --catalogs-only SCHEDULE``, not measured: the catalogs a project that
    ran before has (each size's sandbox has new addresses, so its first run would discover).
    The kept catalog of each extractor of the tasks it would run (not of a skipped one)."""
    command = [sys.executable, str(ROOT / "scripts" / "sync.py"), "--catalogs-only", schedule]
    out = checked(command, project, env, 900, f"scripts/sync.py --catalogs-only {schedule}")
    tasks = [task.removesuffix(" (its catalog only)") for task in tasks_run(out, schedule)]
    extractors = [task.split()[0] for task in tasks]
    return {name: project / ".meltano" / "sync-catalogs" / f"{name}.json" for name in extractors}


def union_of_selections(catalogs: list[dict[str, Any]]) -> dict[str, Any]:
    """One catalog selecting what any of ``catalogs`` (of one tap) selects: a stream or field
    is selected when one of them selects it."""
    union = copy.deepcopy(catalogs[0])
    for other in catalogs[1:]:
        selected = {
            (stream["tap_stream_id"], tuple(entry["breadcrumb"]))
            for stream in other["streams"]
            for entry in stream.get("metadata", [])
            if entry.get("metadata", {}).get("selected")
        }
        for stream in union["streams"]:
            for entry in stream.get("metadata", []):
                if (stream["tap_stream_id"], tuple(entry["breadcrumb"])) in selected:
                    entry.setdefault("metadata", {})["selected"] = True
    return union


def piped_catalogs(
    project: Path, env: dict[str, str], taps: list[str], out: Path
) -> dict[str, Path]:
    """The production selection of each tap: the union of the selections of the extractors of
    the ``sync-all`` job that ``scripts/sync.py`` runs (the absences task into the system that
    leads absences is left out), written to ``out/catalog-TAP.json``."""
    kept = prepare_catalogs(project, "sync-all", env)
    catalogs = {}
    for tap in taps:
        mine = [path for name, path in kept.items() if name.split("--")[0] == tap]
        if not mine:
            raise BenchError(f"No extractor of the sync-all job runs {tap}: nothing to select.")
        union = union_of_selections([json.loads(path.read_text()) for path in mine])
        catalogs[tap] = out / f"catalog-{tap}.json"
        catalogs[tap].write_text(json.dumps(union), encoding="utf-8")
    return catalogs


def run_schedule(
    project: Path, schedule: str, env: dict[str, str], log: Path, timeout: float
) -> tuple[float, float, list[str]]:
    """``python scripts/sync.py SCHEDULE`` in the project: (wall seconds, CPU seconds of the
    whole process tree: the script, Meltano and the plugins, all waited for; the tasks run)."""
    started = time.monotonic()
    said = log.with_suffix(".out")
    with said.open("w") as out:
        process = subprocess.Popen(
            [sys.executable, str(ROOT / "scripts" / "sync.py"), "--log", str(log), schedule],
            cwd=project,
            env=env,
            stdout=out,
            stderr=subprocess.PIPE,
        )
    deadline = started + timeout
    while True:
        pid, status, usage = os.wait4(process.pid, os.WNOHANG)
        if pid:
            break
        if time.monotonic() > deadline:
            process.kill()
            process.wait()
            raise BenchError(f"`scripts/sync.py {schedule}` took longer than {timeout:.0f} s.")
        time.sleep(0.05)
    wall = time.monotonic() - started
    process.returncode = os.waitstatus_to_exitcode(status)
    errors = process.stderr.read().decode(errors="replace") if process.stderr else ""
    if process.returncode != 0:
        tail = "\n".join(log.read_text(errors="replace").splitlines()[-20:]) if log.exists() else ""
        raise BenchError(
            f"`scripts/sync.py {schedule}` ended with exit code {process.returncode}:\n"
            f"{errors[-1000:]}\n{tail}"
        )
    said_text = said.read_text()
    if "discovering the catalog of" in said_text:
        # prepare_catalogs made them ready just before: the plugins' code or settings changed
        raise BenchError(
            f"`scripts/sync.py {schedule}` discovered a catalog again, so its time is not the "
            "scheduled path's: a plugin's code or the project changed during the benchmark. "
            "Measure again on a checkout that does not change while the benchmark runs."
        )
    # wait4 of the script counts the children it waited for (Meltano, which waited for the
    # plugins), so this is the CPU time of the whole scheduled path.
    return wall, usage.ru_utime + usage.ru_stime, tasks_run(said_text, schedule)
