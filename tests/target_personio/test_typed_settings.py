"""The typed settings: built from the SDK-validated config, defaults taken from the schema only."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

import pytest
from target_personio.client import RunStopped
from target_personio.settings import CONFIG_SCHEMA, Settings
from target_personio.target import TargetPersonio

BASE = {"client_id": "id", "client_secret": "secret", "ledger_url": "sqlite://"}


def test_every_default_comes_from_the_schema() -> None:
    target = TargetPersonio(config=dict(BASE))
    settings = target.settings
    declared = CONFIG_SCHEMA["properties"]
    for name in ("settle_minutes", "retry_days", "absence_window_past_days", "base_url"):
        assert getattr(settings, name) == declared[name]["default"]
    assert settings.only_verified_timers is declared["only_verified_timers"]["default"]
    assert (settings.time_zone, settings.start_date, settings.absence_type_map) == (None, None, {})


def test_a_null_value_takes_the_schema_default_and_start_date_becomes_a_date() -> None:
    config = {**BASE, "settle_minutes": None, "start_date": "2024-10-29T00:00:00+01:00"}
    settings = Settings.from_config(config)
    assert settings.settle_minutes == CONFIG_SCHEMA["properties"]["settle_minutes"]["default"]
    assert settings.start_date == date(2024, 10, 29)


def test_ranges_and_the_absence_source_are_declared_in_the_schema() -> None:
    declared = CONFIG_SCHEMA["properties"]
    for name in ("settle_minutes", "retry_days", "absence_window_future_days"):
        assert declared[name]["minimum"] == 0


@pytest.mark.parametrize(
    ("changes", "sentence"),
    [
        ({"absence_source": "both"}, "absence_source is 'both'"),
        ({"base_url": "http://api.example.com"}, "must use https"),
        ({"client_secret": None}, "Personio credentials are missing"),
        ({"overnight_periods": "Split"}, "overnight_periods is 'Split'; set it to split"),
    ],
)
def test_check_stops_with_one_sentence(changes: dict, sentence: str) -> None:
    settings = Settings.from_config({**BASE, **changes})
    with pytest.raises(RunStopped, match=sentence):
        settings.check()


def test_overnight_periods_is_split_unless_whole_is_asked_for() -> None:
    assert Settings.from_config(dict(BASE)).overnight_periods == "split"
    whole = Settings.from_config({**BASE, "overnight_periods": "whole"})
    whole.check()
    assert whole.overnight_periods == "whole"


def test_credentials_come_from_the_file_when_the_settings_lack_them(tmp_path: Path) -> None:
    path = tmp_path / "personio.json"
    path.write_text(json.dumps({"client_id": "a", "client_secret": "b"}))
    settings = Settings.from_config({"credentials_file": str(path)})
    assert settings.credentials() == ("a", "b")
