"""``settings_values``: a null setting takes the schema's default, every value is typed."""

from __future__ import annotations

from typing import Any

from sync_ledger.targets import settings_values

SCHEMA = {"properties": {"days": {"default": 7}, "name": {}, "flag": {"default": True}}}


def test_null_takes_the_default_and_values_are_typed() -> None:
    def typed(name: str, value: Any) -> Any:
        return str(value) if name == "name" else value

    values = settings_values(
        ["days", "name", "flag"], SCHEMA, {"days": None, "name": 5, "flag": False}, typed
    )
    assert values == {"days": 7, "name": "5", "flag": False}


def test_a_missing_setting_without_default_is_none() -> None:
    assert settings_values(["name"], SCHEMA, {}, lambda _name, value: value) == {"name": None}
