"""One run of a target (its run log, counts and status) and how unfinished runs are closed."""

from __future__ import annotations

import hashlib
import os
import socket
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from sqlalchemy import Connection, delete, func, select, tuple_, update

from sync_ledger.records import ACTIONS, STATUSES
from sync_ledger.schema import actions, intents, runs

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
        # it ended after its last stored action or intent (or its start): the last sign of life
        last_action = select(func.max(actions.c.at)).where(actions.c.run_id == run_id)
        last_intent = select(func.max(intents.c.at)).where(intents.c.run_id == run_id)
        finished = max(
            (t for t in (conn.execute(q).scalar() for q in (last_action, last_intent)) if t),
            default=started_at,
        )
        salvage_intents(conn, run_id, finished)
        conn.execute(
            update(runs)
            .where(runs.c.id == run_id, runs.c.status == "running")
            .values(status="interrupted", finished_at=finished, counts=count_actions(conn, run_id))
        )


UNKNOWN_OUTCOME = (
    "sent when the run stopped, and whether it took effect is unknown: the next run reads the "
    "destination and links the record if it is there, or sends it again"
)


def salvage_intents(conn: Connection, run_id: int, now: datetime) -> None:
    """Turn the intents a stopped run left into its run log: a write that was done is logged
    with its action, one whose answer never came as ``fail`` with :data:`UNKNOWN_OUTCOME` (the
    next run settles it by reading the destination); refused ones were logged by the run."""
    rows = conn.execute(
        select(intents).where(intents.c.run_id == run_id).order_by(intents.c.id)
    ).all()
    logged = []
    for row in rows:
        if row.outcome == "done":
            reason = "written; recorded from the write-ahead log after the run stopped"
            logged.append((row, row.action, reason))
        elif row.outcome is None:
            logged.append((row, "fail", f"{row.action}: {UNKNOWN_OUTCOME}"))
    if logged:
        conn.execute(
            actions.insert(),
            [
                {
                    "run_id": run_id,
                    "at": now,
                    "entity": row.entity,
                    "source_id": row.source_id,
                    "action": action,
                    "reason": reason,
                    "dest_id": row.dest_id,
                }
                for row, action, reason in logged
            ],
        )
    conn.execute(delete(intents).where(intents.c.run_id == run_id))


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
        """Write the recorded actions still held in memory; the intents of the records they
        cover are done with (in the same transaction, so a kill loses neither)."""
        if not self._pending:
            return
        with self.ledger.engine.begin() as conn:
            conn.execute(actions.insert(), self._pending)
            covered = {(row["entity"], row["source_id"]) for row in self._pending}
            record = tuple_(intents.c.entity, intents.c.source_id)
            conn.execute(
                delete(intents).where(intents.c.run_id == self.id, record.in_(list(covered)))
            )
        self._pending = []

    # ---- the write-ahead record -----------------------------------------------------------------

    def intend(self, entity: str, source_id: str, action: str, method: str, path: str) -> int:
        """Store a write before it is sent (committed at once): a run killed before the write
        is recorded still shows it. Returns the intent's id for :meth:`settle`."""
        values = {
            "run_id": self.id,
            "at": self.ledger.clock(),
            "entity": entity,
            "source_id": str(source_id),
            "action": action,
            "method": method,
            "path": path[:512],
        }
        with self.ledger.engine.begin() as conn:
            inserted = conn.execute(intents.insert().values(**values).returning(intents.c.id))
            return int(inserted.scalar_one())

    def settle(self, intent: int, outcome: str, dest_id: str | None = None) -> None:
        """The outcome of an intended write: ``done`` (with the id it created) or ``refused``."""
        with self.ledger.engine.begin() as conn:
            conn.execute(
                update(intents)
                .where(intents.c.id == intent)
                .values(outcome=outcome, dest_id=None if dest_id is None else str(dest_id))
            )

    def finish(self, status: str = "success") -> dict[str, dict[str, int]]:
        """Close the run with its counts per entity and action, and prune old run-log rows."""
        if status not in STATUSES:
            raise ValueError(f"unknown run status {status!r}; use one of {', '.join(STATUSES)}")
        self.flush()
        if status != "success":  # writes it made whose record the stop cut off
            with self.ledger.engine.begin() as conn:
                salvage_intents(conn, self.id, self.ledger.clock())
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
