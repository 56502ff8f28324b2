"""The 1% change made to the source records before the partial sync."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo


def every(items: list[dict[str, Any]], percent: float, offset: int = 0) -> list[dict[str, Any]]:
    """``percent`` % of ``items``, spread evenly (at least one when there are any)."""
    if not items:
        return []
    step = max(1, round(100 / percent))
    return items[offset % step :: step][: max(1, round(len(items) * percent / 100))]


def change_personio(state: dict[str, Any], percent: float) -> dict[str, int]:
    """Rename ``percent`` % of the employees and lengthen as many % of the absence periods by a
    day, stamping them as changed now (as Personio would)."""
    zone = ZoneInfo(state["company"]["time_zone"])
    now = datetime.now(zone).replace(microsecond=0)
    employees = every(state["employees"], percent)
    for employee in employees:
        attributes = employee["attributes"]
        attributes["last_name"] += "-Renamed"
        attributes["preferred_name"] = f"{attributes['first_name']} {attributes['last_name']}"
        employee["last_modified_at"] = now.isoformat()
    periods = every(state["absence_periods"], percent, offset=round(50 / percent))
    stamp = now.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.000Z")
    for period in periods:
        end = datetime.fromisoformat(period["ends_at"]["date_time"]) + timedelta(days=1)
        period["ends_at"]["date_time"] = end.isoformat()
        period["updated_at"] = stamp
    return {"employees": len(employees), "absence_periods": len(periods)}


def change_staffomatic(state: dict[str, Any], percent: float) -> dict[str, int]:
    """End ``percent`` % of the work timers 15 minutes earlier, stamped as changed now."""
    zone = ZoneInfo(state["account"]["time_zone"])
    now = datetime.now(zone).replace(microsecond=0).isoformat()
    timers = every([t for t in state["work_timers"] if t.get("ends_at")], percent)
    for timer in timers:
        timer["ends_at"] = (
            datetime.fromisoformat(timer["ends_at"]) - timedelta(minutes=15)
        ).isoformat()
        timer["updated_at"] = now
    return {"work_timers": len(timers)}
