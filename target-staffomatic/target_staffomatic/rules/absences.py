"""Personio absence periods -> Staffomatic absences (pure: no I/O).

Conventions: a full-day absence runs from 00:00:00 of its first day to 23:59:59 of its last day in
the company time zone (``all_day``); a half day is split at 12:00 local time: a period that starts
with the second half of its first day starts at 12:00, one that ends with the first half of its
last day ends at 12:00, and such periods are sent with ``all_day: false``.

An absence whose linked record is gone is created again; one the ledger lost is found by user,
type and exact times and linked again (recorded as ``link``). A period rejected or cancelled in
Personio is deleted in Staffomatic; one gone from a window read completely is deleted once a
direct read of the Personio period confirms it is gone (``Plan.confirm``).
"""

from __future__ import annotations

import sys
from collections.abc import Mapping
from contextlib import suppress
from dataclasses import dataclass
from datetime import date, datetime, time
from typing import Any
from zoneinfo import ZoneInfo

from sync_ledger import Link, fingerprint
from sync_ledger.engine import LinkPlan, Op, Plan

from target_staffomatic import paths
from target_staffomatic.rules.base import ABSENCE, ABSENCE_TYPE, Rules, norm
from target_staffomatic.rules.lookups import Lookups, absence_key

REMOVED_STATUSES = frozenset({"rejected", "declined", "cancelled", "canceled", "deleted"})
HALF_DAY_SPLIT = time(12, 0)
END_OF_DAY = time(23, 59, 59)
APPROVE = {"do": "approve"}


@dataclass(frozen=True, slots=True)
class AbsenceIn:
    """A Personio absence period, read from tap-personio's ``absences`` record.

    ``start_time`` / ``end_time`` are set only for periods with explicit clock times (hourly
    absence types); full and half days carry dates and the half-day markers.
    """

    id: str
    person_id: str
    type_id: str
    type_name: str
    start: date
    end: date
    starts_second_half: bool = False
    ends_first_half: bool = False
    status: str = "approved"
    start_time: time | None = None
    end_time: time | None = None
    time_zone: str | None = None


def _get(record: Mapping[str, Any], *paths: str) -> Any:
    """The first present value among dotted ``paths`` (flat or nested records both work)."""
    for path in paths:
        value: Any = record
        for part in path.split("."):
            value = value.get(part) if isinstance(value, Mapping) else None
        if value is not None and value != "":
            return value
    return None


def _local(value: Any, name: str = "a date") -> datetime | None:
    """A local date-time (no offset) or a date, as a naive datetime; ValueError naming the
    field (never its value) when it is not a real date and time."""
    if value is None or value == "":
        return None
    if isinstance(value, datetime):
        return value.replace(tzinfo=None)
    if isinstance(value, date):
        return datetime.combine(value, time(0, 0))
    try:
        return datetime.fromisoformat(str(value).strip().replace("Z", "")).replace(tzinfo=None)
    except ValueError as exc:
        why = "not in ISO 8601 form" if "isoformat" in str(exc) else str(exc)
        raise ValueError(
            f"{name} is not a valid date and time ({why}): correct it in Personio"
        ) from None


