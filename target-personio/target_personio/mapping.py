"""Staffomatic records in, Personio v2 payloads out: pure functions, no I/O.

Time conventions (see the README):

- Staffomatic timestamps carry offsets; Personio v2 takes local wall-clock times without offset
  in the company time zone. Every instant is converted through ``zoneinfo``, never by adding a
  fixed offset, so a shift across midnight or a DST change keeps its true length.
- A work timer becomes one timeline of non-overlapping periods: WORK until the first break, a
  BREAK per break, WORK between and after the breaks. The WORK periods add up to the timer's net
  duration. A period longer than 24 hours is refused here, before Personio would refuse it.
- ``overnight_periods``: ``split`` (the default) cuts every period at each local midnight of the
  company time zone, found through ``zoneinfo`` (so a DST night keeps its true length and the
  pieces add up to the period); a piece ending at 00:00 belongs to the day before. ``whole``
  sends each period as it is, across midnight (for accounts with overnight time tracking).
- A period of exactly 24 hours (a whole day cut at midnight on both ends, or a whole-form
  period) is cut in two at its middle in both forms: Personio's documents give no number for
  "Period time range too long", so whether it takes exactly 24 hours is unknown
  (``attendance_24_hours`` in sandbox/README.md); two halves are taken either way.
- An absence becomes a day-based Personio absence period (dates at 00:00 plus half-day markers):
  an all-day absence covers whole days (``FIRST_HALF`` of the first day to ``SECOND_HALF`` of
  the last); a part-day absence within one day becomes the half day holding its middle (before
  12:00: ``FIRST_HALF``, else ``SECOND_HALF``, on both ends); a part-day absence over several
  days starts with the second half if it starts at or after 12:00 and ends with the first half
  if it ends at or before 12:00.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from vendor_http.timeutil import datetime_of

MAX_PERIOD = timedelta(hours=24)
NOON = time(12, 0)
WORK = "WORK"
BREAK = "BREAK"
SPLIT = "split"
WHOLE = "whole"
OVERNIGHT_FORMS = (SPLIT, WHOLE)
"""The values of ``overnight_periods``: periods cut at local midnight, or sent whole."""
FIRST_HALF = "FIRST_HALF"
SECOND_HALF = "SECOND_HALF"


class Unmappable(ValueError):
    """A record that cannot become a Personio payload; the message is the reason."""


def parse_time(value: Any) -> datetime | None:
    """An aware datetime from an ISO 8601 string (or a datetime); None stays None."""
    moment = datetime_of(value)
    if moment is None:
        return None
    if moment.tzinfo is None:
        raise Unmappable(f"the timestamp {value} has no offset")
    return moment


def local_time(moment: datetime, zone: ZoneInfo) -> str:
    """Wall-clock time in ``zone`` without offset, as Personio v2 wants it."""
    return moment.astimezone(zone).replace(tzinfo=None).isoformat(timespec="seconds")


@dataclass(frozen=True)
class Period:
    """One attendance period of a timer, between two instants."""

    type: str
    start: datetime
    end: datetime

    def slot(self, zone: ZoneInfo) -> dict[str, str]:
        """Type and local start and end: what the ledger keeps and what recovery matches."""
        return {
            "type": self.type,
            "start": local_time(self.start, zone),
            "end": local_time(self.end, zone),
        }


def attendance_body(person_id: str, slot: Mapping[str, str]) -> dict[str, Any]:
    """The POST/PATCH body of ``/v2/attendance-periods`` for one slot."""
    return {
        "person": {"id": person_id},
        "type": slot["type"],
        "start": {"date_time": slot["start"]},
        "end": {"date_time": slot["end"]},
    }


def timer_periods(timer: dict[str, Any]) -> list[Period]:
    """The WORK/BREAK timeline of a stopped timer."""
    start, end = parse_time(timer.get("starts_at")), parse_time(timer.get("ends_at"))
    if start is None:
        raise Unmappable("the timer has no start")
    if end is None:
        raise Unmappable("the timer is still running")
    if end <= start:
        raise Unmappable("the timer ends before it starts")
    pauses: list[tuple[datetime, datetime]] = []
    for number, item in enumerate(timer.get("breaks") or [], start=1):
        b_start = parse_time(item.get("starts_at"))
        b_end = parse_time(item.get("ends_at")) or end
        if b_start is None:
            continue
        if b_end < b_start:
            raise Unmappable(f"break {number} ends before it starts: correct it in Staffomatic")
        if b_start >= end or b_end <= start:
            raise Unmappable(
                f"break {number} lies outside its timer: correct it in Staffomatic (the net "
                "working time would be wrong)"
            )
        b_start, b_end = max(b_start, start), min(b_end, end)
        if b_end > b_start:
            pauses.append((b_start, b_end))
    pauses.sort()
    merged: list[tuple[datetime, datetime]] = []
    for b_start, b_end in pauses:
        if merged and b_start <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(merged[-1][1], b_end))
        else:
            merged.append((b_start, b_end))
    periods: list[Period] = []
    cursor = start
    for b_start, b_end in merged:
        if b_start > cursor:
            periods.append(Period(WORK, cursor, b_start))
        periods.append(Period(BREAK, b_start, b_end))
        cursor = b_end
    if end > cursor:
        periods.append(Period(WORK, cursor, end))
    for period in periods:
        length = period.end - period.start
        if length > MAX_PERIOD:
            hours = length.total_seconds() / 3600
            raise Unmappable(
                f"a {period.type} period of {hours:.1f} h is longer than the 24 h Personio allows"
            )
    return periods


def split_at_midnight(periods: list[Period], zone: ZoneInfo) -> list[Period]:
    """Each period cut at every local midnight of ``zone`` inside it (ends stay where they are).

    The cut is the instant the local date changes, so the pieces cover the period exactly
    (a DST night keeps its real length) and the WORK time adds up to the same net time."""
    pieces: list[Period] = []
    for period in periods:
        start = period.start
        while True:
            cut = next_midnight(start, zone)
            if cut >= period.end:
                break
            pieces.append(Period(period.type, start, cut))
            start = cut
        pieces.append(Period(period.type, start, period.end))
    return pieces


def next_midnight(moment: datetime, zone: ZoneInfo) -> datetime:
    """The first instant after ``moment`` that is 00:00 local time in ``zone`` (in UTC, so that
    comparing and subtracting it never uses wall-clock arithmetic)."""
    day = moment.astimezone(zone).date() + timedelta(days=1)
    return datetime.combine(day, time(0, 0), tzinfo=zone).astimezone(UTC)


def halve_full_days(periods: list[Period]) -> list[Period]:
    """Each period of exactly 24 hours cut in two at its middle (see the module)."""
    pieces: list[Period] = []
    for period in periods:
        if period.end - period.start == MAX_PERIOD:
            middle = period.start + MAX_PERIOD / 2
            pieces += [
                Period(period.type, period.start, middle),
                Period(period.type, middle, period.end),
            ]
        else:
            pieces.append(period)
    return pieces


def timer_slots(timer: dict[str, Any], zone: ZoneInfo, overnight: str) -> list[dict[str, str]]:
    """The slots of a timer's periods in the form ``overnight`` asks for (see the module)."""
    periods = timer_periods(timer)
    if overnight == SPLIT:
        periods = split_at_midnight(periods, zone)
    return [p.slot(zone) for p in halve_full_days(periods)]


