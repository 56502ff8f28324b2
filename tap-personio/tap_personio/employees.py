"""Employees as plain records: the schema from the readable attributes, and the flattening.

Personio v1 wraps every attribute as ``{label, value, type, universal_id}``; related objects come
as ``{type, attributes: {id, name, ...}}``; the supervisor is a nested, wrapped employee; unset
values may come as ``""`` or ``[]``. The tap turns all of that into plain columns:

- a column per attribute the credential may read; a record lacking one has it as null;
- standard attributes keep their key (``first_name``, ``hire_date``, ...); a related object
  ``department`` becomes ``department_id`` and ``department_name``; ``supervisor`` becomes
  ``supervisor_id``; dates become ``YYYY-MM-DD``, numbers numbers;
- a custom attribute (key ``dynamic_<n>``) is named after its ``universal_id`` when it has one,
  else after its label in snake_case (``Shift planning`` -> ``shift_planning``), else its key;
  its JSON type follows the attribute type Personio lists.
"""

from __future__ import annotations

import json
import re
import unicodedata
from dataclasses import dataclass
from fnmatch import fnmatchcase
from typing import Any

from vendor_http.timeutil import iso_timestamp

STRING = {"type": ["string", "null"]}
INTEGER = {"type": ["integer", "null"]}
NUMBER = {"type": ["number", "null"]}
BOOLEAN = {"type": ["boolean", "null"]}
DATE = {"type": ["string", "null"], "format": "date"}
DATETIME = {"type": ["string", "null"], "format": "date-time"}
TAGS = {"type": ["array", "null"], "items": {"type": "string"}}

ALWAYS = ("id", "last_modified_at")
"""Columns kept even when the attributes list does not name them (key and replication key)."""

RELATED = ("department", "office", "subcompany", "team", "holiday_calendar", "work_schedule")
"""Related objects flattened to ``<key>_id`` and ``<key>_name``."""

STANDARD_KINDS: dict[str, str] = {
    "id": "integer",
    "first_name": "string",
    "last_name": "string",
    "preferred_name": "string",
    "email": "string",
    "gender": "string",
    "status": "string",
    "position": "string",
    "employment_type": "string",
    "weekly_working_hours": "number",
    "hire_date": "date",
    "contract_end_date": "date",
    "termination_date": "date",
    "termination_type": "string",
    "termination_reason": "string",
    "last_working_day": "date",
    "probation_period_end": "date",
    "vacation_day_balance": "number",
    "fix_salary": "number",
    "fix_salary_interval": "string",
    "hourly_salary": "number",
    "profile_picture": "string",
    "created_at": "datetime",
    "last_modified_at": "datetime",
    "supervisor": "supervisor",
    "absence_entitlement": "entitlement",
    "cost_centers": "cost_centers",
    **dict.fromkeys(RELATED, "related"),
}

SENSITIVE_COLUMNS: tuple[str, ...] = (
    # pay
    "*salary*",
    "*wage*",
    "*bonus*",
    "*gehalt*",
    "*lohn*",
    # bank details
    "*iban*",
    "bic*",
    "*_bic",
    "*bank*",
    "*account_number*",
    "*kontonummer*",
    # birth date, identity and social insurance numbers
    "*birth*",
    "*geburt*",
    "*tax*",
    "*steuer*",
    "*social_security*",
    "*sozialversicherung*",
    "*health_insurance*",
    "*krankenkasse*",
    "*krankenversicherung*",
    "*passport*",
    "*reisepass*",
    # special categories and the reason someone left
    "*nationality*",
    "*staatsangehoerigkeit*",
    "*religion*",
    "*konfession*",
    "termination_reason*",
)
"""Shell patterns (each with a ``*``: Meltano warns about a plain name that matches no column)
of employee columns that are HR-sensitive: not selected by default (the
catalog marks them ``selected-by-default: false``); a catalog or Meltano ``select`` that names
one opts in. Custom attributes are matched by their column name (``iban``, ``date_of_birth``,
``geburtsdatum``)."""


def sensitive(column: str) -> bool:
    """Whether ``column`` of the employees stream is HR-sensitive (:data:`SENSITIVE_COLUMNS`)."""
    return any(fnmatchcase(column, pattern) for pattern in SENSITIVE_COLUMNS)


KIND_BY_PERSONIO_TYPE = {
    "standard": "string",
    "multiline": "string",
    "list": "string",
    "link": "string",
    "date": "date",
    "integer": "integer",
    "decimal": "number",
    "boolean": "boolean",
    "checkbox": "boolean",
    "tags": "tags",
}

