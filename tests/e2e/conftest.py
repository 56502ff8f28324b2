"""End-to-end fixtures: the Meltano project installed once per session, a fresh sandbox per test.

The project is a copy of the repository's ``meltano.yml`` in a temporary folder, with links to
the plugin folders and ``scripts/``, so ``meltano install`` (once per session) and every run
leave the checkout's ``.meltano`` alone. Each test gets the session's sandbox on a fresh demo
seed, its own Meltano system database and its own ledger; the plugins reach the sandbox through
the shared variables the project reads (``PERSONIO_BASE_URL``, ``STAFFOMATIC_BASE_URL``).
"""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest
from sandbox.server import Sandbox

from tests.e2e.helpers import BIN, Sync, clean_environ

ROOT = Path(__file__).resolve().parents[2]
LINKED: tuple[str, ...] = ("sandbox", "vendor-http", "sync-ledger", "tap-personio")
LINKED += ("tap-staffomatic",)
LINKED += ("target-personio", "target-staffomatic", "sync-events", "scripts")


@pytest.fixture(scope="session")
def project(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A Meltano project like the repository's, with every plugin installed."""
    root = tmp_path_factory.mktemp("project")
    shutil.copy(ROOT / "meltano.yml", root / "meltano.yml")  # meltano refuses a symlink here
    for name in LINKED:
        (root / name).symlink_to(ROOT / name)
    env = clean_environ() | {"MELTANO_DATABASE_URI": f"sqlite:///{root}/install.db"}
    done = subprocess.run(
        [str(BIN / "meltano"), "install"],
        cwd=root,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    return root


@pytest.fixture
def sync(project: Path, tmp_path: Path, sandbox: Sandbox) -> Sync:
    """The demo-seeded sandbox, a clean Meltano state and a clean ledger for one test."""
    ledger_url = f"sqlite:///{tmp_path / 'sync-ledger.db'}"
    env = clean_environ() | {
        "MELTANO_ENVIRONMENT": "sandbox",
        "MELTANO_DATABASE_URI": f"sqlite:///{tmp_path / 'meltano.db'}",
        "SYNC_LEDGER_URL": ledger_url,
        "PERSONIO_BASE_URL": sandbox.personio_url,
        "STAFFOMATIC_BASE_URL": sandbox.staffomatic_api,
    }
    return Sync(project, sandbox, env, ledger_url)
