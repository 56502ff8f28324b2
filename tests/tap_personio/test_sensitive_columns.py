"""HR-sensitive employee columns (salary, bank details, birth date...) are read only on request."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml
from singer_sdk.singerlib import Catalog
from tap_personio.employees import SENSITIVE_COLUMNS, sensitive
from tap_personio.tap import TapPersonio

from tests.tap_personio.conftest import Messages, records, run

ROOT = Path(__file__).resolve().parents[2]


SENSITIVE = [
    "fix_salary",
    "hourly_salary",
    "fix_salary_interval",
    "iban",
    "bank_name",
    "bic",
    "date_of_birth",
    "geburtsdatum",
    "tax_id",
    "social_security_number",
    "nationality",
    "termination_reason",
    "steuer_id",
    "religion",
]
SYNCED = [
    "id",
    "email",
    "first_name",
    "last_name",
    "status",
    "hire_date",
    "last_working_day",
    "termination_date",
    "office_name",
    "department_name",
    "team_name",
    "public_holidays",
    "weekly_working_hours",
    "absence_entitlement",
    "shift_planning",
    "last_modified_at",
]


@pytest.mark.parametrize("column", SENSITIVE)
def test_pay_bank_birth_and_identity_columns_are_sensitive(column: str) -> None:
    assert sensitive(column)


@pytest.mark.parametrize("column", SYNCED)
def test_what_the_sync_uses_is_not_sensitive(column: str) -> None:
    assert not sensitive(column)


def employees_of(tap: TapPersonio) -> Messages:
    for name, stream in tap.streams.items():
        stream.selected = name == "employees"
    return run(tap)


def test_the_catalog_marks_sensitive_columns_not_selected_by_default_and_the_tap_leaves_them_out(
    config: dict[str, Any], no_sleep: list[float]
) -> None:
    tap = TapPersonio(config=config, parse_env_config=False, sleep=no_sleep.append)
    entry = Catalog.from_dict(tap.catalog_dict).get_stream("employees")
    assert entry is not None
    off = {b[-1] for b, m in entry.metadata.items() if b and m.selected_by_default is False}
    assert "fix_salary" in off
    assert "email" not in off

    messages = employees_of(tap)
    schema = next(m for m in messages if m["type"] == "SCHEMA")["schema"]["properties"]
    assert "fix_salary" not in schema
    people = records(messages, "employees")
    assert people
    assert all("fix_salary" not in person for person in people)
    assert people[0]["email"]


def test_a_catalog_that_selects_a_sensitive_column_gets_it(
    config: dict[str, Any], no_sleep: list[float]
) -> None:
    discovered = TapPersonio(config=config, parse_env_config=False, sleep=no_sleep.append)
    catalog = Catalog.from_dict(discovered.catalog_dict)
    entry = catalog.get_stream("employees")
    assert entry is not None
    entry.metadata[("properties", "fix_salary")].selected = True
    tap = TapPersonio(
        config=config, catalog=catalog.to_dict(), parse_env_config=False, sleep=no_sleep.append
    )
    people = records(employees_of(tap), "employees")
    assert all(isinstance(p["fix_salary"], float | int) for p in people if p["id"] == 1001)
    assert "hourly_salary" not in people[0]


def test_meltanos_default_select_of_tap_personio_excludes_the_same_columns() -> None:
    """Meltano's `select: ['*.*']` selects every column by name, overriding selected-by-default;
    so the plugin's own `select` in meltano.yml leaves out what the tap marks sensitive."""
    project = yaml.safe_load((ROOT / "meltano.yml").read_text(encoding="utf-8"))
    plugin = next(p for p in project["plugins"]["extractors"] if p["name"] == "tap-personio")
    excluded = [s.removeprefix("!employees.") for s in plugin["select"] if s.startswith("!")]
    assert plugin["select"][0] == "*.*"
    assert excluded == list(SENSITIVE_COLUMNS)