def read_absence(
    record: Mapping[str, Any], type_names: Mapping[str, str], open_end: date
) -> AbsenceIn:
    """Normalise one ``absences`` record; raises ValueError when a needed field is missing.

    An open-ended period (no end) runs until ``open_end`` (the end of the sync window).
    """
    sid = _get(record, "id")
    person = _get(record, "person_id", "person.id")
    starts = _local(
        _get(record, "starts_from", "starts_from.date_time", "start_date"), "starts_from"
    )
    ends = _local(_get(record, "ends_at", "ends_at.date_time", "end_date"), "ends_at")
    if sid is None or person is None or starts is None:
        raise ValueError("the absence record lacks its id, person or start")
    if ends is None:
        ends = datetime.combine(max(open_end, starts.date()), time(0, 0))
    if ends < starts:
        raise ValueError("the absence ends before it starts: fix its dates in Personio")
    type_id = str(_get(record, "absence_type_id", "absence_type.id") or "")
    type_name = _get(record, "absence_type_name", "absence_type.name") or type_names.get(type_id)
    second_half = _is_half(_get(record, "half_day_start"), None) or _is_half(
        _get(record, "starts_from_type", "starts_from.type"), "SECOND_HALF"
    )
    first_half = _is_half(_get(record, "half_day_end"), None) or _is_half(
        _get(record, "ends_at_type", "ends_at.type"), "FIRST_HALF"
    )
    whole = {time(0, 0), END_OF_DAY, time(23, 59)}
    timed = not (second_half or first_half) and (
        starts.time() != time(0, 0) or ends.time() not in whole
    )
    zone = _get(record, "timezone", "timezone_id")
    # Absences wait for their employee's link until the end of the input when they come first,
    # so the texts they repeat (person, type, status, zone) are kept once (sys.intern).
    return AbsenceIn(
        id=str(sid),
        person_id=sys.intern(str(person)),
        type_id=sys.intern(type_id),
        type_name=sys.intern(str(type_name or "").strip()),
        start=starts.date(),
        end=ends.date(),
        starts_second_half=second_half,
        ends_first_half=first_half,
        status=sys.intern(
            norm(_get(record, "approval_status", "approval.status", "status") or "approved")
        ),
        start_time=starts.time() if timed else None,
        end_time=ends.time() if timed else None,
        time_zone=sys.intern(zone) if isinstance(zone, str) else zone,
    )


def _is_half(value: Any, marker: str | None) -> bool:
    if isinstance(value, str):
        text = value.strip()
        return text.upper() == marker if marker else text.lower() in ("true", "1")
    return bool(value) if marker is None else False


def absence_times(absence: AbsenceIn, tz: ZoneInfo) -> tuple[str, str, bool]:
    """``starts_at``, ``ends_at`` (ISO 8601 with offset) and ``all_day`` by the convention above."""
    if absence.time_zone:
        with suppress(ValueError, KeyError):
            tz = ZoneInfo(absence.time_zone)
    if absence.start_time is not None and absence.end_time is not None:
        start_t, end_t, all_day = absence.start_time, absence.end_time, False
    else:
        start_t = HALF_DAY_SPLIT if absence.starts_second_half else time(0, 0)
        end_t = HALF_DAY_SPLIT if absence.ends_first_half else END_OF_DAY
        all_day = not (absence.starts_second_half or absence.ends_first_half)
    starts = datetime.combine(absence.start, start_t, tz)
    ends = datetime.combine(absence.end, end_t, tz)
    return starts.isoformat(), ends.isoformat(), all_day


def resolve_absence_type(
    name: str, location_id: int, rules: Rules, lk: Lookups
) -> tuple[int | None, str]:
    """The Staffomatic type id for a Personio type name in one location, and the name looked up."""
    mapped = {norm(k): v for k, v in rules.absence_type_map.items()}.get(norm(name), name)
    if isinstance(mapped, int) or str(mapped).isdigit():
        return (int(mapped) if int(mapped) in lk.absence_types else None), str(mapped)
    return lk.type_by_name.get((location_id, norm(mapped))), str(mapped).strip()


