"""The sync rules as pure functions: Personio records and Staffomatic look-ups in, planned writes.

Nothing here does I/O. :class:`Lookups` holds what was read from Staffomatic once per run (and is
kept up to date as writes are applied); :func:`plan_employee` and :func:`plan_absence` turn one
record into a :class:`Planned` item: the write requests to send (``ops``), what to record in the
ledger and why. The same plan serves the real run, the dry run and the run log.

Conventions (documented in the README):

- ``max_hours_per_month`` = weekly working hours x 52 / 12, rounded to the nearest whole hour;
- ``max_vacation_days`` = the employee's entitlement of the paid-vacation absence type, rounded
  to the nearest whole day;
- a full-day absence runs from 00:00:00 of its first day to 23:59:59 of its last day in the
  company time zone (``all_day``); a half day is split at 12:00 local time: a period that starts
  with the second half of its first day starts at 12:00, one that ends with the first half of its
  last day ends at 12:00, and such periods are sent with ``all_day: false``.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping
from contextlib import suppress
from dataclasses import dataclass, field
from datetime import date, datetime, time
from decimal import ROUND_HALF_UP, Decimal
from typing import Any
from zoneinfo import ZoneInfo

from sync_ledger import Link, fingerprint

SYSTEM = "personio"
EMPLOYEE = "employee"
ABSENCE = "absence"
ABSENCE_TYPE = "absence_type"
SYNC_FIELDS = ("max_vacation_days", "max_hours_per_month", "departments")
DEPARTMENT_SOURCES = ("department", "team")
REMOVED_STATUSES = frozenset({"rejected", "declined", "cancelled", "canceled", "deleted"})
APPROVED_STATUSES = frozenset({"approved"})
HALF_DAY_SPLIT = time(12, 0)
END_OF_DAY = time(23, 59, 59)
ID = "{id}"
"""Placeholder in an op's path for the destination id (known, or returned by the create op)."""


def norm(value: Any) -> str:
    """Trimmed and case-folded, for matching e-mails and names."""
    return str(value or "").strip().casefold()


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


@dataclass
class Op:
    """One write request: ``action`` is what the run log records for it, with ``reason``
    (else the plan's reason)."""

    action: str
    method: str
    path: str
    body: dict[str, Any] | None = None
    reason: str = ""


@dataclass
class Planned:
    """What to do for one source record.

    ``ops`` run in order (a create first returns the id later ops use). ``outcome`` names what
    happened when there is nothing to write: ``unchanged``, ``skip`` or ``fail``. ``link`` is the
    fingerprint and data to save after the ops succeed; ``drop_link`` removes the link instead.
    """

    entity: str
    source_id: str
    ops: list[Op] = field(default_factory=list)
    dest_id: int | None = None
    outcome: str = ""
    reason: str = ""
    link: tuple[str, dict[str, Any]] | None = None
    drop_link: bool = False
    missing_type: str | None = None
    """The Personio absence type name that held this absence back (for the run summary)."""

    @property
    def writes(self) -> bool:
        return bool(self.ops)