DESCRIPTIONS = {
    "id": "Personio employee id.",
    "hire_date": "Hire date (YYYY-MM-DD).",
    "termination_date": "Termination date (YYYY-MM-DD), null when none.",
    "last_working_day": "Last day of work (YYYY-MM-DD), null when none.",
    "weekly_working_hours": "Contractual weekly working hours.",
    "vacation_day_balance": "Vacation days left (only where Personio still sends it).",
    "absence_entitlement": "Entitlement per absence type: id, name, category, entitlement.",
    "supervisor_id": "Personio id of the supervisor.",
    "last_modified_at": "When the employee last changed in Personio (replication key).",
}


@dataclass(frozen=True)
class Column:
    """Where one Personio attribute goes in the record, and how its value is converted."""

    key: str
    name: str
    kind: str


GERMAN = str.maketrans({"ä": "ae", "ö": "oe", "ü": "ue", "ß": "ss"})


def snake_case(text: str) -> str:
    """``Größe (cm)`` -> ``groesse_cm``."""
    plain = text.lower().translate(GERMAN)
    ascii_text = unicodedata.normalize("NFKD", plain).encode("ascii", "ignore").decode()
    return re.sub(r"[^a-z0-9]+", "_", ascii_text.lower()).strip("_")


def columns_for(
    attributes: list[dict[str, Any]], sample: list[dict[str, Any]] | None = None
) -> list[Column]:
    """A column for every attribute the credential may read, custom attributes included.

    v1 has no boolean attribute type: checkboxes are listed as ``standard``. So the values of
    ``standard`` custom attributes in ``sample`` (a page of employees) decide: all booleans make
    a boolean column, all whole numbers an integer one, all numbers a number one; else text.
    """
    listed = {str(a.get("key")) for a in attributes}
    columns = [
        Column(key, key, kind)
        for key, kind in STANDARD_KINDS.items()
        if key in listed or key in ALWAYS
    ]
    taken = set(STANDARD_KINDS) | {f"{key}_{part}" for key in RELATED for part in ("id", "name")}
    taken.add("supervisor_id")
    for attribute in attributes:
        key = str(attribute.get("key") or "")
        if not key or key in STANDARD_KINDS:
            continue
        personio_type = str(attribute.get("type") or "standard")
        kind = KIND_BY_PERSONIO_TYPE.get(personio_type, "string")
        if personio_type == "standard" and key.startswith("dynamic_"):
            kind = _kind_from_values(_values(sample or [], key))
        if key.startswith("dynamic_"):
            name = snake_case(str(attribute.get("universal_id") or attribute.get("label") or ""))
            if not name or name in taken or name[0].isdigit():
                name = key
        else:
            name = key
        taken.add(name)
        columns.append(Column(key, name, kind))
    return columns


def _values(sample: list[dict[str, Any]], key: str) -> list[Any]:
    values = []
    for row in sample:
        attributes = row.get("attributes", row)
        if key in attributes:
            value = _unwrap(attributes[key])
            if not _empty(value):
                values.append(value)
    return values


def _kind_from_values(values: list[Any]) -> str:
    if not values:
        return "string"
    if all(isinstance(v, bool) for v in values):
        return "boolean"
    if any(isinstance(v, bool) for v in values):
        return "string"
    if all(isinstance(v, int) for v in values):
        return "integer"
    if all(isinstance(v, int | float) for v in values):
        return "number"
    return "string"


def schema_for(columns: list[Column]) -> dict[str, Any]:
    """The JSON schema of the ``employees`` stream for these columns."""
    properties: dict[str, Any] = {}
    for column in columns:
        for name, schema in _column_schemas(column):
            if name in DESCRIPTIONS:
                schema = {**schema, "description": DESCRIPTIONS[name]}
            properties[name] = schema
    return {"type": "object", "properties": properties}


def _column_schemas(column: Column) -> list[tuple[str, dict[str, Any]]]:
    name = column.name
    if column.kind == "related":
        return [(f"{name}_id", INTEGER), (f"{name}_name", STRING)]
    if column.kind == "supervisor":
        return [("supervisor_id", INTEGER)]
    if column.kind == "entitlement":
        item = {
            "type": "object",
            "properties": {
                "id": INTEGER,
                "name": STRING,
                "category": STRING,
                "entitlement": NUMBER,
            },
        }
        return [(name, {"type": ["array", "null"], "items": item})]
    if column.kind == "cost_centers":
        item = {
            "type": "object",
            "properties": {"id": INTEGER, "name": STRING, "percentage": NUMBER},
        }
        return [(name, {"type": ["array", "null"], "items": item})]
    simple: dict[str, dict[str, Any]] = {
        "string": STRING,
        "integer": INTEGER,
        "number": NUMBER,
        "boolean": BOOLEAN,
        "date": DATE,
        "datetime": DATETIME,
        "tags": TAGS,
    }
    return [(name, simple[column.kind])]