def plan_absence(
    absence: AbsenceIn,
    rules: Rules,
    lk: Lookups,
    link: Link | None,
    user_id: int | None,
    location_id: int | None,
    claimed: set[int],
) -> Plan:
    """Create, update, approve or delete the Staffomatic absence of one Personio absence period.

    ``claimed`` holds destination ids already linked (so recovery never links one twice).
    """
    plan = Plan(ABSENCE, absence.id)
    linked = int(link.dest_id) if link and link.dest_id.isdigit() else None
    current = (lk.absences or {}).get(linked) if linked is not None else None
    if absence.status in REMOVED_STATUSES:
        return _plan_removal(plan, absence, lk, link, linked, current)
    if user_id is None or location_id is None:
        plan.outcome = "skip"
        plan.reason = f"employee {absence.person_id} has no linked Staffomatic user"
        return plan
    type_id, looked_up = resolve_absence_type(absence.type_name, location_id, rules, lk)
    if type_id is None:
        plan.outcome = "skip"
        plan.held_back = absence.type_name or "(unnamed)"
        plan.reason = (
            f"absence type '{looked_up or absence.type_name}' has no counterpart in location "
            f"{location_id}: create it, map it in absence_type_map, or set "
            "create_missing_absence_types"
        )
        return plan
    wanted = _Wanted.of(absence, rules, user_id, type_id, location_id)
    plan.link = LinkPlan(wanted.fingerprint, wanted.link_data)
    if current is None and linked is None:
        recovered = lk.absence_by_key.get(absence_key(wanted.body))
        if recovered is not None and recovered not in claimed:
            current, linked = (lk.absences or {})[recovered], recovered
            reason = "re-linked to the matching Staffomatic absence"
            plan.ops.append(Op("link", record_id=recovered, reason=reason))
            plan.reason = reason
    if current is None:
        plan.ops = wanted.create()
        plan.reason = "new absence" if linked is None else "linked absence missing in Staffomatic"
        return plan
    plan.dest_id = linked
    return _plan_changes(plan, wanted, current, link)


def _plan_removal(
    plan: Plan,
    absence: AbsenceIn,
    lk: Lookups,
    link: Link | None,
    linked: int | None,
    current: Mapping[str, Any] | None,
) -> Plan:
    """A period removed in Personio (rejected, cancelled, ...): delete what the sync created."""
    if linked is None:
        plan.outcome = "unchanged"
        return plan
    plan.dest_id = linked
    plan.drop_link = True
    if current is None and lk.absences is not None and link and _in_loaded(link, lk):
        plan.outcome, plan.reason = "unchanged", "already gone from Staffomatic"
        return plan
    loc = (current or {}).get("location_id") or (link.data.get("location_id") if link else None)
    plan.ops.append(Op("delete", "DELETE", paths.absence(loc)))
    plan.reason = f"{absence.status} in Personio"
    return plan


@dataclass(frozen=True)
class _Wanted:
    """The Staffomatic absence a Personio period asks for."""

    body: dict[str, Any]
    state: str
    location_id: int
    link_data: dict[str, Any]

    @classmethod
    def of(
        cls, absence: AbsenceIn, rules: Rules, user_id: int, type_id: int, location_id: int
    ) -> _Wanted:
        starts_at, ends_at, all_day = absence_times(absence, rules.time_zone)
        body = {
            "applicant_id": user_id,
            "absence_type_id": type_id,
            "starts_at": starts_at,
            "ends_at": ends_at,
            "all_day": all_day,
        }
        approved = rules.mirror_absence_approval and absence.status == "approved"
        period = {"start": str(absence.start), "end": str(absence.end)}
        return cls(
            body,
            "approved" if approved else "new",
            location_id,
            {"location_id": location_id, **period},
        )

    @property
    def fingerprint(self) -> str:
        return fingerprint(self.body)

    def create(self) -> list[Op]:
        ops = [Op("create", "POST", paths.absences_of(self.location_id), self.body)]
        if self.state == "approved":
            path = paths.absence(self.location_id)
            ops.append(Op("approve", "PUT", path, APPROVE, reason="approved in Personio"))
        return ops