class Lookups:
    """Staffomatic data read once per run, with the indexes the rules match on."""

    def __init__(
        self,
        users: Iterable[dict[str, Any]] = (),
        locations: Iterable[dict[str, Any]] = (),
        departments: Iterable[dict[str, Any]] = (),
        absence_types: Iterable[dict[str, Any]] = (),
        absences: Iterable[dict[str, Any]] | None = None,
    ) -> None:
        self.users: dict[int, dict[str, Any]] = {}
        self.locations = {int(loc["id"]): loc for loc in locations}
        self.departments = {int(d["id"]): d for d in departments}
        self.absence_types: dict[int, dict[str, Any]] = {}
        self.absences: dict[int, dict[str, Any]] | None = None
        self.by_custom_id: dict[str, set[int]] = defaultdict(set)
        self.by_email: dict[str, set[int]] = defaultdict(set)
        self.by_name_without_email: dict[str, set[int]] = defaultdict(set)
        self.user_locations: dict[int, list[int]] = defaultdict(list)
        self.location_by_name = {norm(loc.get("name")): lid for lid, loc in self.locations.items()}
        self.department_by_name: dict[tuple[int, str], int] = {}
        self.type_by_name: dict[tuple[int, str], int] = {}
        self.absence_by_key: dict[tuple[Any, ...], int] = {}
        self.absence_window: tuple[date, date] | None = None
        """The days whose absences ``absences`` holds (None: all that were read)."""
        for lid, loc in self.locations.items():
            for uid in loc.get("user_ids") or []:
                self._add_location(int(uid), lid)
        for did, dep in sorted(self.departments.items()):
            if dep.get("location_id") is not None:
                dep_loc = int(dep["location_id"])
                self.department_by_name.setdefault((dep_loc, norm(dep.get("name"))), did)
                for uid in dep.get("user_ids") or []:
                    self._add_location(int(uid), dep_loc)
        for user in users:
            self.put_user(user)
        for absence_type in absence_types:
            self.put_absence_type(absence_type)
        if absences is not None:
            self.set_absences(absences)

    def _add_location(self, user_id: int, location_id: int) -> None:
        if location_id not in self.user_locations[user_id]:
            self.user_locations[user_id].append(location_id)

    # users --------------------------------------------------------------------------------------

    def put_user(self, user: dict[str, Any], location_id: int | None = None) -> None:
        """Add or replace a user (as read, or as returned by a write) in every index."""
        uid = int(user["id"])
        old = self.users.get(uid)
        if old is not None:
            self.by_custom_id[str(old.get("custom_id") or "")].discard(uid)
            self.by_email[norm(old.get("email"))].discard(uid)
            self.by_name_without_email[_full_name(old)].discard(uid)
        self.users[uid] = user
        if user.get("custom_id"):
            self.by_custom_id[str(user["custom_id"])].add(uid)
        if norm(user.get("email")):
            self.by_email[norm(user.get("email"))].add(uid)
        else:
            self.by_name_without_email[_full_name(user)].add(uid)
        for lid in [*(user.get("location_ids") or []), location_id]:
            if lid is not None:
                self._add_location(uid, int(lid))
        for did in user.get("department_ids") or []:
            dep = self.departments.get(int(did))
            if dep and dep.get("location_id") is not None:
                self._add_location(uid, int(dep["location_id"]))

    def location_of(self, user_id: int, preferred: int | None = None) -> int | None:
        """The location for a user's paths: ``preferred`` if the user is in it, else the first."""
        found = self.user_locations.get(user_id) or []
        if preferred is not None and (preferred in found or not found):
            return preferred
        return found[0] if found else None

    # absence types and absences -------------------------------------------------------------

    def put_absence_type(self, absence_type: dict[str, Any]) -> None:
        tid = int(absence_type["id"])
        self.absence_types[tid] = absence_type
        lid = absence_type.get("location_id")
        if lid is not None:
            self.type_by_name.setdefault((int(lid), norm(absence_type.get("name"))), tid)

    def set_absences(self, absences: Iterable[dict[str, Any]]) -> None:
        self.absences = {}
        self.absence_by_key = {}
        for absence in absences:
            self.put_absence(absence)

    def put_absence(self, absence: dict[str, Any]) -> None:
        if self.absences is None:
            self.absences = {}
        aid = int(absence["id"])
        self.absences[aid] = absence
        self.absence_by_key.setdefault(absence_key(absence), aid)

    def drop_absence(self, absence_id: int) -> None:
        if self.absences is not None:
            absence = self.absences.pop(absence_id, None)
            if absence is not None and self.absence_by_key.get(absence_key(absence)) == absence_id:
                del self.absence_by_key[absence_key(absence)]


