"""The ``prod`` environment's storage: Meltano's system database and the ledger on PostgreSQL.

``MELTANO_DATABASE_URI`` alone puts both into one throw-away database at 127.0.0.1:5432; the
endpoints and credentials come from the environment variables a production host would set.
"""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest
from sqlalchemy import create_engine, text
from sync_ledger import Ledger

from sandbox import roster
from tests.e2e.helpers import Sync, ok, state, users_by_person, writes
from tests.pg import throwaway_database

pytestmark = [pytest.mark.slow, pytest.mark.postgres]


@pytest.fixture
def database() -> Iterator[str]:
    """A throw-away database, dropped afterwards."""
    with throwaway_database(f"e2e_meltano_{os.getpid()}") as url:
        yield url


def test_prod_environment_keeps_meltano_state_and_the_ledger_in_postgresql(
    sync: Sync, database: str
) -> None:
    env = {key: value for key, value in sync.env.items() if key != "SYNC_LEDGER_URL"}
    sync.env = env | {
        "MELTANO_ENVIRONMENT": "prod",
        "MELTANO_DATABASE_URI": database,
        "PERSONIO_CLIENT_ID": roster.PERSONIO_CLIENT_ID,
        "PERSONIO_CLIENT_SECRET": roster.PERSONIO_CLIENT_SECRET,
        "STAFFOMATIC_ACCOUNT": roster.STAFFOMATIC_ACCOUNT,
        "STAFFOMATIC_API_TOKEN": roster.STAFFOMATIC_API_TOKEN,
        "STAFFOMATIC_USER_AGENT": "e2e tests (tests@example.org)",
    }
    ok(sync.meltano("run", "sync-all"))
    assert "1012" in users_by_person(state(sync.staffomatic))

    engine = create_engine(database)
    with engine.connect() as conn:
        state_ids = set(conn.execute(text("SELECT state_id FROM state")).scalars())
    engine.dispose()
    assert "prod:tap-personio--employees-to-target-staffomatic" in state_ids
    with Ledger(database) as ledger:
        assert "1012" in ledger.links("personio", "employee")
    report = ok(sync.meltano("invoke", "sync-ledger", "report"))
    assert "target-personio" in report.stdout

    # the bookmarks in PostgreSQL carry over: an incremental run with nothing changed
    personio, staffomatic = writes(sync.personio), writes(sync.staffomatic)
    second = ok(sync.meltano("run", "sync-all"))
    assert "No state was found" not in second.stderr
    assert (writes(sync.personio), writes(sync.staffomatic)) == (personio, staffomatic)
