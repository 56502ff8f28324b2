"""Bring a ledger's tables to the current schema (Alembic), safely from several processes.

The migrations live in ``sync_ledger/migrations/versions``. Their version is kept in the table
``ledger_schema_version`` (not Alembic's default name: in production the ledger may share Meltano's
system database, which has an ``alembic_version`` of its own). A ledger created before the
migrations existed (its tables, no version table) is brought to the first revision and stamped.

Concurrency: on PostgreSQL the upgrade runs under a transaction-scoped advisory lock; on SQLite
inside ``BEGIN IMMEDIATE``, so a second process waits for the first and then finds the schema
current. DDL is transactional on both, so a process killed mid-upgrade leaves the old schema.

A database without any ledger table gets the current schema from the code's own table
definitions and is stamped at the newest revision (Alembic's recipe for a database built from
scratch), so neither a new nor a current ledger loads Alembic; a test holds the migrations and the
table definitions to the same schema.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

from sqlalchemy import (
    Column,
    Connection,
    Engine,
    MetaData,
    PrimaryKeyConstraint,
    String,
    Table,
    create_engine,
    event,
    inspect,
    text,
)

from sync_ledger import schema

if TYPE_CHECKING:
    from alembic.config import Config

VERSION_TABLE = "ledger_schema_version"
HEAD = "0007"
"""The newest revision in ``migrations/versions`` (a test holds the two equal). A ledger already
at it, or a new one, is opened without loading Alembic at all (about 11 MB of memory per run)."""
BASELINE = "0001"
_LOCK_KEY = 0x5_1ED6E2  # pg_advisory_xact_lock key held while the schema changes
_LEGACY_COLUMNS = {"ledger_runs": {"pid": "INTEGER", "host": "VARCHAR(64)"}}
"""Columns added before the migrations existed, which a ledger of the first release lacks."""

logging.getLogger("alembic").setLevel(logging.WARNING)


def _config(conn: Connection | None = None) -> Config:
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", "sync_ledger:migrations")
    config.attributes["connection"] = conn
    return config


def head() -> str:
    """The newest revision in the migrations folder."""
    from alembic.script import ScriptDirectory

    return str(ScriptDirectory.from_config(_config()).get_current_head())


def current(conn: Connection) -> str | None:
    """The revision a ledger is at, or None when it has no version table."""
    if not inspect(conn).has_table(VERSION_TABLE):
        return None
    found = conn.execute(text(f"SELECT version_num FROM {VERSION_TABLE}")).scalars().all()  # noqa: S608
    return str(found[0]) if len(found) == 1 else None


def _create_at_head(conn: Connection) -> None:
    """The current schema from the table definitions, stamped at ``HEAD`` as Alembic stamps."""
    schema.metadata.create_all(conn)
    version = Table(
        VERSION_TABLE,
        MetaData(),
        Column("version_num", String(32), nullable=False),
        PrimaryKeyConstraint("version_num", name=f"{VERSION_TABLE}_pkc"),
    )
    version.create(conn)
    conn.execute(version.insert().values(version_num=HEAD))


def _upgrade(conn: Connection) -> None:
    if current(conn) == HEAD:
        return
    tables = set(inspect(conn).get_table_names())
    if VERSION_TABLE not in tables and not tables & set(schema.metadata.tables):
        _create_at_head(conn)
        return
    run_migrations(conn)


def run_migrations(conn: Connection) -> None:
    """Alembic's upgrade to the newest revision; a ledger of the first release is stamped first."""
    from alembic import command

    config = _config(conn)
    tables = set(inspect(conn).get_table_names())
    if VERSION_TABLE not in tables and "ledger_runs" in tables:
        for table, columns in _LEGACY_COLUMNS.items():
            present = {column["name"] for column in inspect(conn).get_columns(table)}
            for name, sql_type in columns.items():
                if name not in present:
                    conn.exec_driver_sql(f"ALTER TABLE {table} ADD COLUMN {name} {sql_type}")
        command.stamp(config, BASELINE)
    command.upgrade(config, "head")


def upgrade(engine: Engine) -> None:
    """Apply every migration the ledger at ``engine`` lacks (a no-op when it is current)."""
    if engine.dialect.name == "postgresql":
        with engine.connect() as conn:
            if current(conn) == HEAD:
                return
        with engine.begin() as conn:
            conn.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": _LOCK_KEY})
            _upgrade(conn)
        return
    immediate = _immediate_engine(engine)
    try:
        with immediate.begin() as conn:
            _upgrade(conn)
            # a write, so that a ledger the sync may not write is found now, not mid-run
            conn.exec_driver_sql(f"UPDATE {VERSION_TABLE} SET version_num = version_num")  # noqa: S608
    finally:
        immediate.dispose()


def _immediate_engine(engine: Engine) -> Engine:
    """An engine on the same SQLite database whose transactions start with BEGIN IMMEDIATE
    (the write lock at once) and include DDL (SQLAlchemy's documented recipe for pysqlite)."""
    immediate = create_engine(engine.url, connect_args={"timeout": 60})

    @event.listens_for(immediate, "connect")
    def _no_implicit_transactions(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.isolation_level = None

    @event.listens_for(immediate, "begin")
    def _begin_immediate(conn: Connection) -> None:
        conn.exec_driver_sql("BEGIN IMMEDIATE")

    return immediate
