"""``sync-events register`` against the Personio emulator: created once, then left alone."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import pytest
from sandbox.admin import Admins
from sandbox.server import Sandbox
from sync_events.areas import EVENTS
from sync_events.register import register
from sync_events.settings import Settings, SettingsError


@pytest.fixture
def hooked(settings: Settings, sandbox: Sandbox) -> Settings:
    return replace(
        settings,
        url="http://127.0.0.1:8480/events",
        personio_base_url=sandbox.personio_url,
        personio_client_id="demo-client-id",
        personio_client_secret="demo-client-secret",
    )


def webhooks(admins: Admins) -> list[dict[str, Any]]:
    return list(admins.personio.state().get("webhooks", []))


def writes(admins: Admins) -> int:
    counts = admins.personio.counts()
    return sum(n for k, n in counts.items() if k.split()[0] in ("POST", "PATCH") and "webhook" in k)


def test_register_creates_the_webhook_and_a_second_run_changes_nothing(
    hooked: Settings, admins: Admins
) -> None:
    assert register(hooked).startswith("created")
    [hook] = webhooks(admins)
    assert hook["url"] == hooked.url
    assert hook["status"] == "ENABLED"
    assert hook["auth_type"] == "TOKEN"
    assert hook["token"] == hooked.token
    assert set(hook["enabled_events"]) == set(EVENTS)
    admins.personio.restart_counts()
    assert "up to date" in register(hooked)
    assert writes(admins) == 0
    assert webhooks(admins) == [hook]


def test_a_new_token_is_sent_even_when_personio_hides_tokens(
    hooked: Settings, admins: Admins
) -> None:
    register(hooked)
    admins.personio.variants(webhook_token_shown="hidden")
    renewed = replace(hooked, token="n" * 40)
    said = register(renewed)
    assert said.startswith("updated")
    assert "n" * 40 not in said
    [hook] = webhooks(admins)
    assert hook["token"] == "n" * 40


def test_a_disabled_webhook_is_enabled_again(hooked: Settings, admins: Admins) -> None:
    register(hooked)
    data = admins.personio.state()
    data["webhooks"][0]["status"] = "DISABLED"
    admins.personio.load(data)
    assert "status" in register(hooked)
    assert webhooks(admins)[0]["status"] == "ENABLED"


def test_a_plain_http_url_off_loopback_is_refused(hooked: Settings) -> None:
    with pytest.raises(SettingsError, match="https"):
        register(replace(hooked, url="http://sync.example.com/events"))