def flatten(row: dict[str, Any], columns: list[Column]) -> dict[str, Any]:
    """One plain record from a v1 employee (``{"type": "Employee", "attributes": {...}}``)."""
    attributes = row.get("attributes", row)
    record: dict[str, Any] = {}
    for column in columns:
        value = _unwrap(attributes.get(column.key))
        record.update(_convert(column, value))
    return record


def _unwrap(wrapped: Any) -> Any:
    if isinstance(wrapped, dict) and "value" in wrapped and {"label", "type"} & wrapped.keys():
        return wrapped["value"]
    return wrapped


def _empty(value: Any) -> bool:
    return value is None or value == "" or value == [] or value == {}


def _convert(column: Column, value: Any) -> dict[str, Any]:
    name, kind = column.name, column.kind
    if kind == "related":
        fields = _related(value)
        return {f"{name}_id": _integer(fields.get("id")), f"{name}_name": _text(fields.get("name"))}
    if kind == "supervisor":
        fields = _related(value)
        return {"supervisor_id": _integer(_unwrap(fields.get("id")))}
    if kind in ("entitlement", "cost_centers"):
        return {name: _related_list(value, kind)}
    return {name: _scalar(kind, value)}


def _related(value: Any) -> dict[str, Any]:
    if isinstance(value, dict):
        inner = value.get("attributes", value)
        return inner if isinstance(inner, dict) else {}
    return {}


def _related_list(value: Any, kind: str) -> list[dict[str, Any]] | None:
    if _empty(value) or not isinstance(value, list):
        return None
    items = []
    for entry in value:
        fields = {key: _unwrap(val) for key, val in _related(entry).items()}
        if kind == "entitlement":
            items.append(
                {
                    "id": _integer(fields.get("id")),
                    "name": _text(fields.get("name")),
                    "category": _text(fields.get("category")),
                    "entitlement": _number(fields.get("entitlement")),
                }
            )
        else:
            items.append(
                {
                    "id": _integer(fields.get("id")),
                    "name": _text(fields.get("name")),
                    "percentage": _number(fields.get("percentage")),
                }
            )
    return items or None


def _scalar(kind: str, value: Any) -> Any:
    if _empty(value):
        return None
    converters = {
        "string": _text,
        "integer": _integer,
        "number": _number,
        "boolean": _boolean,
        "date": _date,
        "datetime": iso_timestamp,
        "tags": _tags,
    }
    return converters[kind](value)


def _text(value: Any) -> str | None:
    if _empty(value):
        return None
    if isinstance(value, dict | list):
        return json.dumps(value, ensure_ascii=False)
    return str(value)


def _integer(value: Any) -> int | None:
    if _empty(value) or isinstance(value, bool):
        return None
    try:
        return int(value)
    except (TypeError, ValueError):
        try:
            return int(float(value))
        except (TypeError, ValueError):
            return None


def _number(value: Any) -> float | int | None:
    if _empty(value) or isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        return value
    try:
        return float(str(value).replace(",", "."))
    except ValueError:
        return None


def _boolean(value: Any) -> bool | None:
    if isinstance(value, bool):
        return value
    if isinstance(value, int | float):
        return value != 0
    text = str(value).strip().lower()
    if text in ("true", "1", "yes", "y", "ja", "on", "x"):
        return True
    if text in ("false", "0", "no", "n", "nein", "off"):
        return False
    return None


def _date(value: Any) -> str | None:
    text = str(value)
    return text[:10] if re.match(r"\d{4}-\d{2}-\d{2}", text) else None


def _tags(value: Any) -> list[str] | None:
    if isinstance(value, str):
        text = value.strip()
        if text.startswith("["):
            try:
                value = json.loads(text)
            except ValueError:
                value = text.strip("[]").split(",")
        else:
            value = text.split(",")
    if not isinstance(value, list):
        return None
    tags = [str(tag).strip() for tag in value if str(tag).strip()]
    return tags or None