def _full_name(user: Mapping[str, Any]) -> str:
    return " ".join(
        part for part in (norm(user.get("first_name")), norm(user.get("last_name"))) if part
    )


def _instant(value: Any) -> datetime | None:
    if value is None or value == "":
        return None
    parsed = value if isinstance(value, datetime) else datetime.fromisoformat(str(value))
    return parsed if parsed.tzinfo else None


def absence_key(absence: Mapping[str, Any]) -> tuple[Any, ...]:
    """What identifies an absence when the ledger is lost: user, type, exact start and end."""
    return (
        int(absence.get("applicant_id") or 0),
        int(absence.get("absence_type_id") or 0),
        _instant(absence.get("starts_at")),
        _instant(absence.get("ends_at")),
    )


# ---- employees -> users ---------------------------------------------------------------------


def _as_date(value: Any) -> date | None:
    if value is None or value == "":
        return None
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    return date.fromisoformat(str(value)[:10])


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


def vacation_days(employee: Mapping[str, Any], vacation_type_ids: Iterable[str] = ()) -> int | None:
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


def desired_lock(employee: Mapping[str, Any], rules: Rules) -> bool | None:
    """True: locked, False: unlocked, None: the lifecycle settings leave the lock alone."""
    return lifecycle(employee, rules)[0]


def lifecycle(
    employee: Mapping[str, Any], rules: Rules, link: Link | None = None
) -> tuple[bool | None, str]:
    """:func:`desired_lock` and the rule behind it, in words with dates only (for the ledger).

    An unlock names the hire date when the ledger last saw the employee before it (the lock
    until the hire date ends), else says the employee is active again (a rehire).
    """
    status = norm(employee.get("status"))
    last_day = _as_date(employee.get("last_working_day"))
    last_day_name = "last working day"
    if last_day is None:
        last_day, last_day_name = _as_date(employee.get("termination_date")), "termination date"
    hire = _as_date(employee.get("hire_date"))
    if status == "inactive":
        return (True if rules.lock_after_last_day else None), "status inactive"
    if last_day is not None and last_day < rules.today:
        lock = True if rules.lock_after_last_day else None
        return lock, f"{last_day_name} {last_day} passed"
    if hire is not None and hire > rules.today:
        lock = True if rules.lock_before_hire_date else None
        return lock, f"hire date {hire} in the future"
    if hire is not None and link is not None and link.updated_at.date() < hire:
        return False, f"hired on {hire}"
    return False, "active again in Personio"


def _resolve_location(employee: Mapping[str, Any], rules: Rules, lk: Lookups) -> int | None:
    office = str(employee.get("office_name") or "").strip()
    mapped = {norm(k): v for k, v in rules.location_map.items()}.get(norm(office))
    if mapped is not None:
        if isinstance(mapped, int) or str(mapped).isdigit():
            return int(mapped) if int(mapped) in lk.locations else None
        return lk.location_by_name.get(norm(mapped))
    if office and norm(office) in lk.location_by_name:
        return lk.location_by_name[norm(office)]
    if rules.default_location_id is not None and int(rules.default_location_id) in lk.locations:
        return int(rules.default_location_id)
    return None


def _resolve_department(
    employee: Mapping[str, Any], rules: Rules, lk: Lookups, location_id: int | None
) -> tuple[int | None, str]:
    """The department id for the employee in ``location_id``, or None and why."""
    key = "team_name" if rules.department_source == "team" else "department_name"
    name = str(employee.get(key) or "").strip()
    if not name:
        return None, ""
    mapped = {norm(k): v for k, v in rules.department_map.items()}.get(norm(name), name)
    if isinstance(mapped, int) or str(mapped).isdigit():
        dep = lk.departments.get(int(mapped))
        return (int(mapped), "") if dep else (None, f"department id {mapped} does not exist")
    if location_id is None:
        return None, ""
    did = lk.department_by_name.get((location_id, norm(mapped)))
    if did is None:
        return None, f"no department named like the {key} in location {location_id}"
    return did, ""


