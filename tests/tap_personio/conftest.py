"""Fixtures for tap-personio: a tap runner that captures Singer messages, and no real sleeps."""

from __future__ import annotations

import io
import json
from collections.abc import Callable
from contextlib import redirect_stdout
from typing import Any

import pytest
from sandbox.admin import Admin, Admins
from sandbox.server import Sandbox
from tap_personio.tap import TapPersonio

Messages = list[dict[str, Any]]


def run(tap: TapPersonio) -> Messages:
    """Sync every selected stream of ``tap``; the Singer messages it wrote."""
    out = io.StringIO()
    with redirect_stdout(out):
        tap.sync_all()
    return [json.loads(line) for line in out.getvalue().splitlines() if line.strip()]


@pytest.fixture
def sync(request: pytest.FixtureRequest) -> Callable[..., tuple[Messages, dict[str, Any]]]:
    """``sync(config, state=None, streams=None)`` -> (messages, final state).

    The tap really waits unless the test also asks for ``no_sleep``.
    """
    extra: dict[str, Any] = {}
    if "no_sleep" in request.fixturenames:
        extra["sleep"] = request.getfixturevalue("no_sleep").append

    def _sync(
        config: dict[str, Any],
        state: dict[str, Any] | None = None,
        streams: list[str] | None = None,
    ) -> tuple[Messages, dict[str, Any]]:
        tap = TapPersonio(config=config, state=state, parse_env_config=False, **extra)
        if streams is not None:
            for name, stream in tap.streams.items():
                stream.selected = name in streams
        messages = run(tap)
        return messages, dict(tap.state)

    return _sync


@pytest.fixture
def admin(sandbox: Sandbox, admins: Admins) -> Admin:
    """The Personio emulator's admin endpoints (the sandbox is on the demo seed, no faults)."""
    return admins.personio


@pytest.fixture
def config(sandbox: Sandbox) -> dict[str, Any]:
    """The tap's settings for the session's sandbox (the demo credential)."""
    return {
        "client_id": "demo-client-id",
        "client_secret": "demo-client-secret",
        "base_url": sandbox.personio_url,
    }


def records(messages: Messages, stream: str) -> list[dict[str, Any]]:
    return [m["record"] for m in messages if m["type"] == "RECORD" and m["stream"] == stream]


@pytest.fixture
def run_tap() -> Callable[[TapPersonio], Messages]:
    return run


@pytest.fixture
def only_records() -> Callable[[Messages, str], list[dict[str, Any]]]:
    return records
