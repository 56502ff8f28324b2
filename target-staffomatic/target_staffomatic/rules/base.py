"""What every rule shares: the names it records, the settings it follows, text matching."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from zoneinfo import ZoneInfo

from sync_ledger.engine.vocabulary import ABSENCE, ABSENCE_TYPE, EMPLOYEE, PERSONIO

from target_staffomatic.rules.user_fields import norm

SYSTEM = PERSONIO
"""Where the synced records come from (the ``system`` of their links and retries)."""
__all__ = ["ABSENCE", "ABSENCE_TYPE", "DEPARTMENT_SOURCES", "EMPLOYEE", "SYSTEM", "Rules", "norm"]

DEPARTMENT_SOURCES = ("department", "team")


@dataclass(frozen=True)
class Rules:
    """The settings the rules depend on, plus today's date in the company time zone.

    Built by :meth:`target_staffomatic.settings.Settings.rules`; the defaults live in the
    settings' schema only.
    """

    time_zone: ZoneInfo
    today: date
    invite_users: bool
    create_users_without_email: bool
    lock_before_hire_date: bool
    lock_after_last_day: bool
    mirror_absence_approval: bool
    location_map: Mapping[str, int | str]
    default_location_id: int | None
    department_map: Mapping[str, int | str]
    department_source: str
    sync_fields: frozenset[str]
    absence_type_map: Mapping[str, int | str]
    create_missing_absence_types: bool