def _user_path(location_id: int | None) -> str:
    return f"/locations/{location_id}/users/{ID}.json" if location_id else f"/users/{ID}.json"


def plan_employee(
    employee: Mapping[str, Any],
    rules: Rules,
    lk: Lookups,
    link: Link | None,
    vacation_type_ids: Iterable[str] = (),
) -> Planned:
    """Link, create, update, lock or unlock the Staffomatic user of one Personio employee."""
    sid = str(employee["id"])
    plan = Planned(EMPLOYEE, sid)
    email = str(employee.get("email") or "").strip()
    matched = _match_user(sid, email, employee, lk, link, plan)
    if plan.outcome:
        return plan

    owned: dict[str, Any] = {
        "first_name": str(employee.get("first_name") or "").strip(),
        "last_name": str(employee.get("last_name") or "").strip(),
        "email": email,
        "custom_id": sid,
    }
    if "max_vacation_days" in rules.sync_fields:
        days = vacation_days(employee, vacation_type_ids)
        if days is not None:
            owned["max_vacation_days"] = days
    if "max_hours_per_month" in rules.sync_fields:
        hours = monthly_hours(employee.get("weekly_working_hours"))
        if hours is not None:
            owned["max_hours_per_month"] = hours
    lock, lock_reason = lifecycle(employee, rules, link)
    location = _resolve_location(employee, rules, lk)
    notes: list[str] = []

    if matched is None:
        if not email:
            plan.outcome, plan.reason = "skip", "no e-mail in Personio: add one to create the user"
            return plan
        if location is None:
            office = str(employee.get("office_name") or "").strip() or "(none)"
            plan.outcome = "skip"
            plan.reason = (
                f"office '{office}' matches no Staffomatic location: add it to location_map "
                "or set default_location_id"
            )
            return plan
        new_department, why = _resolve_department(employee, rules, lk, location)
        body = dict(owned)
        if "departments" in rules.sync_fields and new_department is not None:
            body["department_ids"] = [new_department]
        if why and "departments" in rules.sync_fields:
            notes.append(why)
        if rules.invite_users:
            body["do"] = "send_invitation"
        plan.ops.append(Op("create", "POST", f"/locations/{location}/users.json", body))
        if lock:
            plan.ops.append(Op("lock", "PUT", _user_path(location), {"do": "lock"}, lock_reason))
        plan.reason = "; ".join([f"new employee in location {location}", *notes])
        data = {"location_id": location, "department_id": new_department}
        plan.link = (fingerprint({**owned, "department_id": new_department, "locked": lock}), data)
        return plan

    uid = int(matched["id"])
    plan.dest_id = uid
    location = lk.location_of(uid, location)
    changes = {
        k: v
        for k, v in owned.items()
        if (norm(v) != norm(matched.get(k)) if k == "email" else v != matched.get(k))
    }
    department: int | None = None
    if "departments" in rules.sync_fields:
        department, why = _resolve_department(employee, rules, lk, location)
        if why:
            notes.append(why)
        current = [int(d) for d in matched.get("department_ids") or []]
        previous = link.data.get("department_id") if link else None
        wanted = [d for d in current if d != previous or d == department]
        if department is not None and department not in wanted:
            wanted.append(department)
        if sorted(wanted) != sorted(current):
            changes["department_ids"] = sorted(wanted)
    if changes:
        plan.ops.append(Op("update", "PUT", _user_path(location), changes))
        plan.reason = "fields changed: " + ", ".join(sorted(changes))
    locked_now = matched.get("locked_at") not in (None, "")
    if lock is True and not locked_now:
        plan.ops.append(Op("lock", "PUT", _user_path(location), {"do": "lock"}, lock_reason))
    elif lock is False and locked_now:
        plan.ops.append(Op("unlock", "PUT", _user_path(location), {"do": "unlock"}, lock_reason))
    if not plan.ops:
        plan.outcome = "unchanged"
    if notes:
        plan.reason = "; ".join([r for r in (plan.reason, *notes) if r])
    data = {"location_id": location, "department_id": department}
    plan.link = (fingerprint({**owned, "department_id": department, "locked": lock}), data)
    return plan


