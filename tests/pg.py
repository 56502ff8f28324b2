"""Throw-away PostgreSQL databases for the tests (the server CI provides at 127.0.0.1:5432)."""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import OperationalError

# Another server can be named with SYNC_LEDGER_TEST_PG.
PG_ADMIN_URL = os.environ.get(
    "SYNC_LEDGER_TEST_PG", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
)


@contextmanager
def throwaway_database(name: str) -> Iterator[str]:
    """The URL of a new, empty database ``name``, dropped afterwards; the test skips with a
    clear message when no server answers."""
    admin = create_engine(
        PG_ADMIN_URL, isolation_level="AUTOCOMMIT", connect_args={"connect_timeout": 3}
    )
    try:
        with admin.connect() as conn:
            conn.execute(text(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
            conn.execute(text(f"CREATE DATABASE {name}"))
    except OperationalError as exc:
        admin.dispose()
        where = make_url(PG_ADMIN_URL).render_as_string(hide_password=True)
        reason = str(exc.orig).strip().splitlines()[0]
        pytest.skip(f"no PostgreSQL server at {where} ({reason}); the postgres cases are skipped")
    try:
        yield make_url(PG_ADMIN_URL).set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as conn:
            conn.execute(text(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
        admin.dispose()
