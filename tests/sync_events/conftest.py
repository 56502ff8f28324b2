"""Fixtures of the receiver's tests: its settings and a ledger whose clock the test moves."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sync_events.settings import Settings
from sync_ledger import Ledger

TOKEN = "t" * 16 + "-receiver-secret-0123456789"
COMPANY = "314159"


class Clock:
    def __init__(self) -> None:
        self.now = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)

    def __call__(self) -> datetime:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += timedelta(seconds=seconds)


@pytest.fixture
def settings() -> Settings:
    return Settings(token=TOKEN, company_id=COMPANY, max_body_bytes=2048)


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def ledger(tmp_path: Path, clock: Clock) -> Iterator[Ledger]:
    with Ledger(f"sqlite:///{tmp_path / 'sync-ledger.db'}", clock=clock) as opened:
        yield opened
