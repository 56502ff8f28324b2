"""The ledger: links, the run log and the retry queue, on SQLite or PostgreSQL (SQLAlchemy)."""

from __future__ import annotations

import hashlib
import json
import os
import socket
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field, fields
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from types import TracebackType
from typing import Any, Self

from sqlalchemy import (
    Connection,
    Engine,
    Table,
    case,
    create_engine,
    delete,
    event,
    func,
    inspect,
    select,
    text,
    update,
)
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import ArgumentError, NoSuchModuleError, OperationalError, SQLAlchemyError

from sync_ledger.schema import ADDED_COLUMNS, actions, links, metadata, retries, runs

ACTIONS = ("create", "link", "update", "lock", "unlock", "approve", "delete", "skip", "fail")
STATUSES = ("success", "failed", "interrupted")
RUN_LOG_DAYS = 62
STALE_RUN_HOURS = 6
"""An unfinished run older than this is taken for interrupted, wherever its process ran."""
DB_FILE = "sync-ledger.db"
_BATCH = 200  # run-log rows written per round trip
_SCHEMA_LOCK = 0x5_1ED6E2  # pg_advisory_xact_lock key held while the schema is created


class LedgerError(Exception):
    """The ledger cannot be opened or read; the message says what to fix."""


@dataclass(frozen=True)
class Link:
    """What a source record was last written as in the destination."""

    dest_id: str
    fingerprint: str | None
    updated_at: datetime
    data: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Retry:
    """A failed write waiting to be retried (or given up after ``retry_days``)."""

    source_id: str
    reason: str
    attempts: int
    first_failed_at: datetime
    last_failed_at: datetime
    given_up: bool
    system: str = ""
    entity: str = ""


@dataclass(frozen=True)
class RunInfo:
    """One run of a target, as the report shows it."""

    id: int
    target: str
    dry_run: bool
    status: str
    started_at: datetime
    finished_at: datetime | None
    counts: dict[str, dict[str, int]] | None


@dataclass(frozen=True)
class Action:
    """One row of the run log."""

    run_id: int
    at: datetime
    entity: str
    source_id: str
    action: str
    reason: str
    dest_id: str | None


def utcnow() -> datetime:
    return datetime.now(UTC)


def default_url() -> str:
    """The SQLite file in the Meltano project: $MELTANO_PROJECT_ROOT, else the cwd."""
    root = Path(os.environ.get("MELTANO_PROJECT_ROOT") or Path.cwd()).resolve()
    return f"sqlite:///{root / DB_FILE}"


def _plain(value: Any) -> Any:
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() else float(value)
    if isinstance(value, datetime | date):
        return value.isoformat()
    raise TypeError(f"cannot fingerprint a value of type {type(value).__name__}")


def fingerprint(payload: Any) -> str:
    """sha256 (hex) of the canonical JSON of ``payload``: sorted keys, no spaces."""
    canonical = json.dumps(
        payload, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=_plain
    )
    return hashlib.sha256(canonical.encode()).hexdigest()


def safe_url(url: str | URL) -> str:
    """The URL with its password masked, for messages."""
    try:
        return make_url(url).render_as_string(hide_password=True)
    except ArgumentError:
        return "<unparsable URL>"


def _ledger_url(url: str) -> URL:
    parsed = make_url(url)
    if parsed.drivername in ("postgres", "postgresql"):  # psycopg 3 is the driver installed
        parsed = parsed.set(drivername="postgresql+psycopg")
    return parsed


def sqlite_path(url: str) -> Path | None:
    """The file an SQLite URL points at, or None for other databases and in-memory SQLite."""
    parsed = _ledger_url(url)
    if parsed.get_backend_name() != "sqlite" or parsed.database in (None, "", ":memory:"):
        return None
    return Path(parsed.database)


def _first_line(exc: BaseException) -> str:
    orig = getattr(exc, "orig", None) or exc
    lines = str(orig).strip().splitlines()
    return lines[0] if lines else type(orig).__name__


def _make_engine(url: str) -> Engine:
    parsed = _ledger_url(url)
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
        path.parent.mkdir(parents=True, exist_ok=True)
    engine = create_engine(parsed, connect_args={"timeout": 30})

    @event.listens_for(engine, "connect")
    def _pragmas(dbapi_connection: Any, _record: Any) -> None:
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA busy_timeout = 30000")
        cursor.execute("PRAGMA synchronous = NORMAL")
        cursor.execute("PRAGMA foreign_keys = ON")
        cursor.close()

    return engine


