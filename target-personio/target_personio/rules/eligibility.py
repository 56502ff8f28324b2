"""When a timer may be written: stopped (verified, with ``only_verified_timers``), settled for
``settle_minutes``, and started inside the window (``retry_days``, never before ``start_date``)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from target_personio.mapping import Unmappable, parse_time


@dataclass(frozen=True)
class TimerRules:
    """When a timer may be written."""

    now: datetime
    settle: timedelta
    window_start: datetime
    only_verified: bool


OUT_OF_WINDOW = "out of window"


def timer_problem(timer: dict[str, Any], rules: TimerRules) -> str | None:
    """None if the timer is to be written, else why not (``OUT_OF_WINDOW``: leave it alone)."""
    start = parse_time(timer.get("starts_at"))
    if start is None:
        raise Unmappable("the timer has no start (starts_at), so it cannot be synced")
    if start < rules.window_start:
        return OUT_OF_WINDOW
    state = timer.get("state")
    end = parse_time(timer.get("ends_at"))
    if state == "running" or end is None:
        return "the timer is still running"
    if rules.only_verified and state != "verified":
        return "the timer is not verified"
    if state not in ("stopped", "verified"):
        return f"the timer is in state {state}"
    if end > rules.now - rules.settle:
        return "the timer stopped less than settle_minutes ago"
    return None
