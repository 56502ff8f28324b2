"""Ids, attribute definitions, limits and time stamps of the Personio emulator."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime, time
from typing import Any
from zoneinfo import ZoneInfo

from sandbox.roster import COMPANY_TIME_ZONE

NAMESPACE = uuid.UUID("5d0f3b52-6a43-4c36-9b0e-2f2b8c1a9e10")

DEFAULT_LIMITS: dict[str, Any] = {
    "v1_employees_per_minute": 300,
    "v1_employees_per_second": 15,
    "v1_per_minute": 2000,
    "v1_auth_per_minute": 60,
    "v2_auth_per_minute": 150,
    "v2_default": {"replenish_rate": 10, "burst_capacity": 10},
    "v2": {},
}
"""Documented v1 limits; v2 token buckets after third-party measurements (about 10 per second).

``v2`` maps a path template (``/v2/absence-periods``) to its own ``replenish_rate`` and
``burst_capacity``; templates not listed use ``v2_default``.
"""

DEFAULT_SETTINGS: dict[str, Any] = {
    "employees_default_limit": 50,
    "employees_max_limit": 100,
    "updated_since_pages": True,
    "webhook_ack_seconds": 3.0,
    "webhook_fast_attempts": 2,
    "webhook_retry_delays": [60, 300, 1800, 7200, 43200, 172800],
    "webhook_reorder_hold_seconds": 1.0,
}
"""``updated_since_pages``: whether ``limit``/``offset`` apply together with ``updated_since``.

The spec says they are ignored then; the 2023-11-16 changelog says paging is mandatory with it.
The emulator follows the newer changelog by default; set False to get the spec's behaviour.

``webhook_*``: how deliveries to registered webhooks are made (:mod:`sandbox.personio.deliveries`):
the documented 3 s to acknowledge, up to 2 quick requests per attempt, and the delays before the
6 later attempts (Personio names no numbers beyond "growing, for up to 3 days": see the
assumption table in ``sandbox/README.md``). Tests shorten them (``POST /_sandbox/deliveries``).
"""

COMPANY_ID = "314159"
"""The demo company's id, sent as ``company_id`` with every webhook delivery."""

ALL_SCOPES = [
    "personio:persons:read",
    "personio:absences:read",
    "personio:absences:write",
    "personio:attendances:read",
    "personio:attendances:write",
    "personio:webhooks:read",
    "personio:webhooks:write",
]

SHIFT_PLANNING = "dynamic_4711001"
PERSONNEL_NUMBER = "dynamic_4711002"
CONTRACT_TYPE = "dynamic_4711003"


def _attr(key: str, label: str, kind: str = "standard", universal_id: str | None = "") -> dict:
    return {
        "key": key,
        "label": label,
        "type": kind,
        "universal_id": key if universal_id == "" else universal_id,
        "options": [],
    }


ATTRIBUTES: list[dict[str, Any]] = [
    _attr("id", "ID", "integer"),
    _attr("first_name", "First name"),
    _attr("last_name", "Last name"),
    _attr("preferred_name", "Name (preferred)"),
    _attr("email", "Email"),
    _attr("status", "Status"),
    _attr("position", "Position"),
    _attr("supervisor", "Supervisor"),
    _attr("employment_type", "Employment type"),
    _attr("weekly_working_hours", "Weekly hours"),
    _attr("hire_date", "Hire date", "date"),
    _attr("contract_end_date", "Contract ends", "date"),
    _attr("termination_date", "Termination date", "date"),
    _attr("termination_type", "Termination type"),
    _attr("termination_reason", "Termination reason"),
    _attr("last_working_day", "Last day of work", "date"),
    _attr("probation_period_end", "Probation period end", "date"),
    _attr("created_at", "created_at", "date"),
    _attr("last_modified_at", "Last modified", "date"),
    _attr("subcompany", "Subcompany"),
    _attr("office", "Office"),
    _attr("department", "Department"),
    _attr("team", "Team"),
    _attr("cost_centers", "Cost center"),
    _attr("holiday_calendar", "Public holidays"),
    _attr("absence_entitlement", "Absence entitlement"),
    _attr("fix_salary", "Fix salary", "decimal"),
    _attr("vacation_day_balance", "Vacation day balance", "decimal"),
    _attr(SHIFT_PLANNING, "Shift planning", "standard", "shift_planning"),
    _attr(PERSONNEL_NUMBER, "Personnel number", "standard", None),
    {**_attr(CONTRACT_TYPE, "Contract type", "list", None), "options": ["Full-time", "Part-time"]},
]

RESTRICTED_HIDDEN = frozenset({"office", "weekly_working_hours", "fix_salary", PERSONNEL_NUMBER})
"""What the restricted demo credential may not read."""

ABSENCE_TYPES = (
    ("Vacation", "paid_vacation"),
    ("Sick leave", "sick_leave"),
    ("Training", "other"),
    ("Parental leave", "maternity_parental_leave"),
)
POSITIONS = {"Kitchen": "Cook", "Service": "Waiter", "Bar": "Bartender", "Logistics": "Driver"}
OFFICE_IDS = {"Berlin": 501, "Hamburg": 502}
DEPARTMENT_IDS = {"Kitchen": 601, "Service": 602, "Bar": 603, "Logistics": 604}
TEAM_IDS = {"Early shift": 701, "Late shift": 702}
SUBCOMPANY = {"id": 401, "name": "Demo Gastro GmbH"}
HOLIDAY_CALENDARS = {
    "Berlin": {"id": 801, "name": "DE (Berlin) Feiertage", "country": "DE", "state": "Berlin"},
    "Hamburg": {"id": 802, "name": "DE (Hamburg) Feiertage", "country": "DE", "state": "Hamburg"},
}
SEEDS = ("demo", "scale", "empty")
SCALE_PARAMS = ("employees", "absences_per_employee", "timers_per_week", "weeks")


def stable_id(kind: str, name: str | int) -> str:
    """A deterministic UUID for the ``name``-th record of ``kind``."""
    return str(uuid.uuid5(NAMESPACE, f"{kind}:{name}"))


def utc_stamp(moment: datetime) -> str:
    """``2025-06-01T08:00:00.000Z``: how v2 shows ``created_at``/``updated_at``."""
    moment = moment.astimezone(UTC)
    return f"{moment:%Y-%m-%dT%H:%M:%S}.{moment.microsecond // 1000:03d}Z"


def local_stamp(day: date, hour: int, zone: str = COMPANY_TIME_ZONE) -> str:
    """A v1 date-time with offset (``2025-06-01T09:00:00+02:00``)."""
    return datetime.combine(day, time(hour), tzinfo=ZoneInfo(zone)).isoformat()