def _match_user(
    sid: str,
    email: str,
    employee: Mapping[str, Any],
    lk: Lookups,
    link: Link | None,
    plan: Planned,
) -> dict[str, Any] | None:
    """The user of this employee by custom_id, then the ledger, then e-mail; ambiguity skips."""
    by_id = sorted(lk.by_custom_id.get(sid, ()))
    if len(by_id) > 1:
        plan.outcome = "skip"
        plan.reason = f"ambiguous: users {_ids(by_id)} all carry custom_id {sid}"
        return None
    if by_id:
        return lk.users[by_id[0]]
    if link is not None and link.dest_id.isdigit() and int(link.dest_id) in lk.users:
        return lk.users[int(link.dest_id)]
    if email:
        by_email = sorted(lk.by_email.get(norm(email), ()))
        if len(by_email) > 1:
            plan.outcome = "skip"
            plan.reason = f"ambiguous: users {_ids(by_email)} share the employee's e-mail"
            return None
        if by_email:
            user = lk.users[by_email[0]]
            other = str(user.get("custom_id") or "")
            if other and other != sid:
                plan.outcome = "skip"
                plan.reason = (
                    f"conflict: user {by_email[0]} has the employee's e-mail but is linked "
                    f"to employee {other}"
                )
                return None
            return user
    namesakes = sorted(lk.by_name_without_email.get(_full_name(employee), ()))
    if namesakes:
        plan.outcome = "skip"
        plan.reason = (
            f"ambiguous: user {_ids(namesakes)} has no e-mail and the employee's full name; "
            f"set its custom_id to {sid} to link it"
        )
    return None


def _ids(ids: Iterable[int]) -> str:
    return ", ".join(str(i) for i in ids)


# ---- absences -------------------------------------------------------------------------------


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


EMPLOYEE_TEXT = ("first_name", "last_name", "email")
"""The employee fields whose text is sent to Staffomatic as it is."""


def _get(record: Mapping[str, Any], *paths: str) -> Any:
    """The first present value among dotted ``paths`` (flat or nested records both work)."""
    for path in paths:
        value: Any = record
        for part in path.split("."):
            value = value.get(part) if isinstance(value, Mapping) else None
        if value is not None and value != "":
            return value
    return None


def _local(value: Any) -> datetime | None:
    """A local date-time (no offset) or a date, as a naive datetime."""
    if value is None or value == "":
        return None
    if isinstance(value, datetime):
        return value.replace(tzinfo=None)
    if isinstance(value, date):
        return datetime.combine(value, time(0, 0))
    return datetime.fromisoformat(str(value).strip().replace("Z", "")).replace(tzinfo=None)