def net_work(periods: list[Period]) -> timedelta:
    return sum((p.end - p.start for p in periods if p.type == WORK), timedelta())


# ---- absences ----------------------------------------------------------------------------------


def _end_date(start: datetime, end: datetime) -> date:
    """The last day an absence covers; an end at local midnight belongs to the day before."""
    if end > start and end.time() == time(0, 0):
        return (end - timedelta(seconds=1)).date()
    return end.date()


def absence_body(
    absence: dict[str, Any], zone: ZoneInfo, person_id: str, type_id: str
) -> dict[str, Any]:
    """The POST/PATCH body of ``/v2/absence-periods`` (day and half-day markers)."""
    start, end = parse_time(absence.get("starts_at")), parse_time(absence.get("ends_at"))
    if start is None or end is None:
        raise Unmappable("the absence has no start or no end")
    start, end = start.astimezone(zone), end.astimezone(zone)
    if end < start:
        raise Unmappable("the absence ends before it starts")
    last_day = _end_date(start, end)
    if absence.get("all_day", True):
        first_half, last_half = FIRST_HALF, SECOND_HALF
    elif last_day == start.date():
        middle = start + (end - start) / 2
        half = FIRST_HALF if middle.time() < NOON else SECOND_HALF
        first_half = last_half = half
    else:
        first_half = SECOND_HALF if start.time() >= NOON else FIRST_HALF
        last_half = FIRST_HALF if time(0, 0) < end.time() <= NOON else SECOND_HALF
    return {
        "person": {"id": person_id},
        "absence_type": {"id": type_id},
        "starts_from": {"date_time": f"{start.date().isoformat()}T00:00:00", "type": first_half},
        "ends_at": {"date_time": f"{last_day.isoformat()}T00:00:00", "type": last_half},
    }


def absence_key(body: dict[str, Any]) -> tuple[str, ...]:
    """What identifies an absence period when links are rebuilt: person, type, start and end."""
    starts = body.get("starts_from") or {}
    ends = body.get("ends_at") or {}
    return (
        str((body.get("person") or {}).get("id")),
        str((body.get("absence_type") or {}).get("id")),
        str(starts.get("date_time", ""))[:19],
        str(starts.get("type") or ""),
        str(ends.get("date_time", ""))[:19],
        str(ends.get("type") or ""),
    )


def attendance_key(person_id: str, slot: Mapping[str, str]) -> tuple[str, str, str, str]:
    return (person_id, slot["type"], slot["start"][:19], slot["end"][:19])


def personio_attendance_key(item: dict[str, Any]) -> tuple[str, str, str, str]:
    """The same key for an attendance period read from Personio."""
    return (
        str((item.get("person") or {}).get("id")),
        str(item.get("type")),
        str((item.get("start") or {}).get("date_time", ""))[:19],
        str((item.get("end") or {}).get("date_time") or "")[:19],
    )
