"""Fixtures of the target-personio tests: a sandbox with the demo seed (without its own attendance
periods, whose dates follow the real today), and a harness that runs the target against it."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from sandbox.server import Sandbox, running

from tests.target_personio.helpers import Harness, sqlite_url


@pytest.fixture(scope="module")
def sandbox() -> Iterator[Sandbox]:
    with running(seed="demo") as sb:
        yield sb


@pytest.fixture
def harness(sandbox: Sandbox, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Harness:
    """The demo seed, freshly loaded, with rate limits off (pacing is tested on its own)."""
    import httpx

    httpx.post(f"{sandbox.personio_url}/_sandbox/reset", json={"seed": "demo"}).raise_for_status()
    httpx.post(f"{sandbox.personio_url}/_sandbox/faults", json={"clear": True}).raise_for_status()
    h = Harness(sandbox, sqlite_url(tmp_path), monkeypatch)
    state = h.state()
    state["attendance_periods"] = []
    h.load(state)
    return h
