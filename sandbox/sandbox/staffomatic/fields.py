"""The writable fields of each Staffomatic record and how a body's values are coerced."""

from __future__ import annotations

import math
from datetime import datetime
from functools import lru_cache
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

# Writable fields and their kinds (see ``coerce``); other keys in a body are ignored, as Rails'
# strong parameters do.
ACCOUNT_FIELDS = {
    "name": "str",
    "time_zone": "zone",
    "first_day_of_week": "int",
    "format_24_hour_time": "bool",
    "date_format": "str",
    "reports_editable_for_staff": "bool",
    "assigments_visible_for_staff": "bool",
    "locale": "str",
}
DEPARTMENT_FIELDS = {"name": "str", "color": "str", "position": "int"}
USER_FIELDS = {
    "email": "str",
    "first_name": "str",
    "last_name": "str",
    "locale": "str",
    "role": ("admin", "manager", "staff"),
    "phone_number_mobile": "str",
    "phone_number_office": "str",
    "company": "str",
    "street": "str",
    "additional_street": "str",
    "zip": "str",
    "city": "str",
    "country": "str",
    "gender": "str",
    "time_zone": "zone",
    "max_vacation_days": "int",
    "max_hours_per_month": "int",
    "department_ids": "ids",
    "location_ids": "ids",
    "custom_id": "str",
    "commentable": "bool",
    "attachable": "bool",
}
ABSENCE_TYPE_FIELDS = {
    "name": "str",
    "color": "str",
    "visibility": ("staff", "schedulers"),
    "user_selectable": "bool",
    "include_weekends": "bool",
}
ABSENCE_FIELDS = {
    "starts_at": "time",
    "ends_at": "time",
    "applicant_id": "int",
    "absence_type_id": "int",
    "location_id": "int",
    "paid": "bool",
    "vacation": "bool",
    "include_weekends": "bool",
    "all_day": "bool",
    "justification": "str",
    "commentable": "bool",
    "attachable": "bool",
    "adjusted_duration": "int",
}
WORK_TIMER_FIELDS = {"starts_at": "time", "ends_at": "time", "user_id": "int", "location_id": "int"}
BREAK_TIMER_FIELDS = {"starts_at": "time", "ends_at": "time", "work_timer_id": "int"}


def digits(value: str) -> bool:
    return value.isascii() and value.isdigit()


def blank(value: Any) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


@lru_cache(maxsize=32)
def time_zone(name: str) -> ZoneInfo:
    return ZoneInfo(name)


def coerce(kind: str | tuple[str, ...], value: Any) -> Any:
    """``value`` as Rails would store it in a field of ``kind``; ValueError with the message."""
    if isinstance(kind, tuple):
        if value not in kind:
            raise ValueError("is not included in the list")
        return value
    if value is None:
        if kind == "bool":
            raise ValueError("is not included in the list")
        return [] if kind == "ids" else None
    if kind == "str":
        if isinstance(value, bool) or not isinstance(value, str | int | float):
            raise ValueError("is invalid")
        return str(value)
    if kind == "int":
        return _integer(value)
    if kind == "bool":
        if isinstance(value, bool):
            return value
        if str(value).lower() in ("true", "1"):
            return True
        if str(value).lower() in ("false", "0"):
            return False
        raise ValueError("is not included in the list")
    if kind == "ids":
        if not isinstance(value, list):
            raise ValueError("must be a list of ids")
        return sorted({_integer(item) for item in value})
    if kind == "zone":
        try:
            return str(time_zone(str(value)))
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError("is not a known time zone") from None
    if kind == "time":
        if not isinstance(value, str):
            raise ValueError("is not a valid date-time")
        try:
            return datetime.fromisoformat(value.strip())
        except ValueError:
            raise ValueError("is not a valid date-time") from None
    raise AssertionError(kind)


def _integer(value: Any) -> int:
    if isinstance(value, bool):
        raise ValueError("is not a number")
    if isinstance(value, int):
        return value
    if isinstance(value, float) and math.isfinite(value):
        return int(value)
    if isinstance(value, str):
        try:
            number = float(value)
        except ValueError:
            pass
        else:
            if math.isfinite(number):
                return int(number)
    raise ValueError("is not a number")
