"""How Personio's wrapped v1 employee attributes become plain columns (pure functions)."""

from __future__ import annotations

from typing import Any

from tap_personio.employees import columns_for, flatten, schema_for, snake_case

STANDARD = [
    "email",
    "hire_date",
    "last_working_day",
    "weekly_working_hours",
    "vacation_day_balance",
    "last_modified_at",
    "department",
    "office",
    "team",
    "supervisor",
    "absence_entitlement",
    "cost_centers",
]
ATTRIBUTES: list[dict[str, Any]] = [
    {"key": "id", "label": "ID", "type": "integer", "universal_id": "id"},
    *({"key": k, "label": k, "type": "standard", "universal_id": k} for k in STANDARD),
    {"key": "dynamic_1", "label": "Shift planning", "type": "standard", "universal_id": None},
    {"key": "dynamic_2", "label": "IBAN", "type": "standard", "universal_id": "iban"},
    {"key": "dynamic_3", "label": "Language Skills", "type": "tags", "universal_id": None},
    {"key": "dynamic_4", "label": "Größe (cm)", "type": "integer", "universal_id": None},
    {"key": "dynamic_5", "label": "Start Date", "type": "date", "universal_id": None},
    {"key": "dynamic_6", "label": "Hire date", "type": "date", "universal_id": None},
]


def wrapped(value: Any, kind: str = "standard") -> dict[str, Any]:
    return {"label": "x", "value": value, "type": kind, "universal_id": None}


def employee(**attributes: Any) -> dict[str, Any]:
    return {"type": "Employee", "attributes": attributes}


def test_custom_attributes_are_named_by_universal_id_or_snake_case_label() -> None:
    names = {c.key: c.name for c in columns_for(ATTRIBUTES)}
    assert names["dynamic_1"] == "shift_planning"
    assert names["dynamic_2"] == "iban"
    assert names["dynamic_3"] == "language_skills"
    assert names["dynamic_4"] == "groesse_cm"
    assert names["dynamic_5"] == "start_date"
    assert names["dynamic_6"] == "dynamic_6"  # "hire_date" is taken by the standard attribute


def test_custom_attribute_types_follow_personio_types_and_sampled_checkbox_values() -> None:
    sample = [employee(dynamic_1=wrapped(True)), employee(dynamic_1=wrapped(False))]
    schema = schema_for(columns_for(ATTRIBUTES, sample))["properties"]
    assert schema["shift_planning"]["type"] == ["boolean", "null"]
    assert schema["iban"]["type"] == ["string", "null"]
    assert schema["language_skills"]["type"] == ["array", "null"]
    assert schema["groesse_cm"]["type"] == ["integer", "null"]
    assert schema["start_date"] == {"type": ["string", "null"], "format": "date"}
    assert schema["hire_date"]["format"] == "date"
    assert schema["last_modified_at"]["format"] == "date-time"
    assert schema["department_id"]["type"] == ["integer", "null"]


def test_a_standard_custom_attribute_with_text_values_stays_text() -> None:
    sample = [employee(dynamic_1=wrapped("yes")), employee(dynamic_1=wrapped(True))]
    schema = schema_for(columns_for(ATTRIBUTES, sample))["properties"]
    assert schema["shift_planning"]["type"] == ["string", "null"]


def test_flatten_unwraps_values_related_objects_supervisor_and_entitlements() -> None:
    sample = [employee(dynamic_1=wrapped(True))]
    columns = columns_for(ATTRIBUTES, sample)
    row = employee(
        id=wrapped(1001, "integer"),
        email=wrapped("anna@example.com"),
        hire_date=wrapped("2024-02-01T00:00:00+01:00", "date"),
        last_working_day=wrapped(None, "date"),
        weekly_working_hours=wrapped("38.5"),
        vacation_day_balance=wrapped("12.5", "decimal"),
        last_modified_at=wrapped("2026-11-20T10:00:00+0100", "date"),
        department=wrapped({"type": "Department", "attributes": {"id": 601, "name": "Kitchen"}}),
        office=wrapped(""),
        team=wrapped([]),
        supervisor=wrapped(
            {"type": "Employee", "attributes": {"id": wrapped(1000, "integer")}}, "standard"
        ),
        absence_entitlement=wrapped(
            [
                {
                    "type": "TimeOffType",
                    "attributes": {"id": 9001, "name": "Vacation", "entitlement": 28},
                }
            ],
            "standard",
        ),
        dynamic_1=wrapped(False),
        dynamic_3=wrapped('["English","German"]', "tags"),
        dynamic_4=wrapped("180", "integer"),
    )
    record = flatten(row, columns)
    assert record["id"] == 1001
    assert record["email"] == "anna@example.com"
    assert record["hire_date"] == "2024-02-01"
    assert record["last_working_day"] is None
    assert record["weekly_working_hours"] == 38.5
    assert record["vacation_day_balance"] == 12.5
    assert record["last_modified_at"] == "2026-11-20T10:00:00+01:00"
    assert (record["department_id"], record["department_name"]) == (601, "Kitchen")
    assert (record["office_id"], record["office_name"]) == (None, None)
    assert (record["team_id"], record["team_name"]) == (None, None)
    assert record["supervisor_id"] == 1000
    assert record["absence_entitlement"] == [
        {"id": 9001, "name": "Vacation", "category": None, "entitlement": 28}
    ]
    assert record["shift_planning"] is False
    assert record["language_skills"] == ["English", "German"]
    assert record["groesse_cm"] == 180


def test_only_attributes_the_credential_may_read_become_columns() -> None:
    readable = [a for a in ATTRIBUTES if a["key"] in ("id", "email")]
    schema = schema_for(columns_for(readable))["properties"]
    assert set(schema) == {"id", "email", "last_modified_at"}
    record = flatten(employee(id=wrapped(7, "integer")), columns_for(readable))
    assert record == {"id": 7, "email": None, "last_modified_at": None}


def test_empty_strings_and_lists_become_null() -> None:
    readable = [a for a in ATTRIBUTES if a["key"] in ("id", "email", "dynamic_3", "cost_centers")]
    record = flatten(
        employee(id=wrapped(1), email=wrapped(""), dynamic_3=wrapped([]), cost_centers=wrapped([])),
        columns_for(readable),
    )
    assert record == {
        "id": 1,
        "email": None,
        "language_skills": None,
        "cost_centers": None,
        "last_modified_at": None,
    }


def test_snake_case_transliterates_and_joins_words() -> None:
    assert snake_case("Schicht-Planung (aktiv)") == "schicht_planung_aktiv"
    assert snake_case("Über uns") == "ueber_uns"
