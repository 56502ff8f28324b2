"""The ledger: links, the run log and the retry queue, on SQLite or PostgreSQL (SQLAlchemy).

Its parts: ``records`` (what is stored and returned), ``db`` (URLs, engine, schema), ``runs`` (one
run of a target), ``migrate`` (the schema's versions), ``lock`` (one run at a time).
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable
from dataclasses import fields
from datetime import datetime, timedelta
from typing import Any, Self

from sqlalchemy import Table, case, delete, inspect, select, update
from sqlalchemy.exc import ArgumentError, NoSuchModuleError, SQLAlchemyError

from sync_ledger.db import (
    DB_FILE,
    LedgerError,
    create_schema,
    default_url,
    first_line,
    make_engine,
    safe_url,
    sqlite_path,
    upsert,
)
from sync_ledger.lock import DEFAULT_WAIT_SECONDS, RunLock
from sync_ledger.records import (
    ACTIONS,
    STATUSES,
    Action,
    Link,
    Retry,
    RunInfo,
    SharedData,
    fingerprint,
    meltano_context,
    shared_data,
    utcnow,
)
from sync_ledger.runs import STALE_RUN_HOURS, Run, close_interrupted, count_actions, this_host
from sync_ledger.schema import actions, links, retries, runs

RUN_LOG_DAYS = 62

__all__ = [
    "ACTIONS",
    "DB_FILE",
    "RUN_LOG_DAYS",
    "STALE_RUN_HOURS",
    "STATUSES",
    "Action",
    "Ledger",
    "LedgerError",
    "Link",
    "Retry",
    "Run",
    "RunInfo",
    "default_url",
    "fingerprint",
    "safe_url",
    "sqlite_path",
    "this_host",
]


class Ledger:
    """The store both targets share. Creates its schema on first use (safe concurrently)."""

    def __init__(
        self, url: str, *, create: bool = True, clock: Callable[[], datetime] = utcnow
    ) -> None:
        self.url = safe_url(url)
        self.clock = clock
        self._run_columns = [f.name for f in fields(RunInfo)]
        self._locks: list[RunLock] = []
        missing = f"There is no sync ledger at {self.url} yet; run a target first or point "
        missing += "--ledger-url (SYNC_LEDGER_URL) at the ledger_url the targets use."
        try:
            path = sqlite_path(url)
            if not create and path is not None and not path.exists():
                raise LedgerError(missing)
            self.engine = make_engine(url)
            if create:
                create_schema(self.engine)
            else:
                with self.engine.connect() as conn:
                    present = set(inspect(conn).get_table_names())
                    if not {t.name for t in (links, runs, actions, retries)} <= present:
                        raise LedgerError(missing)
                    # an older ledger is read as it is: only the run columns it has
                    columns = {c["name"] for c in inspect(conn).get_columns("ledger_runs")}
                self._run_columns = [c for c in self._run_columns if c in columns]
        except (ArgumentError, NoSuchModuleError) as exc:
            raise LedgerError(
                f"The ledger URL {self.url} is not valid ({first_line(exc)}); use e.g. "
                "sqlite:////path/to/sync-ledger.db or postgresql+psycopg://user:pass@host/db."
            ) from None
        except SQLAlchemyError as exc:
            if "readonly" in str(exc):
                raise LedgerError(
                    f"The sync ledger at {self.url} is read-only ({first_line(exc)}); make the "
                    "file and its folder writable for the user running the sync, or point "
                    "ledger_url (SYNC_LEDGER_URL) at a ledger it may write."
                ) from None
            raise LedgerError(
                f"Cannot open the sync ledger at {self.url} ({first_line(exc)}); check the "
                "ledger_url setting and that the database is running and reachable."
            ) from None

    def close(self) -> None:
        for lock in self._locks:
            lock.release()
        self.engine.dispose()

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    # links ------------------------------------------------------------------------------------

    def links(self, system: str, entity: str) -> dict[str, Link]:
        """Every link of one source system and entity, by source id (load once per run)."""
        query = select(links).where(links.c.system == system, links.c.entity == entity)
        known: SharedData = {}
        with self.engine.connect() as conn:
            return {
                row.source_id: Link(
                    row.dest_id, row.fingerprint, row.updated_at, shared_data(row.data, known)
                )
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
            upsert(conn, links, values)

    def drop_link(self, system: str, entity: str, source_id: str) -> None:
        self._delete_one(links, system, entity, source_id)

    def _delete_one(self, table: Table, system: str, entity: str, source_id: str) -> None:
        """Delete the row of one source record from ``links`` or ``retries``."""
        key = table.c
        with self.engine.begin() as conn:
            conn.execute(
                delete(table).where(
                    key.system == system, key.entity == entity, key.source_id == str(source_id)
                )
            )

    # runs -------------------------------------------------------------------------------------

    def start_run(
        self,
        target: str,
        dry_run: bool = False,
        *,
        account: str | None = None,
        lock_wait: float = DEFAULT_WAIT_SECONDS,
    ) -> Run:
        """Open a run of ``target``; first close its earlier runs that were interrupted.

        A real run that names its destination ``account`` first takes that account's lock, so
        that one run at a time writes to it: it waits up to ``lock_wait`` seconds for a run
        holding it, then raises :class:`~sync_ledger.lock.LockBusy` naming that run. The lock is
        released when the run finishes, when the ledger is closed, or when the process ends."""
        lock = None
        if account is not None and not dry_run:
            lock = RunLock(self, target, account, wait=lock_wait)
            lock.acquire()
            self._locks.append(lock)
        try:
            started = self.clock()
            with self.engine.begin() as conn:
                close_interrupted(conn, target, started)
                run_id = conn.execute(
                    runs.insert()
                    .values(
                        target=target,
                        dry_run=dry_run,
                        status="running",
                        started_at=started,
                        pid=os.getpid(),
                        host=this_host(),
                        **meltano_context(),
                    )
                    .returning(runs.c.id)
                ).scalar_one()
            if lock is not None:
                lock.held_by_run(run_id)
        except BaseException:
            if lock is not None:
                lock.release()
            raise
        return Run(self, run_id, target, dry_run, started, lock=lock)

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
            return count_actions(conn, run_id)

    def runs(
        self,
        *,
        target: str | None = None,
        since: datetime | None = None,
        dry_run: bool | None = None,
        limit: int | None = None,
    ) -> list[RunInfo]:
        """Runs, newest first."""
        query = (
            select(*(runs.c[name] for name in self._run_columns))
            .order_by(runs.c.started_at.desc(), runs.c.id.desc())
            .limit(limit)
        )
        if target is not None:
            query = query.where(runs.c.target == target)
        if since is not None:
            query = query.where(runs.c.started_at >= since)
        if dry_run is not None:
            query = query.where(runs.c.dry_run == dry_run)
        with self.engine.connect() as conn:
            return [RunInfo(**row._mapping) for row in conn.execute(query)]

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
            upsert(
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
        self._delete_one(retries, system, entity, source_id)

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