def read_absence(
    record: Mapping[str, Any], type_names: Mapping[str, str], open_end: date
) -> AbsenceIn:
    """Normalise one ``absences`` record; raises ValueError when a needed field is missing.

    An open-ended period (no end) runs until ``open_end`` (the end of the sync window).
    """
    sid = _get(record, "id")
    person = _get(record, "person_id", "person.id")
    starts = _local(_get(record, "starts_from", "starts_from.date_time", "start_date"))
    ends = _local(_get(record, "ends_at", "ends_at.date_time", "end_date"))
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
    return AbsenceIn(
        id=str(sid),
        person_id=str(person),
        type_id=type_id,
        type_name=str(type_name or "").strip(),
        start=starts.date(),
        end=ends.date(),
        starts_second_half=second_half,
        ends_first_half=first_half,
        status=norm(_get(record, "approval_status", "approval.status", "status") or "approved"),
        start_time=starts.time() if timed else None,
        end_time=ends.time() if timed else None,
        time_zone=_get(record, "timezone", "timezone_id"),
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


def _absence_path(location_id: int | None) -> str:
    if location_id:
        return f"/locations/{location_id}/absences/{ID}.json"
    return f"/absences/{ID}.json"


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
) -> Planned:
    """Create, update, approve or delete the Staffomatic absence of one Personio absence period.

    ``claimed`` holds destination ids already linked (so recovery never links one twice).
    """
    plan = Planned(ABSENCE, absence.id)
    linked = int(link.dest_id) if link and link.dest_id.isdigit() else None
    current = (lk.absences or {}).get(linked) if linked is not None else None
    if absence.status in REMOVED_STATUSES:
        if linked is None:
            plan.outcome = "unchanged"
            return plan
        plan.dest_id = linked
        plan.drop_link = True
        if current is None and lk.absences is not None and link and _in_loaded(link, lk):
            plan.outcome, plan.reason = "unchanged", "already gone from Staffomatic"
            return plan
        loc = (current or {}).get("location_id") or (link.data.get("location_id") if link else None)
        plan.ops.append(Op("delete", "DELETE", _absence_path(loc)))
        plan.reason = f"{absence.status} in Personio"
        return plan
    if user_id is None or location_id is None:
        plan.outcome = "skip"
        plan.reason = f"employee {absence.person_id} has no linked Staffomatic user"
        return plan
    type_id, looked_up = resolve_absence_type(absence.type_name, location_id, rules, lk)
    if type_id is None:
        plan.outcome = "skip"
        plan.missing_type = absence.type_name or "(unnamed)"
        plan.reason = (
            f"absence type '{looked_up or absence.type_name}' has no counterpart in location "
            f"{location_id}: create it, map it in absence_type_map, or set "
            "create_missing_absence_types"
        )
        return plan

    starts_at, ends_at, all_day = absence_times(absence, rules.time_zone)
    body = {
        "applicant_id": user_id,
        "absence_type_id": type_id,
        "starts_at": starts_at,
        "ends_at": ends_at,
        "all_day": all_day,
    }
    state = "approved" if rules.mirror_absence_approval and absence.status == "approved" else "new"
    fp = fingerprint(body)
    period = {"start": str(absence.start), "end": str(absence.end)}
    plan.link = (fp, {"location_id": location_id, **period})
    path = _absence_path(location_id)
    create = [Op("create", "POST", f"/locations/{location_id}/absences.json", body)]
    if state == "approved":
        create.append(Op("approve", "PUT", path, {"do": "approve"}, "approved in Personio"))

    if current is None and linked is None:
        recovered = lk.absence_by_key.get(absence_key(body))
        if recovered is not None and recovered not in claimed:
            current, linked = (lk.absences or {})[recovered], recovered
            plan.reason = "re-linked to the matching Staffomatic absence"
    if current is None:
        plan.ops = create
        plan.reason = "new absence" if linked is None else "linked absence missing in Staffomatic"
        return plan

    plan.dest_id = linked
    cur_state = str(current.get("state") or "new")
    unchanged_body = (link is not None and link.fingerprint == fp) or absence_key(
        current
    ) == absence_key(body)
    cur_path = _absence_path(current.get("location_id") or location_id)
    if unchanged_body and cur_state == state:
        plan.outcome = "unchanged"
    elif unchanged_body and cur_state == "new" and state == "approved":
        plan.ops.append(Op("approve", "PUT", cur_path, {"do": "approve"}))
        plan.reason = "approved in Personio"
    elif cur_state == "new":
        plan.ops.append(Op("update", "PUT", cur_path, body))
        if state == "approved":
            plan.ops.append(
                Op("approve", "PUT", cur_path, {"do": "approve"}, "approved in Personio")
            )
        plan.reason = "changed in Personio"
    else:
        plan.ops = [Op("delete", "DELETE", cur_path), *create]
        plan.reason = f"changed in Personio; the {cur_state} absence is replaced"
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