def _create_schema(engine: Engine) -> None:
    if engine.dialect.name == "postgresql":
        with engine.begin() as conn:
            conn.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": _SCHEMA_LOCK})
            metadata.create_all(conn)
            _add_missing_columns(conn)
        return
    # SQLite: switching to WAL (once, it is kept in the file) can report "database is locked"
    # without waiting, and another process may create a table or add a column between check
    # and create: retry.
    retryable = ("already exists", "locked", "duplicate column")
    for attempt in range(20):
        try:
            with engine.connect() as conn:
                if conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "delete":
                    conn.exec_driver_sql("PRAGMA journal_mode = WAL")
            metadata.create_all(engine)
            with engine.begin() as conn:
                _add_missing_columns(conn)
            return
        except OperationalError as exc:
            if not any(words in str(exc) for words in retryable) or attempt == 19:
                raise
            time.sleep(0.05 * (attempt + 1))


def _add_missing_columns(conn: Connection) -> None:
    """Add the nullable columns of later releases to a ledger created before them."""
    for table, columns in ADDED_COLUMNS.items():
        present = {column["name"] for column in inspect(conn).get_columns(table)}
        for name, sql_type in columns.items():
            if name not in present:
                conn.exec_driver_sql(f"ALTER TABLE {table} ADD COLUMN {name} {sql_type}")


def this_host() -> str:
    """This machine, as runs store it: a short hash of the host name (no name in the ledger)."""
    return hashlib.sha256(socket.gethostname().encode()).hexdigest()[:16]


def _process_gone(pid: int) -> bool:
    """True when no process ``pid`` runs on this machine (POSIX; elsewhere never known)."""
    if os.name != "posix":
        return False
    try:
        os.kill(pid, 0)  # signal 0: only asks whether the process exists
    except ProcessLookupError:
        return True
    except OSError:  # it exists but belongs to another user
        return False
    return False


def _insert(conn: Connection, table: Table) -> Any:
    return (postgresql if conn.dialect.name == "postgresql" else sqlite).insert(table)


def _upsert(
    conn: Connection, table: Table, values: dict[str, Any], set_: dict[str, Any] | None = None
) -> None:
    stmt = _insert(conn, table).values(**values)
    keys = [c.name for c in table.primary_key.columns]
    updates = {k: stmt.excluded[k] for k in values if k not in keys}
    updates.update(set_ or {})
    conn.execute(stmt.on_conflict_do_update(index_elements=keys, set_=updates))


