"""The Staffomatic user fields the sync writes, in one table, and how each is computed.

To sync a new Personio attribute, add a row to :data:`USER_FIELDS` (and to tap-personio's
employee schema if it is not read yet). A row with a ``setting`` is synced only when that name
is in the ``sync_fields`` setting; departments are resolved against the look-ups (see
:mod:`target_staffomatic.rules.employees`).

Conventions: ``max_hours_per_month`` = weekly working hours x 52 / 12, rounded to the nearest
whole hour; ``max_vacation_days`` = the employee's entitlement of the paid-vacation absence type,
rounded to the nearest whole day.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

Employee = Mapping[str, Any]


def norm(value: Any) -> str:
    """Trimmed and case-folded, for matching e-mails and names."""
    return str(value or "").strip().casefold()


def _round(value: Any) -> int | None:
    if value is None or value == "":
        return None
    try:
        return int(Decimal(str(value)).quantize(Decimal(1), rounding=ROUND_HALF_UP))
    except ArithmeticError:
        return None


def monthly_hours(weekly_hours: Any) -> int | None:
    """The monthly hours limit: weekly hours x 52 weeks / 12 months, to the nearest hour."""
    if weekly_hours is None or weekly_hours == "":
        return None
    return _round(Decimal(str(weekly_hours)) * 52 / 12)


def vacation_days(employee: Employee, vacation_type_ids: Iterable[str] = ()) -> int | None:
    """The entitlement of the paid-vacation type among the employee's absence entitlements.

    The entry is the one whose ``category`` is ``paid_vacation``, else the one whose id is a
    type the ``absence_types`` stream marked as paid vacation, else the one named like vacation.
    """
    entries = [e for e in employee.get("absence_entitlement") or [] if isinstance(e, Mapping)]
    ids = {str(i) for i in vacation_type_ids}
    for test in (
        lambda e: norm(e.get("category")) == "paid_vacation",
        lambda e: str(e.get("id")) in ids,
        lambda e: any(w in norm(e.get("name")) for w in ("vacation", "urlaub", "holiday")),
    ):
        for entry in entries:
            if test(entry):
                return _round(entry.get("entitlement"))
    return None


def _text(name: str) -> Callable[[Employee, Iterable[str]], Any]:
    return lambda employee, _: str(employee.get(name) or "").strip()


def _email(employee: Employee, _: Iterable[str]) -> str | None:
    """The e-mail; none is never sent (a user's e-mail is not blanked, a new user gets none)."""
    return str(employee.get("email") or "").strip() or None


@dataclass(frozen=True)
class UserField:
    """One Staffomatic user field and the Personio value it takes."""

    name: str
    value: Callable[[Employee, Iterable[str]], Any]
    """From the employee record and the ids of paid-vacation types; None: not sent."""
    setting: str | None = None
    """The ``sync_fields`` entry that turns the field on; None: always synced."""
    text: bool = False
    """Text sent as it is (refused above the longest text the targets send)."""
    casefold: bool = False
    """Compared trimmed and case-folded with the user's current value."""


USER_FIELDS: tuple[UserField, ...] = (
    UserField("first_name", _text("first_name"), text=True),
    UserField("last_name", _text("last_name"), text=True),
    UserField("email", _email, text=True, casefold=True),
    UserField("custom_id", lambda employee, _: str(employee["id"])),
    UserField("max_vacation_days", vacation_days, setting="max_vacation_days"),
    UserField(
        "max_hours_per_month",
        lambda employee, _: monthly_hours(employee.get("weekly_working_hours")),
        setting="max_hours_per_month",
    ),
)

DEPARTMENTS = "departments"
"""The ``sync_fields`` entry that syncs a user's department (resolved against the look-ups)."""
SYNC_FIELDS: tuple[str, ...] = (*(f.setting for f in USER_FIELDS if f.setting), DEPARTMENTS)
"""What the ``sync_fields`` setting may name."""
EMPLOYEE_TEXT: tuple[str, ...] = tuple(f.name for f in USER_FIELDS if f.text)
"""The employee fields whose text is sent to Staffomatic as it is."""


def owned_fields(
    employee: Employee, sync_fields: Iterable[str], vacation_type_ids: Iterable[str] = ()
) -> dict[str, Any]:
    """The user fields the sync owns for this employee (those it has a value for)."""
    enabled = set(sync_fields)
    owned = {}
    for field in USER_FIELDS:
        if field.setting is not None and field.setting not in enabled:
            continue
        value = field.value(employee, vacation_type_ids)
        if value is not None:
            owned[field.name] = value
    return owned


def changed_fields(owned: Mapping[str, Any], user: Mapping[str, Any]) -> dict[str, Any]:
    """The owned fields whose value differs from the user's."""
    folded = {f.name for f in USER_FIELDS if f.casefold}
    return {
        name: value
        for name, value in owned.items()
        if (norm(value) != norm(user.get(name)) if name in folded else value != user.get(name))
    }
