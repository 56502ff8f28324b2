"""The webhook events the receiver (``sync-events``) stored: kept until the sync they drive
succeeded, so a restart loses none. A row holds the event's name, its area and the id of the
record it names, and the delivery's key (a hash: a delivery Personio repeats is stored once);
never a body, never a token.

States: ``pending`` (to be synced; ``next_try_at`` says when), ``done`` (its run succeeded),
``failed`` (its runs kept failing; the daily full sync reconciles the record).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import func, insert, inspect, select, update
from sqlalchemy.exc import IntegrityError

from sync_ledger.ledger import RUN_LOG_DAYS, Ledger
from sync_ledger.schema import events

PENDING, DONE, FAILED = "pending", "done", "failed"
EVENT_STATUSES = (PENDING, DONE, FAILED)


@dataclass(frozen=True)
class StoredEvent:
    id: int
    received_at: datetime
    event_name: str
    area: str
    record_id: str
    attempts: int
    next_try_at: datetime


class Duplicate(Exception):
    """An event with this delivery key is stored already (pending, done or failed)."""


def store(
    ledger: Ledger, event_name: str, area: str, record_id: str, *, key: str | None = None
) -> int:
    """Keep one received event (committed when this returns); its row id. :class:`Duplicate`
    when an event with the same ``key`` is stored already (kept while done rows are: longer
    than Personio retries a delivery)."""
    now = ledger.clock()
    row = {
        "received_at": now,
        "event": event_name,
        "area": area,
        "record_id": record_id,
        "status": PENDING,
        "attempts": 0,
        "next_try_at": now,
        "delivery_key": key,
    }
    try:
        with ledger.engine.begin() as conn:
            made = conn.execute(insert(events).values(**row)).inserted_primary_key
    except IntegrityError as exc:
        if key is None:
            raise
        raise Duplicate(key) from exc
    return int(made[0]) if made else 0


def present(ledger: Ledger) -> bool:
    """Whether the ledger has the events table (a ledger older than the receiver has not)."""
    with ledger.engine.connect() as conn:
        return bool(inspect(conn).has_table(events.name))


def pending(ledger: Ledger) -> list[StoredEvent]:
    """Every pending event, oldest first."""
    query = (
        select(
            events.c.id,
            events.c.received_at,
            events.c.event,
            events.c.area,
            events.c.record_id,
            events.c.attempts,
            events.c.next_try_at,
        )
        .where(events.c.status == PENDING)
        .order_by(events.c.id)
    )
    with ledger.engine.connect() as conn:
        return [StoredEvent(*row) for row in conn.execute(query)]


def finish(ledger: Ledger, ids: Iterable[int]) -> None:
    """The run of these events succeeded: they are done (done rows older than the run log's
    retention are removed)."""
    now = ledger.clock()
    with ledger.engine.begin() as conn:
        conn.execute(
            update(events)
            .where(events.c.id.in_(list(ids)))
            .values(status=DONE, finished_at=now, reason=None)
        )
        cutoff = now - timedelta(days=RUN_LOG_DAYS)
        conn.execute(events.delete().where(events.c.status == DONE, events.c.finished_at < cutoff))


def failed_try(
    ledger: Ledger, ids: Iterable[int], reason: str, *, max_attempts: int, backoff: float
) -> None:
    """The run of these events failed: they wait ``backoff`` seconds times their attempts, and
    after ``max_attempts`` they are ``failed`` (the daily full sync reconciles them)."""
    now = ledger.clock()
    attempts = events.c.attempts + 1
    with ledger.engine.begin() as conn:
        for event_id, tried in conn.execute(
            select(events.c.id, events.c.attempts).where(events.c.id.in_(list(ids)))
        ).all():
            done = tried + 1 >= max_attempts
            values: dict[str, Any] = {
                "attempts": attempts,
                "reason": reason[:2000],
                "next_try_at": now + timedelta(seconds=backoff * (tried + 1)),
            }
            if done:
                values.update(status=FAILED, finished_at=now)
            conn.execute(update(events).where(events.c.id == event_id).values(**values))


def summary(ledger: Ledger) -> dict[str, Any]:
    """Counts per status, the oldest pending event, and the last failed ones (JSON-ready)."""
    with ledger.engine.connect() as conn:
        grouped = select(events.c.status, func.count()).group_by(events.c.status)
        counted: dict[str, int] = {str(s): int(n) for s, n in conn.execute(grouped).all()}
        oldest = conn.execute(
            select(events.c.received_at, events.c.event, events.c.record_id)
            .where(events.c.status == PENDING)
            .order_by(events.c.id)
            .limit(1)
        ).first()
        failed = conn.execute(
            select(events.c.event, events.c.record_id, events.c.attempts, events.c.reason)
            .where(events.c.status == FAILED)
            .order_by(events.c.id.desc())
            .limit(10)
        ).all()
    counts = {status: int(counted.get(status, 0)) for status in EVENT_STATUSES}
    return {
        "received": sum(counts.values()),
        **counts,
        "oldest_pending": None
        if oldest is None
        else {
            "received_at": oldest[0].isoformat(),
            "event_name": oldest[1],
            "record_id": oldest[2],
        },
        "last_failed": [
            {"event_name": n, "record_id": r, "attempts": a, "reason": why}
            for n, r, a, why in failed
        ],
    }
