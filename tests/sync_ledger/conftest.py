"""Ledger fixtures; `ledger_url` (tests/conftest.py) runs every test on SQLite and PostgreSQL."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
from sync_ledger import Ledger


class Clock:
    """A settable clock for the ledger, so tests move time instead of waiting."""

    def __init__(self) -> None:
        self.now = datetime(2025, 3, 3, 6, 30, tzinfo=UTC)

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **delta: float) -> datetime:
        self.now += timedelta(**delta)
        return self.now


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def ledger(ledger_url: str, clock: Clock) -> Iterator[Ledger]:
    with Ledger(ledger_url, clock=clock) as opened:
        yield opened
