"""What every rule shares: the names it records, the settings it follows, text matching."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date
from zoneinfo import ZoneInfo

from sync_ledger.engine.vocabulary import ABSENCE, ABSENCE_TYPE, EMPLOYEE, PERSONIO

from target_staffomatic.rules.user_fields import SYNC_FIELDS, norm

SYSTEM = PERSONIO
"""Where the synced records come from (the ``system`` of their links and retries)."""
__all__ = ["ABSENCE", "ABSENCE_TYPE", "DEPARTMENT_SOURCES", "EMPLOYEE", "SYSTEM", "Rules", "norm"]

DEPARTMENT_SOURCES = ("department", "team")


@dataclass(frozen=True)
class Rules:
    """The settings the rules depend on, plus today's date in the company time zone."""

    time_zone: ZoneInfo
    today: date
    invite_users: bool = False
    lock_before_hire_date: bool = True
    lock_after_last_day: bool = True
    mirror_absence_approval: bool = True
    location_map: Mapping[str, int | str] = field(default_factory=dict)
    default_location_id: int | None = None
    department_map: Mapping[str, int | str] = field(default_factory=dict)
    department_source: str = "department"
    sync_fields: frozenset[str] = frozenset(SYNC_FIELDS)
    absence_type_map: Mapping[str, int | str] = field(default_factory=dict)
    create_missing_absence_types: bool = False
