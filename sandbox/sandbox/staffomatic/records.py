"""Ids, record defaults and time helpers of the Staffomatic emulator.

Records are stored as the API shows them, without the fields the emulator derives when it
renders them (durations, counts, ``user_ids`` of locations and departments, ``full_name``).
"""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sandbox import roster

ACCOUNT_ID = 21453
API_USER_ID = 286000
FIRST_IDS = {
    "locations": 24001,
    "departments": 39101,
    "users": API_USER_ID,
    "absence_types": 14501,
    "absences": 565001,
    "work_timers": 91001,
    "break_timers": 40001,
    "work_reports": 37001,
}
"""Ids of each collection start apart from each other and from Personio's ids, so a client that
mixes them up is caught."""

COLLECTIONS = tuple(FIRST_IDS)
DEFAULT_RATE_LIMIT = {"requests": 500, "seconds": 10}
SCALE_DEFAULTS = {"employees": 1000, "absences_per_employee": 2, "timers_per_week": 5, "weeks": 1}

IMAGE = "https://api.staffomaticapp.com/assets/images/missing/user.png"

ACCOUNT_DEFAULTS: dict[str, Any] = {
    "name": "Demo Gastro GmbH",
    "subdomain": roster.STAFFOMATIC_ACCOUNT,
    "domain": "staffomaticapp.com",
    "time_zone": roster.COMPANY_TIME_ZONE,
    "assigments_visible_for_staff": False,
    "first_day_of_week": 1,
    "format_24_hour_time": True,
    "date_format": "%d.%m.%Y",
    "reports_editable_for_staff": False,
    "logo": "https://api.staffomaticapp.com/assets/images/missing/account.png",
    "locale": "de",
    "plan_id": 110,
    "lockdown_reason": None,
    "dunning_level": None,
    "trial_until": None,
    "billing_subscribed": True,
    "account_owner_id": API_USER_ID,
    "billing_subscribed_at": None,
    "customer_number": "EP-0000001",
    "subscription_id": None,
    "customer_id": None,
    "url": f"https://{roster.STAFFOMATIC_ACCOUNT}.staffomaticapp.com",
    "redirect_to_url": "staffomaticapp.com",
    "industry_type": "gastronomy",
    "conversations": "0",
    "live_editing": "0",
    "webhooks": "0",
    "endlessscroll": "0",
    "time_tracking": "1",
    "timetracking_trial_until": None,
    "timetracking_canceled_at": None,
    "timetracking_subscribed_at": None,
    "upgrade_until": None,
}

LOCATION_DEFAULTS: dict[str, Any] = {
    "name": "",
    "logo": None,
    "first_day_of_week": 1,
    "slot_minutes": 30,
    "min_time": 0,
    "max_time": 24,
    "default_view": "list_week",
    "default_event_minutes": 240,
    "show_event_header": True,
    "applications_visible": False,
    "assignments_visible": False,
    "allow_self_assign": False,
    "swap_shifts": True,
    "manners_address": "first_name",
    "users_sort_by": "alphabetical",
    "notes_visible": True,
}

DEPARTMENT_DEFAULTS: dict[str, Any] = {
    "name": "",
    "color": "c4a5c8",
    "location_id": None,
    "position": None,
    "creator_id": None,
}

USER_DEFAULTS: dict[str, Any] = {
    "email": None,
    "first_name": "",
    "last_name": "",
    "locale": "de",
    "role": "staff",
    "image": IMAGE,
    "phone_number_mobile": "",
    "phone_number_office": "",
    "company": "",
    "street": "",
    "additional_street": "",
    "zip": "",
    "city": "",
    "country": "",
    "gender": None,
    "time_zone": None,
    "max_vacation_days": None,
    "comments_count": 0,
    "attachments_count": 0,
    "commentable": True,
    "attachable": True,
    "approved_absences_hours": 0,
    "max_hours_per_month": None,
    "department_ids": [],
    "location_ids": [],
    "locked_at": None,
    "invited_by_id": None,
    "invitation_state": None,
    "invitation_created_at": None,
    "invitation_accepted_at": None,
    "invitation_token": None,
    "custom_id": None,
    "account_id": ACCOUNT_ID,
    "account_owner": False,
}

ABSENCE_TYPE_DEFAULTS: dict[str, Any] = {
    "visibility": "schedulers",
    "name": "",
    "color": "749ec1",
    "user_selectable": True,
    "location_id": None,
    "include_weekends": True,
}

ABSENCE_DEFAULTS: dict[str, Any] = {
    "starts_at": None,
    "ends_at": None,
    "processed_at": None,
    "paid": False,
    "vacation": False,
    "state": "new",
    "include_weekends": True,
    "comments_count": 0,
    "attachments_count": 0,
    "commentable": True,
    "attachable": True,
    "all_day": True,
    "justification": "",
    "last_updated_by_id": None,
    "adjusted_duration": None,
    "comment_ids": [],
    "attachment_ids": [],
    "applicant_id": None,
    "handler_id": None,
    "location_id": None,
    "absence_type_id": None,
}

WORK_TIMER_DEFAULTS: dict[str, Any] = {
    "user_id": None,
    "location_id": None,
    "updated_by_id": None,
    "created_by_id": None,
    "state": "running",
    "starts_at": None,
    "ends_at": None,
    "application_starts_at": None,
    "application_ends_at": None,
    "application_intermission": None,
    "work_report_id": None,
    "application_id": None,
    "device_type": "terminal",
}

BREAK_TIMER_DEFAULTS: dict[str, Any] = {
    "user_id": None,
    "updated_by_id": None,
    "created_by_id": None,
    "starts_at": None,
    "work_timer_id": None,
    "ends_at": None,
    "device_type": "terminal",
}

WORK_REPORT_DEFAULTS: dict[str, Any] = {
    "user_id": None,
    "location_id": None,
    "starts_at": None,
    "ends_at": None,
}

ABSENCE_TYPE_NAMES = ("Vacation", "Sick leave", "training")
"""Personio calls them "Vacation", "Sick leave", "Training" and also has "Parental leave"."""


# ---- time ----------------------------------------------------------------------------------------


def iso(moment: datetime, zone: ZoneInfo) -> str:
    """ISO 8601 with the offset of ``zone`` at that moment, to the second."""
    return moment.astimezone(zone).isoformat(timespec="seconds")


def parse_time(value: str, zone: ZoneInfo) -> datetime:
    """An ISO 8601 date or date-time; without an offset it is local time in ``zone``.

    Raises ValueError when ``value`` is not one.
    """
    moment = datetime.fromisoformat(value.strip())
    return moment if moment.tzinfo else moment.replace(tzinfo=zone)


def local(day: date, hour: int, minute: int, zone: ZoneInfo) -> datetime:
    return datetime.combine(day, time(hour, minute), tzinfo=zone)


def week_start(moment: datetime, zone: ZoneInfo) -> datetime:
    """Monday 00:00 local of the week holding ``moment``."""
    day = moment.astimezone(zone).date()
    return local(day - timedelta(days=day.weekday()), 0, 0, zone)


def last_october_sunday(year: int) -> date:
    day = date(year, 10, 31)
    return day - timedelta(days=(day.weekday() + 1) % 7)
