"""One run at a time per destination account: a lock held through the ledger for a whole run.

On PostgreSQL it is a session advisory lock on a connection of its own; on SQLite an exclusive
transaction on a small lock database beside the ledger file (``<ledger>-lock-<key>``). Either way
the database releases it when the holder's connection or process ends, so a crashed run never
blocks for good. The holder writes who it is into ``ledger_locks``, so a run that waits in vain
can name it.
"""

from __future__ import annotations

import hashlib
import os
import sqlite3
import time
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from types import TracebackType
from typing import TYPE_CHECKING, Any, Self

from sqlalchemy import Connection, create_engine, delete, select, text, update
from sqlalchemy.pool import NullPool

from sync_ledger.db import LedgerError, private_file, sqlite_path, upsert
from sync_ledger.runs import process_gone, this_host
from sync_ledger.schema import locks

if TYPE_CHECKING:
    from sync_ledger.ledger import Ledger

DEFAULT_WAIT_SECONDS = 300
POLL_SECONDS = 0.5


class LockBusy(LedgerError):
    """Another run held the lock for the whole wait; the message names it."""


def lock_key(name: str) -> str:
    """The stored key of a lock name (a hash: names may hold account names or client ids)."""
    return hashlib.sha256(name.encode()).hexdigest()[:16]


class RunLock:
    """``with RunLock(ledger, "target-staffomatic", account):`` waits up to ``wait`` seconds for
    the lock of that destination account, then raises :class:`LockBusy` naming the holder."""

    def __init__(
        self,
        ledger: Ledger,
        target: str,
        account: str,
        *,
        wait: float = DEFAULT_WAIT_SECONDS,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.ledger = ledger
        self.target = target
        self.key = lock_key(f"{target}\n{account}")
        self.wait = wait
        self.clock = clock
        self.sleep = sleep
        self._hold: Any = None

    def __enter__(self) -> Self:
        self.acquire()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.release()

    def acquire(self) -> None:
        deadline = self.clock() + self.wait
        while True:
            self._hold = self._try()
            if self._hold is not None:
                break
            if self.clock() >= deadline:
                raise LockBusy(self._busy_sentence())
            self.sleep(min(POLL_SECONDS, max(deadline - self.clock(), 0.0)))
        with self.ledger.engine.begin() as conn:
            values = {
                "key": self.key,
                "target": self.target,
                "run_id": None,
                "pid": os.getpid(),
                "host": this_host(),
                "acquired_at": self.ledger.clock(),
            }
            upsert(conn, locks, values)

    def held_by_run(self, run_id: int) -> None:
        """Note the ledger run that holds the lock (named to those who wait for it)."""
        with self.ledger.engine.begin() as conn:
            conn.execute(update(locks).where(locks.c.key == self.key).values(run_id=run_id))

    def release(self) -> None:
        if self._hold is None:
            return
        try:
            with self.ledger.engine.begin() as conn:
                mine = (locks.c.key == self.key, locks.c.pid == os.getpid())
                conn.execute(delete(locks).where(*mine, locks.c.host == this_host()))
        finally:
            self._hold.close()
            self._hold = None

    # ---- per backend ---------------------------------------------------------------------------

    def _try(self) -> Any:
        """A handle holding the lock, or None when another holds it."""
        engine = self.ledger.engine
        if engine.dialect.name == "postgresql":
            return _try_postgres(engine.url, int(self.key, 16) - (1 << 63))
        path = sqlite_path(engine.url.render_as_string(hide_password=False))
        if path is None:  # in-memory: no other process can share it
            return _NoLock()
        return _try_sqlite(path.with_name(f"{path.name}-lock-{self.key}"))

    def _busy_sentence(self) -> str:
        with self.ledger.engine.connect() as conn:
            holder = conn.execute(select(locks).where(locks.c.key == self.key)).first()
        waited = f"waited {self.wait:g} s"
        if holder is None:
            who = f"another run of {self.target}"
        else:
            run = f"run {holder.run_id}, " if holder.run_id is not None else ""
            here = holder.host == this_host()
            where = "on this host" if here else "on another host"
            gone = here and holder.pid is not None and process_gone(holder.pid)
            state = " (its process is gone; the lock frees itself shortly)" if gone else ""
            since = _when(holder.acquired_at)
            who = (
                f"another run of {holder.target} ({run}process {holder.pid} {where}, "
                f"since {since}){state}"
            )
        return (
            f"{who[0].upper()}{who[1:]} is writing to the same destination account; {waited} "
            "for it to finish. Run again once it has ended, or raise lock_wait_seconds."
        )


def _when(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%d %H:%M:%S UTC")


class _NoLock:
    def close(self) -> None:
        return


class _PostgresHold:
    def __init__(self, engine: Any, conn: Connection) -> None:
        self.engine = engine
        self.conn = conn

    def close(self) -> None:
        try:
            self.conn.close()  # the session ends: PostgreSQL drops its advisory locks
        finally:
            self.engine.dispose()


def _try_postgres(url: Any, key: int) -> _PostgresHold | None:
    engine = create_engine(url, poolclass=NullPool)  # a session of its own, never pooled
    conn = engine.connect()
    try:
        got = conn.execute(text("SELECT pg_try_advisory_lock(:key)"), {"key": key}).scalar()
        conn.commit()
    except BaseException:
        conn.close()
        engine.dispose()
        raise
    if got:
        return _PostgresHold(engine, conn)
    conn.close()
    engine.dispose()
    return None


def _try_sqlite(path: Path) -> sqlite3.Connection | None:
    private_file(path, "the sync ledger's run lock")
    conn = sqlite3.connect(path, timeout=0, isolation_level=None)
    try:
        conn.execute("BEGIN EXCLUSIVE")
    except sqlite3.OperationalError as exc:
        conn.close()
        if "locked" in str(exc) or "busy" in str(exc):
            return None
        raise
    return conn
