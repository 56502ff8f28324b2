"""Fixtures for tap-staffomatic: the sandbox, configs, and running the tap in-process."""

from __future__ import annotations

import contextlib
import functools
import io
import json
import time
from collections.abc import Callable
from typing import Any

import pytest
from sandbox.admin import Admin, Admins
from sandbox.server import Sandbox
from tap_staffomatic.tap import TapStaffomatic

from sandbox import roster

Messages = list[dict[str, Any]]


class Run:
    """What one in-process sync wrote."""

    def __init__(self, messages: Messages) -> None:
        self.messages = messages

    def records(self, stream: str) -> list[dict[str, Any]]:
        return [m["record"] for m in self.of(stream) if m["type"] == "RECORD"]

    def of(self, stream: str) -> Messages:
        return [m for m in self.messages if m.get("stream") == stream]

    def types(self, stream: str) -> list[str]:
        return [m["type"] for m in self.of(stream)]

    @property
    def state(self) -> dict[str, Any]:
        return [m["value"] for m in self.messages if m["type"] == "STATE"][-1]


def sync(
    config: dict[str, Any],
    state: dict | None = None,
    streams: tuple[str, ...] = (),
    sleep: Callable[[float], None] = time.sleep,
) -> Run:
    """Run the tap once (only ``streams`` if given) and collect its messages."""
    tap = TapStaffomatic(config=dict(config), state=state, parse_env_config=False, sleep=sleep)
    if streams:
        for name, stream in tap.streams.items():
            stream.selected = name in streams
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        tap.sync_all()
    return Run([json.loads(line) for line in out.getvalue().splitlines() if line.strip()])


@pytest.fixture
def run_tap(request: pytest.FixtureRequest) -> Callable[..., Run]:
    """``sync``; with the tap's waits recorded in ``no_sleep`` when the test asks for it."""
    if "no_sleep" in request.fixturenames:
        return functools.partial(sync, sleep=request.getfixturevalue("no_sleep").append)
    return sync


@pytest.fixture
def staffomatic(sandbox: Sandbox, admins: Admins) -> Admin:
    """The admin client of the Staffomatic emulator (on the demo seed with no faults)."""
    return admins.staffomatic


@pytest.fixture
def config(sandbox: Sandbox) -> dict[str, Any]:
    return {
        "account": roster.STAFFOMATIC_ACCOUNT,
        "email": roster.STAFFOMATIC_EMAIL,
        "password": roster.STAFFOMATIC_PASSWORD,
        "base_url": sandbox.staffomatic_api,
        "user_agent": "tap-staffomatic tests (tests@example.com)",
    }
