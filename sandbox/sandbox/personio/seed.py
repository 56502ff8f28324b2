"""State documents of the Personio emulator: the ``demo``, ``scale`` and ``empty`` seeds.

A state document is plain JSON (what ``GET /_sandbox/state`` returns):

- ``company``: ``{"id", "name", "time_zone"}`` (``id`` is the ``company_id`` of webhook deliveries);
- ``api_clients``: ``{client_id, client_secret, name, scopes, attributes}``; ``attributes`` is the
  whitelist of employee attribute keys the client may read;
- ``attributes``: the employee attribute definitions ``{key, label, type, universal_id, options}``
  (custom ones have keys ``dynamic_<n>``);
- ``employees``: ``{id, created_at, last_modified_at, changed_at, attributes}``; related objects
  are stored as ``{id, name, ...}``, the supervisor as an employee id, dates as ``YYYY-MM-DD``;
  ``changed_at`` optionally maps attribute keys to when each last changed (for ``updated_since``
  with ``attributes[]``);
- ``absence_types``, ``absence_periods``, ``attendance_periods``: as the v2 API shows them;
- ``tokens``: ``{token, client_id, scope, expires_at}`` (``expires_at`` in epoch seconds);
- ``webhooks``: the registered webhooks as ``/v2/webhooks`` shows them (token included);
- ``limits`` and ``settings``: rate limits and emulated quirks (:mod:`sandbox.personio.records`);
- ``variants``: the switches for unconfirmed behaviour (:mod:`sandbox.variants`).

Everything is deterministic: dates are relative to the day the seed is built, ids are UUID5s.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from sandbox.core import SandboxError
from sandbox.personio.records import (
    ABSENCE_TYPES,
    ALL_SCOPES,
    ATTRIBUTES,
    COMPANY_ID,
    CONTRACT_TYPE,
    DEFAULT_LIMITS,
    DEFAULT_SETTINGS,
    DEPARTMENT_IDS,
    HOLIDAY_CALENDARS,
    OFFICE_IDS,
    PERSONNEL_NUMBER,
    POSITIONS,
    RESTRICTED_HIDDEN,
    SCALE_PARAMS,
    SEEDS,
    SHIFT_PLANNING,
    SUBCOMPANY,
    TEAM_IDS,
    local_stamp,
    stable_id,
    utc_stamp,
)
from sandbox.roster import (
    COMPANY_TIME_ZONE,
    EMPLOYEES,
    PERSONIO_CLIENT_ID,
    PERSONIO_CLIENT_SECRET,
    PERSONIO_RESTRICTED_CLIENT_ID,
    PERSONIO_RESTRICTED_CLIENT_SECRET,
    Person,
    company_today,
    scale_people,
)


def build(seed: str, today: date | None = None, **params: Any) -> dict[str, Any]:
    """The state document of ``seed``; raises :class:`SandboxError` for a bad seed or parameter."""
    today = today or company_today()
    if seed not in SEEDS:
        raise SandboxError(f"unknown seed {seed!r}; use one of {', '.join(SEEDS)}")
    unknown = set(params) - set(SCALE_PARAMS)
    if unknown or (params and seed != "scale"):
        raise SandboxError(
            f"unknown parameters {sorted(params)} for seed {seed!r}; "
            f"only the scale seed takes {', '.join(SCALE_PARAMS)}"
        )
    state = _base()
    if seed == "demo":
        _add_employees(state, EMPLOYEES, today)
        state["absence_periods"] = _demo_absences(state, today)
        state["attendance_periods"] = _demo_attendances(today)
    elif seed == "scale":
        sizes = {
            key: _count(key, params.get(key, default))
            for key, default in (
                ("employees", 1000),
                ("absences_per_employee", 2),
                ("timers_per_week", 5),
                ("weeks", 1),
            )
        }
        _add_employees(state, scale_people(sizes["employees"]), today)
        state["absence_periods"] = _scale_absences(state, today, sizes["absences_per_employee"])
    return state


def _count(name: str, value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, int | str):
        raise SandboxError(f"scale parameter {name} must be a whole number, got {value!r}")
    try:
        number = int(value)
    except ValueError:
        raise SandboxError(
            f"scale parameter {name} must be a whole number, got {value!r}"
        ) from None
    if number < 0:
        raise SandboxError(f"scale parameter {name} must not be negative, got {number}")
    return number


def _base() -> dict[str, Any]:
    keys = [a["key"] for a in ATTRIBUTES]
    return {
        "company": {"id": COMPANY_ID, "name": "Demo Gastro GmbH", "time_zone": COMPANY_TIME_ZONE},
        "api_clients": [
            {
                "client_id": PERSONIO_CLIENT_ID,
                "client_secret": PERSONIO_CLIENT_SECRET,
                "name": "Staffomatic sync (all attributes)",
                "scopes": list(ALL_SCOPES),
                "attributes": keys,
            },
            {
                "client_id": PERSONIO_RESTRICTED_CLIENT_ID,
                "client_secret": PERSONIO_RESTRICTED_CLIENT_SECRET,
                "name": "Restricted integration",
                "scopes": list(ALL_SCOPES),
                "attributes": [k for k in keys if k not in RESTRICTED_HIDDEN],
            },
        ],
        "attributes": [dict(a, options=list(a["options"])) for a in ATTRIBUTES],
        "employees": [],
        "absence_types": [
            {
                "id": stable_id("absence-type", name),
                "time_off_type_id": 9001 + n,
                "name": name,
                "category": category,
                "unit": "DAILY",
            }
            for n, (name, category) in enumerate(ABSENCE_TYPES)
        ],
        "absence_periods": [],
        "attendance_periods": [],
        "tokens": [],
        "webhooks": [],
        "limits": _copy(DEFAULT_LIMITS),
        "settings": dict(DEFAULT_SETTINGS),
    }


def _copy(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _copy(v) for k, v in value.items()}
    return list(value) if isinstance(value, list) else value


def _add_employees(state: dict[str, Any], people: tuple[Person, ...], today: date) -> None:
    first_per_office: dict[str, int] = {}
    ids = {p.id for p in people}
    vacation = state["absence_types"][0]
    for p in people:
        first_per_office.setdefault(p.office, p.id)
        hire = p.hire_date(today)
        last_day = p.last_working_day(today)
        status = "onboarding" if p.status == "active" and hire > today else p.status
        # Supervisors: the first employee of each office leads it; Anna Schmidt (the first of
        # all) leads the other office heads. Nobody leads her: her ``supervisor`` is left out.
        head = first_per_office[p.office]
        supervisor = head if head != p.id else min(ids) if p.id != min(ids) else None
        hours = f"{p.weekly_hours:g}"
        created = min(hire, today - timedelta(days=20))
        modified = today - timedelta(days=p.id % 9 + 1)
        state["employees"].append(
            {
                "id": p.id,
                "created_at": local_stamp(created, 9),
                "last_modified_at": local_stamp(modified, 10),
                "changed_at": {},
                "attributes": {
                    "first_name": p.first_name,
                    "last_name": p.last_name,
                    "preferred_name": f"{p.first_name} {p.last_name}",
                    "email": p.personio_email or "",
                    "status": status,
                    "position": POSITIONS.get(p.department, "Staff"),
                    "supervisor": supervisor,
                    "employment_type": "internal",
                    "weekly_working_hours": hours,
                    "hire_date": hire.isoformat(),
                    "contract_end_date": None,
                    "termination_date": last_day.isoformat() if last_day else None,
                    "termination_type": "resignation" if last_day else None,
                    "termination_reason": None,
                    "last_working_day": last_day.isoformat() if last_day else None,
                    "probation_period_end": (hire + timedelta(days=180)).isoformat(),
                    "subcompany": dict(SUBCOMPANY),
                    "office": {"id": OFFICE_IDS.get(p.office, 500), "name": p.office},
                    "department": {
                        "id": DEPARTMENT_IDS.get(p.department, 600),
                        "name": p.department,
                    },
                    "team": {"id": TEAM_IDS.get(p.team, 700), "name": p.team},
                    "cost_centers": [
                        {"id": 301, "name": f"Restaurant {p.office}", "percentage": 100}
                    ],
                    "holiday_calendar": dict(HOLIDAY_CALENDARS.get(p.office, {})) or None,
                    "absence_entitlement": [
                        {
                            "id": vacation["time_off_type_id"],
                            "name": vacation["name"],
                            "category": vacation["category"],
                            "entitlement": p.vacation_days,
                        }
                    ],
                    "fix_salary": round(p.weekly_hours * 75.0, 2),
                    "vacation_day_balance": float(p.vacation_days) - p.id % 7 - 0.5 * (p.id % 2),
                    SHIFT_PLANNING: p.shift_planning,
                    PERSONNEL_NUMBER: f"P-{p.id}",
                    CONTRACT_TYPE: "Full-time" if p.weekly_hours >= 38 else "Part-time",
                },
            }
        )


def _absence(
    n: int,
    person: int,
    kind: dict[str, Any],
    start: date,
    end: date,
    status: str,
    today: date,
    start_half: bool = False,
    end_half: bool = False,
    comment: str = "",
) -> dict[str, Any]:
    stamp = datetime.combine(today - timedelta(days=n % 5 + 1), time(8, n % 60), tzinfo=UTC)
    return {
        "id": stable_id("absence-period", n),
        "person": {"id": str(person)},
        "absence_type": {"id": kind["id"]},
        "starts_from": {
            "date_time": f"{start.isoformat()}T00:00:00",
            "type": "SECOND_HALF" if start_half else "FIRST_HALF",
        },
        "ends_at": {
            "date_time": f"{end.isoformat()}T00:00:00",
            "type": "FIRST_HALF" if end_half else "SECOND_HALF",
        },
        "timezone_id": COMPANY_TIME_ZONE,
        "comment": comment,
        "approval": {"status": status},
        "substitute": None,
        "created_at": utc_stamp(stamp - timedelta(days=3)),
        "updated_at": utc_stamp(stamp),
    }


def _demo_absences(state: dict[str, Any], today: date) -> list[dict[str, Any]]:
    vacation, sick, training, parental = state["absence_types"]
    d = lambda days: today + timedelta(days=days)  # noqa: E731
    rows = [
        # (person, type, start, end, status, half-day start, half-day end, comment)
        (1001, vacation, d(10), d(10), "APPROVED", False, False, "Single day"),
        (1001, sick, d(-30), d(-29), "APPROVED", False, False, ""),
        (1002, vacation, d(20), d(24), "PENDING", False, False, "Summer trip"),
        (1003, vacation, d(30), d(31), "APPROVED", True, False, "Starts at noon"),
        (1004, sick, d(-5), d(-3), "APPROVED", False, False, ""),
        (1005, vacation, d(40), d(40), "APPROVED", False, False, ""),
        (1007, vacation, d(-20), d(-18), "REJECTED", False, False, "Busy season"),
        (1009, parental, d(-50), d(200), "APPROVED", False, False, "Parental leave"),
        (1011, training, d(7), d(7), "PENDING", False, True, "Morning course"),
        (1012, sick, d(-1), d(-1), "PENDING", False, False, ""),
        (1015, vacation, d(60), d(74), "APPROVED", False, False, ""),
        (1017, training, d(14), d(15), "APPROVED", False, False, "Food safety"),
        (1020, vacation, d(90), d(91), "REJECTED", False, True, ""),
        (1022, vacation, d(100), d(104), "PENDING", False, True, "Ends at noon"),
    ]
    return [
        _absence(n, pid, kind, start, end, status, today, sh, eh, comment)
        for n, (pid, kind, start, end, status, sh, eh, comment) in enumerate(rows, start=1)
    ]


def _scale_absences(state: dict[str, Any], today: date, per_employee: int) -> list[dict[str, Any]]:
    types = state["absence_types"]
    slot = max(6, 420 // max(1, per_employee))
    statuses = ("APPROVED", "APPROVED", "APPROVED", "PENDING", "REJECTED")
    rows: list[dict[str, Any]] = []
    for i, employee in enumerate(state["employees"]):
        for j in range(per_employee):
            start = today + timedelta(days=-55 + j * slot + i % (slot - 5))
            length = (i + j) % 4
            kind = types[(i + j) % 3]
            rows.append(
                _absence(
                    len(rows) + 1,
                    employee["id"],
                    kind,
                    start,
                    start + timedelta(days=length),
                    statuses[(i + 2 * j) % len(statuses)],
                    today,
                )
            )
    return rows


def _demo_attendances(today: date) -> list[dict[str, Any]]:
    rows = [
        # (person, days ago, type, start, end, status)
        (1001, 1, "WORK", "08:00", "12:00", "CONFIRMED"),
        (1001, 1, "BREAK", "12:00", "12:30", "CONFIRMED"),
        (1001, 1, "WORK", "12:30", "16:30", "CONFIRMED"),
        (1002, 2, "WORK", "17:00", "23:00", "PENDING"),
        (1011, 3, "WORK", "06:00", "14:00", "CONFIRMED"),
    ]
    out = []
    for n, (pid, ago, kind, start, end, status) in enumerate(rows, start=1):
        day = today - timedelta(days=ago)
        stamp = datetime.combine(day, time(20, n), tzinfo=UTC)
        out.append(
            {
                "id": stable_id("attendance-period", n),
                "type": kind,
                "person": {"id": str(pid)},
                "start": {"date_time": f"{day.isoformat()}T{start}:00"},
                "end": {"date_time": f"{day.isoformat()}T{end}:00"},
                "attribution_date": day.isoformat(),
                "approval": {"status": status},
                "comment": "",
                "project": None,
                "is_auto_generated": False,
                "created_at": utc_stamp(stamp),
                "updated_at": utc_stamp(stamp),
            }
        )
    return out
