"""One run of a target (its run log, counts and status) and how unfinished runs are closed."""

from __future__ import annotations

import hashlib
import os
import socket
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from sqlalchemy import Connection, func, select, update

from sync_ledger.records import ACTIONS, STATUSES
from sync_ledger.schema import actions, runs

if TYPE_CHECKING:
    from sync_ledger.ledger import Ledger
    from sync_ledger.lock import RunLock

STALE_RUN_HOURS = 6
"""An unfinished run older than this is taken for interrupted, wherever its process ran."""
_BATCH = 200  # run-log rows written per round trip


def this_host() -> str:
    """This machine, as runs store it: a short hash of the host name (no name in the ledger)."""
    return hashlib.sha256(socket.gethostname().encode()).hexdigest()[:16]


def process_gone(pid: int) -> bool:
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


def close_interrupted(conn: Connection, target: str, now: datetime) -> None:
    """Mark ``target``'s runs still ``running`` as ``interrupted`` when their process is gone
    from this host, or when they started over :data:`STALE_RUN_HOURS` ago; a run of a live
    process (a run started at the same time) is left alone."""
    cutoff = now - timedelta(hours=STALE_RUN_HOURS)
    host, me = this_host(), os.getpid()
    query = select(runs.c.id, runs.c.started_at, runs.c.pid, runs.c.host).where(
        runs.c.target == target, runs.c.status == "running"
    )
    for run_id, started_at, pid, run_host in conn.execute(query).all():
        gone = run_host == host and pid is not None and pid != me and process_gone(pid)
        if not gone and started_at >= cutoff:
            continue
        # it ended after its last stored action (or its start): the last sign of life
        last_action = select(func.max(actions.c.at)).where(actions.c.run_id == run_id)
        finished = conn.execute(last_action).scalar() or started_at
        conn.execute(
            update(runs)
            .where(runs.c.id == run_id, runs.c.status == "running")
            .values(status="interrupted", finished_at=finished, counts=count_actions(conn, run_id))
        )


def count_actions(conn: Connection, run_id: int) -> dict[str, dict[str, int]]:
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


class Run:
    """One run of a target: records an action per record, then ``finish`` stores the counts."""

    def __init__(
        self,
        ledger: Ledger,
        run_id: int,
        target: str,
        dry_run: bool,
        started_at: datetime,
        *,
        lock: RunLock | None = None,
    ) -> None:
        self.ledger = ledger
        self.lock = lock
        """The destination account's lock this run holds (released when it finishes)."""
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
        if self.lock is not None:
            self.lock.release()
        self.ledger.prune(now)
        return counts
