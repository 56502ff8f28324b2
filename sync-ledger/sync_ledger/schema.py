"""The ledger's tables: ids, fingerprints, actions, reasons, counts and times; no personal data."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    Column,
    DateTime,
    Dialect,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
)
from sqlalchemy.types import TypeDecorator

ID = 255  # room for any vendor id, kept as text


class UTCDateTime(TypeDecorator[datetime]):
    """A timezone-aware UTC datetime on every backend.

    PostgreSQL keeps it as ``timestamptz``; SQLite has no time zones, so the value is stored as
    naive UTC text (which also sorts and compares correctly) and made aware again when read.
    """

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError(f"the ledger only stores timezone-aware times, got naive {value}")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: Any, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)


metadata = MetaData()

links = Table(
    "ledger_links",
    metadata,
    Column("system", String(32), primary_key=True),
    Column("entity", String(64), primary_key=True),
    Column("source_id", String(ID), primary_key=True),
    Column("dest_id", String(ID), nullable=False),
    Column("fingerprint", String(64)),
    Column("data", JSON(none_as_null=True)),
    Column("updated_at", UTCDateTime, nullable=False),
)

runs = Table(
    "ledger_runs",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("target", String(128), nullable=False),
    Column("dry_run", Boolean, nullable=False),
    Column("status", String(16), nullable=False),
    Column("started_at", UTCDateTime, nullable=False),
    Column("finished_at", UTCDateTime),
    Column("counts", JSON(none_as_null=True)),
    Column("pid", Integer),  # the process that runs it, on ``host``: to tell a killed run
    Column("host", String(64)),  # a hash of the host name
    # what started it, when Meltano (or scripts/sync.py) says so
    Column("meltano_run_id", String(64)),
    Column("meltano_job", String(128)),
    Column("meltano_environment", String(64)),
    Index("ix_ledger_runs_target_started", "target", "started_at"),
    Index("ix_ledger_runs_started", "started_at"),
)

actions = Table(
    "ledger_actions",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("run_id", Integer, ForeignKey("ledger_runs.id", ondelete="CASCADE"), nullable=False),
    Column("at", UTCDateTime, nullable=False),
    Column("entity", String(64), nullable=False),
    Column("source_id", String(ID), nullable=False),
    Column("action", String(16), nullable=False),
    Column("reason", Text, nullable=False),
    Column("dest_id", String(ID)),
    Index("ix_ledger_actions_run", "run_id", "entity", "action"),
)

retries = Table(
    "ledger_retries",
    metadata,
    Column("system", String(32), primary_key=True),
    Column("entity", String(64), primary_key=True),
    Column("source_id", String(ID), primary_key=True),
    Column("reason", Text, nullable=False),
    Column("attempts", Integer, nullable=False),
    Column("first_failed_at", UTCDateTime, nullable=False),
    Column("last_failed_at", UTCDateTime, nullable=False),
    Column("given_up", Boolean, nullable=False),
    Index("ix_ledger_retries_given_up", "given_up", "first_failed_at"),
)

locks = Table(
    "ledger_locks",
    metadata,
    Column("key", String(32), primary_key=True),  # a hash of the target and its account
    Column("target", String(128), nullable=False),
    Column("run_id", Integer),
    Column("pid", Integer),
    Column("host", String(64)),
    Column("acquired_at", UTCDateTime, nullable=False),
)

intents = Table(
    "ledger_intents",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("run_id", Integer, ForeignKey("ledger_runs.id", ondelete="CASCADE"), nullable=False),
    Column("at", UTCDateTime, nullable=False),
    Column("entity", String(64), nullable=False),
    Column("source_id", String(ID), nullable=False),
    Column("action", String(16), nullable=False),
    Column("method", String(8), nullable=False),
    Column("path", String(512), nullable=False),  # ids only, never a body
    Column("outcome", String(16)),  # null: sent, answer not (yet) known; done; refused
    Column("dest_id", String(ID)),
    Index("ix_ledger_intents_run", "run_id", "entity", "source_id"),
)

events = Table(
    "ledger_events",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("received_at", UTCDateTime, nullable=False),
    Column("event", String(64), nullable=False),  # the event name, e.g. person.updated
    Column("area", String(32), nullable=False),  # the sync it drives: employees, absences
    Column("record_id", String(ID), nullable=False),  # the record the event names, no body
    Column("status", String(16), nullable=False),  # pending, done, failed
    Column("attempts", Integer, nullable=False),
    Column("next_try_at", UTCDateTime, nullable=False),
    Column("finished_at", UTCDateTime),
    Column("reason", Text),
    Column("delivery_key", String(64)),  # hash of the delivery's required fields: one row each
    Index("ix_ledger_events_status", "status", "area", "received_at"),
    Index("ux_ledger_events_delivery", "delivery_key", unique=True),
)

lookups = Table(
    "ledger_lookups",
    metadata,
    Column("key", String(64), primary_key=True),  # a hash of the destination and the request
    Column("what", String(255), nullable=False),  # the request's path and page, for a person
    Column("etag", String(255)),  # the validator the vendor sent (None: a remembered count)
    Column("body", JSON(none_as_null=True)),  # look-ups only (never users), cut to what is used
    Column("updated_at", UTCDateTime, nullable=False),
)