class Ledger:
    """The store both targets share. Creates its schema on first use (safe concurrently)."""

    def __init__(
        self, url: str, *, create: bool = True, clock: Callable[[], datetime] = utcnow
    ) -> None:
        self.url = safe_url(url)
        self.clock = clock
        missing = f"There is no sync ledger at {self.url} yet; run a target first or point "
        missing += "--ledger-url (SYNC_LEDGER_URL) at the ledger_url the targets use."
        try:
            path = sqlite_path(url)
            if not create and path is not None and not path.exists():
                raise LedgerError(missing)
            self.engine = _make_engine(url)
            if create:
                _create_schema(self.engine)
            else:
                with self.engine.connect() as conn:
                    present = set(inspect(conn).get_table_names())
                if not set(metadata.tables) <= present:
                    raise LedgerError(missing)
        except (ArgumentError, NoSuchModuleError) as exc:
            raise LedgerError(
                f"The ledger URL {self.url} is not valid ({_first_line(exc)}); use e.g. "
                "sqlite:////path/to/sync-ledger.db or postgresql+psycopg://user:pass@host/db."
            ) from None
        except SQLAlchemyError as exc:
            raise LedgerError(
                f"Cannot open the sync ledger at {self.url} ({_first_line(exc)}); check the "
                "ledger_url setting and that the database is running and reachable."
            ) from None

    def close(self) -> None:
        self.engine.dispose()

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    # links ------------------------------------------------------------------------------------

    def links(self, system: str, entity: str) -> dict[str, Link]:
        """Every link of one source system and entity, by source id (load once per run)."""
        query = select(links).where(links.c.system == system, links.c.entity == entity)
        with self.engine.connect() as conn:
            return {
                row.source_id: Link(row.dest_id, row.fingerprint, row.updated_at, row.data or {})
                for row in conn.execute(query)
            }

    def save_link(
        self,
        system: str,
        entity: str,
        source_id: str,
        dest_id: str,
        fingerprint: str | None,
        data: dict[str, Any] | None = None,
    ) -> None:
        """Create or replace the link of one source record."""
        values = {
            "system": system,
            "entity": entity,
            "source_id": str(source_id),
            "dest_id": str(dest_id),
            "fingerprint": fingerprint,
            "data": data or None,
            "updated_at": self.clock(),
        }
        with self.engine.begin() as conn:
            _upsert(conn, links, values)

    def drop_link(self, system: str, entity: str, source_id: str) -> None:
        with self.engine.begin() as conn:
            conn.execute(
                delete(links).where(
                    links.c.system == system,
                    links.c.entity == entity,
                    links.c.source_id == str(source_id),
                )
            )

    # runs -------------------------------------------------------------------------------------

    def start_run(self, target: str, dry_run: bool = False) -> Run:
        """Open a run of ``target``; first close its earlier runs that were interrupted."""
        started = self.clock()
        with self.engine.begin() as conn:
            self._close_interrupted(conn, target, started)
            run_id = conn.execute(
                runs.insert()
                .values(
                    target=target,
                    dry_run=dry_run,
                    status="running",
                    started_at=started,
                    pid=os.getpid(),
                    host=this_host(),
                )
                .returning(runs.c.id)
            ).scalar_one()
        return Run(self, run_id, target, dry_run, started)

    def _close_interrupted(self, conn: Connection, target: str, now: datetime) -> None:
        """Mark ``target``'s runs still ``running`` as ``interrupted`` when their process is gone
        from this host, or when they started over :data:`STALE_RUN_HOURS` ago; a run of a live
        process (a run started at the same time) is left alone."""
        cutoff = now - timedelta(hours=STALE_RUN_HOURS)
        host, me = this_host(), os.getpid()
        query = select(runs.c.id, runs.c.started_at, runs.c.pid, runs.c.host).where(
            runs.c.target == target, runs.c.status == "running"
        )
        for run_id, started_at, pid, run_host in conn.execute(query).all():
            gone = run_host == host and pid is not None and pid != me and _process_gone(pid)
            if not gone and started_at >= cutoff:
                continue
            # it ended after its last stored action (or its start): the last sign of life
            last_action = select(func.max(actions.c.at)).where(actions.c.run_id == run_id)
            finished = conn.execute(last_action).scalar() or started_at
            conn.execute(
                update(runs)
                .where(runs.c.id == run_id, runs.c.status == "running")
                .values(status="interrupted", finished_at=finished, counts=_counts(conn, run_id))
            )

    def prune(self, now: datetime | None = None, keep_days: int = RUN_LOG_DAYS) -> int:
        """Delete runs (and their log rows) started over ``keep_days`` ago; returns how many."""
        cutoff = (now or self.clock()) - timedelta(days=keep_days)
        old = select(runs.c.id).where(runs.c.started_at < cutoff)
        with self.engine.begin() as conn:
            conn.execute(delete(actions).where(actions.c.run_id.in_(old)))
            return conn.execute(delete(runs).where(runs.c.started_at < cutoff)).rowcount

    def counts(self, run_id: int) -> dict[str, dict[str, int]]:
        """Number of log rows per entity and action of one run."""
        with self.engine.connect() as conn:
            return _counts(conn, run_id)

    def runs(
        self,
        *,
        target: str | None = None,
        since: datetime | None = None,
        dry_run: bool | None = None,
        limit: int | None = None,
    ) -> list[RunInfo]:
        """Runs, newest first."""
        shown = [runs.c[f.name] for f in fields(RunInfo)]  # not pid and host: may be missing
        query = select(*shown).order_by(runs.c.started_at.desc(), runs.c.id.desc()).limit(limit)
        if target is not None:
            query = query.where(runs.c.target == target)
        if since is not None:
            query = query.where(runs.c.started_at >= since)
        if dry_run is not None:
            query = query.where(runs.c.dry_run == dry_run)
        with self.engine.connect() as conn:
            return [
                RunInfo(
                    row.id,
                    row.target,
                    row.dry_run,
                    row.status,
                    row.started_at,
                    row.finished_at,
                    row.counts,
                )
                for row in conn.execute(query)
            ]

    def actions(self, run_id: int, only: Iterable[str] | None = None) -> list[Action]:
        """The log rows of one run in recorded order (optionally of some actions only)."""
        query = select(actions).where(actions.c.run_id == run_id).order_by(actions.c.id)
        if only is not None:
            query = query.where(actions.c.action.in_(list(only)))
        with self.engine.connect() as conn:
            return [
                Action(r.run_id, r.at, r.entity, r.source_id, r.action, r.reason, r.dest_id)
                for r in conn.execute(query)
            ]

    # retry queue ------------------------------------------------------------------------------

    def queue_failure(self, system: str, entity: str, source_id: str, reason: str) -> None:
        """Queue a failed write for retry; a repeated failure counts one more attempt.

        An entry that was given up starts a new retry period when it fails again.
        """
        now = self.clock()
        values = {
            "system": system,
            "entity": entity,
            "source_id": str(source_id),
            "reason": reason,
            "attempts": 1,
            "first_failed_at": now,
            "last_failed_at": now,
            "given_up": False,
        }
        restart = retries.c.given_up.is_(True)
        with self.engine.begin() as conn:
            _upsert(
                conn,
                retries,
                values,
                {
                    "attempts": case((restart, 1), else_=retries.c.attempts + 1),
                    "first_failed_at": case((restart, now), else_=retries.c.first_failed_at),
                },
            )

    def retries(
        self, system: str, entity: str, *, include_given_up: bool = False
    ) -> dict[str, Retry]:
        """Entries to retry now, by source id (given-up ones only with ``include_given_up``)."""
        query = select(retries).where(retries.c.system == system, retries.c.entity == entity)
        if not include_given_up:
            query = query.where(retries.c.given_up.is_(False))
        return {r.source_id: r for r in self._read_retries(query)}

    def all_retries(self, given_up: bool | None = None) -> list[Retry]:
        """Every entry of the queue (for the report), oldest failure first."""
        query = select(retries).order_by(
            retries.c.first_failed_at, retries.c.system, retries.c.entity, retries.c.source_id
        )
        if given_up is not None:
            query = query.where(retries.c.given_up.is_(given_up))
        return self._read_retries(query)

    def clear_retry(self, system: str, entity: str, source_id: str) -> None:
        with self.engine.begin() as conn:
            conn.execute(
                delete(retries).where(
                    retries.c.system == system,
                    retries.c.entity == entity,
                    retries.c.source_id == str(source_id),
                )
            )

    def give_up_expired(
        self, retry_days: int, now: datetime | None = None, *, system: str | None = None
    ) -> list[Retry]:
        """Give up entries whose first failure is more than ``retry_days`` old; returns them."""
        cutoff = (now or self.clock()) - timedelta(days=retry_days)
        expired = [retries.c.given_up.is_(False), retries.c.first_failed_at < cutoff]
        if system is not None:
            expired.append(retries.c.system == system)
        with self.engine.begin() as conn:
            rows = conn.execute(
                update(retries).where(*expired).values(given_up=True).returning(*retries.c)
            ).all()
        found = [_retry(r) for r in rows]
        return sorted(found, key=lambda r: (r.first_failed_at, r.system, r.entity, r.source_id))

    def _read_retries(self, query: Any) -> list[Retry]:
        with self.engine.connect() as conn:
            return [_retry(r) for r in conn.execute(query)]


