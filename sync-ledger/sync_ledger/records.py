"""What the ledger stores and returns: links, retries, runs, run-log rows, fingerprints."""

from __future__ import annotations

import hashlib
import json
import os
import sys
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

ACTIONS = ("create", "link", "update", "lock", "unlock", "approve", "delete", "skip", "fail")
STATUSES = ("success", "failed", "interrupted")


@dataclass(frozen=True, slots=True)
class Link:
    """What a source record was last written as in the destination.

    A run holds the links of every record it syncs (tens of thousands at 10,000 employees), so
    a link is kept in slots, and links whose ``data`` is the same share one dict
    (:func:`shared_data`): it is never changed in place (copy it to build other data)."""

    dest_id: str
    fingerprint: str | None
    updated_at: datetime
    data: dict[str, Any] = field(default_factory=dict)


SharedData = dict[tuple[tuple[str, type, Any], ...], dict[str, Any]]
"""Link data by its content (each value with its type, so that ``1`` and ``True`` differ)."""


def shared_data(data: Mapping[str, Any] | None, known: SharedData) -> dict[str, Any]:
    """``data`` as a dict, the one in ``known`` with the same content if there is one: many
    links hold the same data (a location and department, a location and days), and each row's
    JSON read from the ledger is a dict of its own. Data holding a list is not shared."""
    fresh = {sys.intern(key): value for key, value in (data or {}).items()}
    try:
        return known.setdefault(tuple((k, type(v), v) for k, v in fresh.items()), fresh)
    except TypeError:  # unhashable: a list or a mapping among the values
        return fresh


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
    meltano_run_id: str | None = None
    meltano_job: str | None = None
    meltano_environment: str | None = None


MELTANO_CONTEXT = {
    "meltano_run_id": "MELTANO_RUN_ID",
    "meltano_job": "SYNC_JOB",
    "meltano_environment": "MELTANO_ENVIRONMENT",
}
"""Run columns and the environment variables they are read from when a run starts: the run id
Meltano uses (``meltano run --run-id`` / ``MELTANO_RUN_ID``; ``scripts/sync.py`` sets it per task),
the job or schedule (``SYNC_JOB``, set by ``scripts/sync.py``) and the Meltano environment."""


def meltano_context(env: Mapping[str, str] | None = None) -> dict[str, str | None]:
    """What started this run, as far as the environment tells (values cut to their columns)."""
    env = os.environ if env is None else env
    sizes = {"meltano_run_id": 64, "meltano_job": 128, "meltano_environment": 64}
    return {
        column: (env.get(variable) or None) and env[variable][: sizes[column]]
        for column, variable in MELTANO_CONTEXT.items()
    }


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
