"""The receiver's settings: what it refuses to start with, and the token kept out of sight."""

from __future__ import annotations

import pytest
from sync_events.settings import Settings, SettingsError

from tests.sync_events.conftest import COMPANY, TOKEN

BASE = {"SYNC_EVENTS_TOKEN": TOKEN, "SYNC_EVENTS_COMPANY_ID": COMPANY}


def test_defaults_listen_on_loopback() -> None:
    settings = Settings.from_env(BASE)
    assert (settings.host, settings.port, settings.max_body_bytes) == ("127.0.0.1", 8480, 65536)


@pytest.mark.parametrize(
    ("env", "named"),
    [
        ({"SYNC_EVENTS_TOKEN": ""}, "SYNC_EVENTS_TOKEN"),
        ({"SYNC_EVENTS_TOKEN": "short"}, "at least 24"),
        ({"SYNC_EVENTS_COMPANY_ID": " "}, "SYNC_EVENTS_COMPANY_ID"),
        ({"SYNC_EVENTS_MAX_BODY_BYTES": "0"}, "SYNC_EVENTS_MAX_BODY_BYTES"),
        ({"SYNC_EVENTS_PORT": "eighty"}, "SYNC_EVENTS_PORT"),
        ({"SYNC_EVENTS_HOST": "192.0.2.10"}, "plain http is served only on loopback"),
        ({"PERSONIO_BASE_URL": "http://personio.example.com"}, "https"),
    ],
)
def test_a_wrong_setting_stops_with_one_sentence_naming_it(env: dict[str, str], named: str) -> None:
    with pytest.raises(SettingsError, match=named):
        Settings.from_env(BASE | env)


def test_a_host_off_loopback_is_served_with_tls() -> None:
    env = BASE | {
        "SYNC_EVENTS_HOST": "192.0.2.10",
        "SYNC_EVENTS_TLS_CERT": "c",
        "SYNC_EVENTS_TLS_KEY": "k",
    }
    assert Settings.from_env(env).tls_cert == "c"


def test_the_token_is_not_in_the_settings_repr() -> None:
    settings = Settings.from_env(BASE)
    assert TOKEN not in repr(settings)
    assert TOKEN not in str(settings)
