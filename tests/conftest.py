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
