"""Where the ledger lives: URLs, the SQLAlchemy engine, the schema, dialect-aware upserts."""

from __future__ import annotations

import functools
import os
import time
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, Engine, Table, create_engine, event
from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import ArgumentError, OperationalError

from sync_ledger import migrate

DB_FILE = "sync-ledger.db"


class LedgerError(Exception):
    """The ledger cannot be opened or read; the message says what to fix."""


def default_url() -> str:
    """The SQLite file in the Meltano project: $MELTANO_PROJECT_ROOT, else the cwd."""
    root = Path(os.environ.get("MELTANO_PROJECT_ROOT") or Path.cwd()).resolve()
    return f"sqlite:///{root / DB_FILE}"


def safe_url(url: str | URL) -> str:
    """The URL with its password masked, for messages."""
    try:
        return make_url(url).render_as_string(hide_password=True)
    except ArgumentError:
        return "<unparsable URL>"


def ledger_url(url: str) -> URL:
    parsed = make_url(url)
    if parsed.drivername in ("postgres", "postgresql"):  # psycopg 3 is the driver installed
        parsed = parsed.set(drivername="postgresql+psycopg")
    return parsed


def sqlite_path(url: str) -> Path | None:
    """The file an SQLite URL points at, or None for other databases and in-memory SQLite."""
    parsed = ledger_url(url)
    if parsed.get_backend_name() != "sqlite" or parsed.database in (None, "", ":memory:"):
        return None
    database = parsed.database
    if parsed.query.get("uri") == "true" and database.startswith("file:"):
        database = database.removeprefix("file:")  # an SQLite URI filename
    return Path(database)


def first_line(exc: BaseException) -> str:
    orig = getattr(exc, "orig", None) or exc
    lines = str(orig).strip().splitlines()
    return lines[0] if lines else type(orig).__name__


def make_engine(url: str) -> Engine:
    parsed = ledger_url(url)
    backend = parsed.get_backend_name()
    if backend not in ("sqlite", "postgresql"):
        raise LedgerError(
            f"The ledger URL {safe_url(url)} names {backend}, but the sync ledger runs on SQLite "
            "or PostgreSQL; use sqlite:///... or postgresql+psycopg://..."
        )
    if backend == "postgresql":
        return create_engine(parsed, pool_pre_ping=True)
    path = sqlite_path(url)
    if path is not None:
        private_file(path, "the sync ledger")
    engine = create_engine(parsed, connect_args={"timeout": 30})

    @event.listens_for(engine, "connect")
    def _pragmas(dbapi_connection: Any, _record: Any) -> None:
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA busy_timeout = 30000")
        cursor.execute("PRAGMA synchronous = NORMAL")
        cursor.execute("PRAGMA foreign_keys = ON")
        cursor.close()

    return engine


def private_file(path: Path, what: str) -> None:
    """Make sure ``path`` and its folder exist, the file readable by its owner only (0600), as
    SQLite then creates its journal files; one sentence when the folder or file cannot be made."""
    fix = "or point ledger_url (SYNC_LEDGER_URL) somewhere the sync may write."
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise LedgerError(
            f"Cannot create the folder {path.parent} for {what} ({exc.strerror or exc}); "
            f"create it for the user running the sync, {fix}"
        ) from None
    try:
        os.close(os.open(path, os.O_CREAT | os.O_RDONLY, 0o600))
        mode = path.stat()
        if mode.st_mode & 0o077 and mode.st_uid == os.geteuid():  # made by an older release
            path.chmod(0o600)
    except OSError as exc:
        raise LedgerError(
            f"Cannot create {what} file {path} ({exc.strerror or exc}); make its folder "
            f"writable for the user running the sync, {fix}"
        ) from None


def create_schema(engine: Engine) -> None:
    if engine.dialect.name == "sqlite":
        use_wal(engine)
    migrate.upgrade(engine)


def use_wal(engine: Engine) -> None:
    """Switch an SQLite ledger to WAL (once: the file keeps it). The switch can report "database
    is locked" without waiting when another process opens the file at the same moment: retry."""
    for attempt in range(20):
        try:
            with engine.connect() as conn:
                if conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "delete":
                    conn.exec_driver_sql("PRAGMA journal_mode = WAL")
            return
        except OperationalError as exc:
            if "locked" not in str(exc) or attempt == 19:
                raise
            time.sleep(0.05 * (attempt + 1))


def insert(dialect: str, table: Table) -> Any:
    """The dialect's INSERT (with its ON CONFLICT); each dialect is imported when first used,
    so a run on a SQLite ledger does not load PostgreSQL's (about 2 MB)."""
    if dialect == "postgresql":
        from sqlalchemy.dialects import postgresql

        return postgresql.insert(table)
    from sqlalchemy.dialects import sqlite

    return sqlite.insert(table)


def _on_conflict(stmt: Any, table: Table, columns: Iterable[str], set_: dict[str, Any]) -> Any:
    """``stmt`` updating ``columns`` (but the key) and ``set_`` where the key exists."""
    keys = [c.name for c in table.primary_key.columns]
    updates = {k: stmt.excluded[k] for k in columns if k not in keys}
    return stmt.on_conflict_do_update(index_elements=keys, set_={**updates, **set_})


@functools.cache
def _upsert(dialect: str, table: Table, columns: tuple[str, ...]) -> Any:
    """The upsert of ``columns`` into ``table``, built once and reused: built anew for each row
    (as links are saved, one by one), its ON CONFLICT clause left about 14 KB of cyclic garbage
    per row, tens of MB in a large run before a full garbage collection freed it."""
    return _on_conflict(insert(dialect, table), table, columns, {})


def upsert(
    conn: Connection, table: Table, values: dict[str, Any], set_: dict[str, Any] | None = None
) -> None:
    """Insert ``values``, or update the row with the same key (``set_``: other updates, e.g.
    expressions of the row's values)."""
    if set_ is None:
        conn.execute(_upsert(conn.dialect.name, table, tuple(values)), values)
        return
    stmt = insert(conn.dialect.name, table).values(**values)
    conn.execute(_on_conflict(stmt, table, values, set_))