def _counts(conn: Connection, run_id: int) -> dict[str, dict[str, int]]:
    query = (
        select(actions.c.entity, actions.c.action, func.count())
        .where(actions.c.run_id == run_id)
        .group_by(actions.c.entity, actions.c.action)
    )
    result: dict[str, dict[str, int]] = {}
    for entity, action, count in conn.execute(query):
        result.setdefault(entity, {})[action] = count
    return {
        entity: {a: per[a] for a in ACTIONS if a in per} for entity, per in sorted(result.items())
    }


def _retry(row: Any) -> Retry:
    return Retry(
        row.source_id,
        row.reason,
        row.attempts,
        row.first_failed_at,
        row.last_failed_at,
        row.given_up,
        row.system,
        row.entity,
    )


class Run:
    """One run of a target: records an action per record, then ``finish`` stores the counts."""

    def __init__(
        self, ledger: Ledger, run_id: int, target: str, dry_run: bool, started_at: datetime
    ) -> None:
        self.ledger = ledger
        self.id = run_id
        self.target = target
        self.dry_run = dry_run
        self.started_at = started_at
        self._pending: list[dict[str, Any]] = []

    def record(
        self,
        entity: str,
        source_id: str,
        action: str,
        reason: str = "",
        dest_id: str | None = None,
    ) -> None:
        """Log one action on one record. ``reason`` must not hold personal data (ids only)."""
        if action not in ACTIONS:
            raise ValueError(f"unknown ledger action {action!r}; use one of {', '.join(ACTIONS)}")
        self._pending.append(
            {
                "run_id": self.id,
                "at": self.ledger.clock(),
                "entity": entity,
                "source_id": str(source_id),
                "action": action,
                "reason": reason,
                "dest_id": None if dest_id is None else str(dest_id),
            }
        )
        if len(self._pending) >= _BATCH:
            self.flush()

    def flush(self) -> None:
        """Write the recorded actions still held in memory."""
        if not self._pending:
            return
        with self.ledger.engine.begin() as conn:
            conn.execute(actions.insert(), self._pending)
        self._pending = []

    def finish(self, status: str = "success") -> dict[str, dict[str, int]]:
        """Close the run with its counts per entity and action, and prune old run-log rows."""
        if status not in STATUSES:
            raise ValueError(f"unknown run status {status!r}; use one of {', '.join(STATUSES)}")
        self.flush()
        counts = self.ledger.counts(self.id)
        now = self.ledger.clock()
        with self.ledger.engine.begin() as conn:
            conn.execute(
                update(runs)
                .where(runs.c.id == self.id)
                .values(status=status, finished_at=now, counts=counts)
            )
        self.ledger.prune(now)
        return counts
