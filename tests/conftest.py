"""Fixtures for every part: the suite's sandbox, and one ledger location per test on each backend.

The sandbox (both emulators on loopback) starts once per test session; a test that takes
``sandbox`` gets it on a fresh ``demo`` seed with no faults and the default variants, and
``admins`` drives its admin endpoints (another seed: ``admins.personio.reset("scale", ...)``).

Every test that takes `ledger_url` runs twice: on an SQLite file and on PostgreSQL at
127.0.0.1:5432 (a throw-away database for the test session, dropped at the end). The PostgreSQL
case skips with a clear message only when no server answers.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator

import pytest
from sandbox.admin import Admins
from sandbox.server import Sandbox, running
from sqlalchemy import create_engine, text
from sync_ledger.migrate import VERSION_TABLE
from sync_ledger.schema import metadata

from tests.pg import throwaway_database

# Meltano and the plugins start as new Python processes hundreds of times in a session: let them
# keep the bytecode they compile (a machine that sets PYTHONDONTWRITEBYTECODE would have each of
# them compile Meltano, singer-sdk and SQLAlchemy again, seconds of CPU per process).
os.environ.pop("PYTHONDONTWRITEBYTECODE", None)

# `make unit` runs the suite on pytest-xdist workers. Tests that share session state run on one
# worker, in order: the faults suite (test_secrets, its last module, scans the log book of all the
# others; its fault-free results are computed once) and the e2e Meltano project (installed once);
# so do modules whose costly module-scoped fixture would otherwise be built once per worker.
ONE_WORKER: tuple[str, ...] = ("tests/faults/", "tests/e2e/")
ONE_WORKER += ("tests/dropin/test_install_alone.py", "tests/dropin/test_meltano_add.py")
ONE_WORKER += ("tests/tap_personio/test_sdk_suite.py", "tests/sandbox/test_contract_personio.py")


@pytest.hookimpl(optionalhook=True)
def pytest_xdist_make_scheduler(config: pytest.Config, log: object) -> object:
    """pytest-xdist's load scheduling, each test on its own but for the ``ONE_WORKER`` groups."""
    from xdist.scheduler import LoadScopeScheduling

    class OneWorkerGroups(LoadScopeScheduling):
        def _split_scope(self, nodeid: str) -> str:
            return next((group for group in ONE_WORKER if nodeid.startswith(group)), nodeid)

    return OneWorkerGroups(config, log)


@pytest.fixture
def no_sleep() -> list[float]:
    """Waits a plugin asked for, recorded instead of slept: pass ``sleep=no_sleep.append``."""
    return []


@pytest.fixture(scope="session")
def sandbox_session() -> Iterator[Sandbox]:
    """The one sandbox of the test session, in whatever state the last test left it."""
    with running(seed="demo") as served:
        yield served


@pytest.fixture(scope="session")
def admins(sandbox_session: Sandbox) -> Iterator[Admins]:
    """The admin clients of the session's sandbox: ``admins.personio``, ``admins.staffomatic``."""
    with Admins.of(sandbox_session) as both:
        yield both


@pytest.fixture
def sandbox(sandbox_session: Sandbox, admins: Admins) -> Sandbox:
    """The session's sandbox on a fresh ``demo`` seed, no faults, default variants."""
    admins.fresh("demo")
    return sandbox_session


@pytest.fixture(scope="session")
def postgres_url() -> Iterator[str]:
    """A throw-away database for this test session, dropped at the end."""
    with throwaway_database(f"sync_ledger_test_{os.getpid()}") as url:
        yield url


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def ledger_url(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> str:
    """An empty ledger location (no tables yet) on each backend."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path_factory.mktemp('ledger') / 'sync-ledger.db'}"
    url: str = request.getfixturevalue("postgres_url")
    _drop_ledger(url)
    return url


@pytest.fixture
def lose_ledger() -> Callable[[str], None]:
    """Drop every ledger table at a URL, as if the ledger had been lost."""

    return _drop_ledger


def _drop_ledger(url: str) -> None:
    """Drop every ledger table and the ledger's schema version."""
    engine = create_engine(url)
    metadata.drop_all(engine)
    with engine.begin() as conn:
        conn.execute(text(f"DROP TABLE IF EXISTS {VERSION_TABLE}"))
    engine.dispose()