def _plan_changes(
    plan: Plan, wanted: _Wanted, current: Mapping[str, Any], link: Link | None
) -> Plan:
    """Bring an existing absence in step: approve it, update it, or replace a decided one."""
    state = str(current.get("state") or "new")
    same = (link is not None and link.fingerprint == wanted.fingerprint) or absence_key(
        current
    ) == absence_key(wanted.body)
    path = paths.absence(current.get("location_id") or wanted.location_id)
    if same and state == wanted.state:
        if not plan.ops:
            plan.outcome = "unchanged"
    elif same and state == "new" and wanted.state == "approved":
        plan.ops.append(Op("approve", "PUT", path, APPROVE))
        plan.reason = "approved in Personio"
    elif state == "new":
        plan.ops.append(Op("update", "PUT", path, wanted.body))
        if wanted.state == "approved":
            plan.ops.append(Op("approve", "PUT", path, APPROVE, reason="approved in Personio"))
        plan.reason = "changed in Personio"
    else:
        plan.ops += [Op("delete", "DELETE", path), *wanted.create()]
        plan.reason = f"changed in Personio; the {state} absence is replaced"
    return plan


def _in_loaded(link: Link, lk: Lookups) -> bool:
    """Whether the linked absence's period lies in the window the look-ups loaded."""
    window = lk.absence_window
    if window is None:
        return True
    start, end = link.data.get("start"), link.data.get("end")
    if not start or not end:
        return False
    return bool(window[0] <= date.fromisoformat(start) and date.fromisoformat(end) <= window[1])


def vanished(
    links: Mapping[str, Link], seen: set[str], window: tuple[date, date]
) -> list[tuple[str, Link]]:
    """Linked absences inside ``window`` whose source was not seen in a complete window read."""
    found = []
    for sid, link in sorted(links.items()):
        if sid in seen:
            continue
        start, end = link.data.get("start"), link.data.get("end")
        if not start or not end:
            continue
        if date.fromisoformat(end) < window[0] or date.fromisoformat(start) > window[1]:
            continue
        found.append((sid, link))
    return found


def plan_vanished(
    links: Mapping[str, Link], seen: set[str], window: tuple[date, date], lk: Lookups
) -> list[Plan]:
    """Deletes for linked absences whose source vanished from a window read completely, each
    to be confirmed by a read of the Personio period first (``Plan.confirm``)."""
    reason = "vanished from Personio in a full sync of the window"
    return [plan_gone(sid, link, lk, reason) for sid, link in vanished(links, seen, window)]


def plan_gone(sid: str, link: Link, lk: Lookups, reason: str) -> Plan:
    """The delete of the absence linked to Personio period ``sid``, which a read says is gone;
    the confirmation read of the period (``Plan.confirm``) decides whether it goes out."""
    dest = int(link.dest_id) if link.dest_id.lstrip("-").isdigit() else None
    current = (lk.absences or {}).get(dest) if dest is not None else None
    plan = Plan(ABSENCE, sid, drop_link=True, confirm=True)
    plan.dest_id = dest
    if current is None:
        plan.outcome, plan.reason = "unchanged", "vanished and already gone"
    else:
        loc = current.get("location_id") or link.data.get("location_id")
        plan.ops.append(Op("delete", "DELETE", paths.absence(loc)))
        plan.reason = reason
    return plan


def plan_missing_types(
    absences: list[tuple[AbsenceIn, int | None]], rules: Rules, lk: Lookups
) -> list[Plan]:
    """Creates for the absence types the absences need and their locations lack (when the
    ``create_missing_absence_types`` setting asks for it)."""
    wanted: dict[tuple[int, str], str] = {}
    for absence, location in absences:
        if location is None or not absence.type_name:
            continue
        type_id, looked_up = resolve_absence_type(absence.type_name, location, rules, lk)
        if type_id is None and looked_up and not looked_up.isdigit():
            wanted.setdefault((location, norm(looked_up)), looked_up)
    plans = []
    for (location, _), name in sorted(wanted.items()):
        plan = Plan(ABSENCE_TYPE, f"{location}:{norm(name)}", reason="missing type created")
        body = {"name": name, "user_selectable": True, "visibility": "staff"}
        plan.ops.append(Op("create", "POST", paths.absence_types(location), body))
        plan.link = LinkPlan("", {"location_id": location})
        plans.append(plan)
    return plans
