"""Fixtures of the target-personio tests: a sandbox with the demo seed (without its own attendance
periods, whose dates follow the real today), and a harness that runs the target against it."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from sandbox.server import Sandbox, running

from tests.target_personio.helpers import Harness


@pytest.fixture(scope="module")
def sandbox() -> Iterator[Sandbox]:
    with running(seed="demo") as sb:
        yield sb


@pytest.fixture
def harness(sandbox: Sandbox, ledger_url: str) -> Iterator[Harness]:
    """The demo seed, freshly loaded, with rate limits off (pacing is tested on its own)."""
    import httpx

    httpx.post(f"{sandbox.personio_url}/_sandbox/reset", json={"seed": "demo"}).raise_for_status()
    httpx.post(f"{sandbox.personio_url}/_sandbox/faults", json={"clear": True}).raise_for_status()
    h = Harness(sandbox, ledger_url)
    state = h.state()
    state["attendance_periods"] = []
    h.load(state)
    yield h
    h.close()
