"""Settings declared once: the schema holds defaults, enums and ranges; Settings is typed."""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest
from singer_sdk.exceptions import ConfigValidationError
from target_staffomatic.settings import CONFIG_SCHEMA, Settings, StopRun
from target_staffomatic.target import TargetStaffomatic

BASE = {"account": "demo", "api_token": "t", "base_url": "http://127.0.0.1:9/v3"}


def target(**config: Any) -> TargetStaffomatic:
    return TargetStaffomatic(config={**BASE, **config}, parse_env_config=False)


def test_settings_take_the_schema_defaults_through_the_sdk() -> None:
    settings = target().settings
    declared = CONFIG_SCHEMA["properties"]
    assert settings.max_parallel_writes == declared["max_parallel_writes"]["default"]
    assert settings.absence_window_past_days == declared["absence_window_past_days"]["default"]
    assert settings.sync_fields == frozenset(declared["sync_fields"]["default"])
    assert settings.dry_run is False
    assert settings.agent == "target-staffomatic"


def test_a_null_setting_takes_the_schema_default() -> None:
    settings = Settings.from_config({**BASE, "retry_days": None, "department_source": None})
    assert settings.retry_days == CONFIG_SCHEMA["properties"]["retry_days"]["default"]
    assert settings.department_source == "department"
    assert settings.location_map == {}


@pytest.mark.parametrize(
    "bad",
    [
        {"max_parallel_writes": 0},
        {"retry_days": -1},
        {"absence_window_future_days": -5},
        {"department_source": "office"},
        {"sync_fields": ["salary"]},
    ],
)
def test_enums_and_ranges_are_checked_by_the_schema(bad: dict[str, Any]) -> None:
    with pytest.raises(ConfigValidationError):
        target(**bad)


def test_the_rules_get_the_settings_they_depend_on() -> None:
    settings = target(invite_users=True, sync_fields=["departments"]).settings
    rules = settings.rules(Settings.zone("Europe/Berlin"), date(2026, 1, 1))
    assert rules.invite_users is True
    assert rules.sync_fields == frozenset({"departments"})
    with pytest.raises(StopRun, match="not a known IANA time zone"):
        target(time_zone="Mars/Olympus")
