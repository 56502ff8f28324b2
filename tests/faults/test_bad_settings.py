"""Bad settings stop each of the four plugins with one clear sentence and a non-zero exit.

Every case runs the real executable with a config file against a demo sandbox (the targets get a
few Singer messages on stdin, enough to make them connect). The run must exit non-zero, print
exactly one error sentence (the SDK's generic "Config validation failed" line aside) that names
what is wrong, and show no traceback.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from tests.faults.conftest import World, sandbox_world
from tests.faults.helpers import USER_AGENT, LogBook, error_lines, run_plugin

pytestmark = pytest.mark.slow

PERSONIO = "personio"
STAFFOMATIC = "staffomatic"
PLUGINS = {
    "tap-personio": PERSONIO,
    "target-personio": PERSONIO,
    "tap-staffomatic": STAFFOMATIC,
    "target-staffomatic": STAFFOMATIC,
}
DROP = object()


@pytest.fixture(scope="module")
def world(book: LogBook, tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    yield from sandbox_world(book, tmp_path_factory.mktemp("bad-settings"))


def good_config(plugin: str, world: World) -> dict[str, Any]:
    sb = world.sandbox
    ledger = {"ledger_url": f"sqlite:///{world.workdir / (plugin + '.db')}"}
    if PLUGINS[plugin] == PERSONIO:
        config = {
            "client_id": "demo-client-id",
            "client_secret": "demo-client-secret",
            "base_url": sb.personio_url,
        }
    else:
        config = {
            "account": "demo",
            "email": "api@demo-gastro.example",
            "password": "demo-password",
            "base_url": sb.staffomatic_api,
            "user_agent": USER_AGENT,
        }
    return {**config, **(ledger if plugin.startswith("target") else {})}


def stdin_for(plugin: str) -> bytes:
    """A few messages that make a target open its session and talk to its destination."""
    if plugin == "target-staffomatic":
        messages: list[dict[str, Any]] = [
            {
                "type": "SCHEMA",
                "stream": "employees",
                "schema": {"properties": {"id": {"type": "integer"}, "email": {"type": "string"}}},
                "key_properties": ["id"],
            },
            {"type": "RECORD", "stream": "employees", "record": {"id": 1, "email": "a@b.example"}},
        ]
    elif plugin == "target-personio":
        start = (datetime.now(UTC) - timedelta(days=1)).replace(microsecond=0)
        timer = {
            "id": 1,
            "user_id": 7,
            "state": "verified",
            "starts_at": start.isoformat(),
            "ends_at": (start + timedelta(hours=2)).isoformat(),
        }
        user = {"id": 7, "custom_id": "1001", "email": "anna.schmidt@demo-gastro.example"}
        messages = [
            {
                "type": "SCHEMA",
                "stream": stream,
                "schema": {"properties": {k: {} for k in record}},
                "key_properties": ["id"],
            }
            for stream, record in (("users", user), ("work_timers", timer))
        ]
        messages.insert(1, {"type": "RECORD", "stream": "users", "record": user})
        messages.append({"type": "RECORD", "stream": "work_timers", "record": timer})
    else:
        return b""
    return ("\n".join(json.dumps(m) for m in messages) + "\n").encode()


Case = tuple[str, dict[str, Any], list[str]]
CASES: list[Case] = [
    # (plugin, settings changed (DROP removes one), words the sentence must hold)
    ("tap-personio", {"client_id": DROP, "client_secret": DROP}, ["client_id", "client_secret"]),
    ("target-personio", {"client_id": DROP, "client_secret": DROP}, ["client_id", "client_secret"]),
    ("tap-staffomatic", {"email": DROP, "password": DROP}, ["password", "api_token"]),
    ("target-staffomatic", {"email": DROP, "password": DROP}, ["password", "api_token"]),
    ("tap-personio", {"client_secret": "wrong-secret-1234"}, ["client_secret"]),
    ("target-personio", {"client_secret": "wrong-secret-1234"}, ["client_secret"]),
    ("tap-staffomatic", {"password": "wrong-password-1234"}, ["password", "401"]),
    ("target-staffomatic", {"password": "wrong-password-1234"}, ["password", "401"]),
    ("tap-staffomatic", {"api_token": "wrong-token-1234", "password": DROP}, ["api_token"]),
    ("target-staffomatic", {"api_token": "wrong-token-1234", "password": DROP}, ["api_token"]),
    ("tap-staffomatic", {"account": "no-such-account"}, ["account", "no-such-account"]),
    ("target-staffomatic", {"account": "no-such-account"}, ["account", "no-such-account"]),
    ("target-personio", {"absence_source": "both"}, ["absence_source", "both"]),
    ("target-staffomatic", {"absence_source": "both"}, ["absence_source", "both"]),
    ("tap-personio", {"base_url": "http://api.example.com"}, ["base_url", "https"]),
    ("target-personio", {"base_url": "http://api.example.com"}, ["base_url", "https"]),
    ("tap-staffomatic", {"base_url": "http://api.example.com/v3"}, ["base_url", "https"]),
    ("target-staffomatic", {"base_url": "http://api.example.com/v3"}, ["base_url", "https"]),
]


def case_id(case: Case) -> str:
    plugin, changes, _ = case
    what = ",".join(f"{k}-dropped" if v is DROP else f"{k}={v}" for k, v in changes.items())
    return f"{plugin}:{what}"


@pytest.mark.parametrize(("plugin", "changes", "words"), CASES, ids=[case_id(c) for c in CASES])
def test_a_bad_setting_stops_the_plugin_with_one_clear_sentence(
    world: World, tmp_path: Path, plugin: str, changes: dict[str, Any], words: list[str]
) -> None:
    config = {**good_config(plugin, world), **changes}
    config = {k: v for k, v in config.items() if v is not DROP}
    done = run_plugin(
        world.book, f"bad-settings {plugin}", plugin, config, tmp_path, stdin_for(plugin)
    )
    assert done.returncode != 0
    assert "Traceback" not in done.stderr
    sentences = error_lines(done.stderr)
    assert len(sentences) == 1, sentences
    for word in words:
        assert word in sentences[0]
    assert sentences[0].rstrip().endswith((".", ")")), sentences[0]
