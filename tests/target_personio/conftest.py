"""Fixtures of the target-personio tests: a sandbox with the demo seed (without its own attendance
periods, whose dates follow the real today), and a harness that runs the target against it."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from sandbox.admin import Admins
from sandbox.server import Sandbox

from tests.target_personio.helpers import Harness


@pytest.fixture
def harness(sandbox: Sandbox, admins: Admins, ledger_url: str) -> Iterator[Harness]:
    """The demo seed, freshly loaded, with rate limits off (pacing is tested on its own)."""
    h = Harness(sandbox, admins.personio, ledger_url)
    state = h.state()
    state["attendance_periods"] = []
    h.load(state)
    yield h
    h.close()
