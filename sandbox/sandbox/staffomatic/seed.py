"""The seeds of the Staffomatic emulator: ``demo``, ``scale`` and ``empty``.

Seeds are built relative to "now" in the account's time zone, so the demo keeps its edge cases
(a running timer, one stopped two hours ago, one across the latest October DST change) whenever
it runs. Everything else is fixed, so two builds on the same day are equal.
"""

from __future__ import annotations

import copy
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sandbox import roster
from sandbox.core import SandboxError
from sandbox.roster import Person
from sandbox.staffomatic.records import (
    ABSENCE_DEFAULTS,
    ABSENCE_TYPE_DEFAULTS,
    ABSENCE_TYPE_NAMES,
    ACCOUNT_DEFAULTS,
    ACCOUNT_ID,
    API_USER_ID,
    BREAK_TIMER_DEFAULTS,
    COLLECTIONS,
    DEFAULT_RATE_LIMIT,
    DEPARTMENT_DEFAULTS,
    FIRST_IDS,
    LOCATION_DEFAULTS,
    SCALE_DEFAULTS,
    USER_DEFAULTS,
    WORK_REPORT_DEFAULTS,
    WORK_TIMER_DEFAULTS,
    iso,
    last_october_sunday,
    local,
    week_start,
)

# ---- building a state ----------------------------------------------------------------------------


class _Builder:
    def __init__(self, now: datetime) -> None:
        self.zone = ZoneInfo(roster.COMPANY_TIME_ZONE)
        self.now = now.astimezone(self.zone).replace(microsecond=0)
        self.today = self.now.date()
        self.created = iso(self.now - timedelta(days=400), self.zone)
        self.state: dict[str, Any] = {
            "account": {"id": ACCOUNT_ID, "created_at": self.created, "updated_at": self.created}
            | copy.deepcopy(ACCOUNT_DEFAULTS),
            "credentials": [],
            "invitations": [],
            "rate_limit": dict(DEFAULT_RATE_LIMIT),
            **{name: [] for name in COLLECTIONS},
        }
        self.locations: dict[str, int] = {}
        self.departments: dict[tuple[str, str], int] = {}
        self.absence_types: dict[tuple[int, str], int] = {}

    def add(self, collection: str, defaults: dict[str, Any], **fields: Any) -> dict[str, Any]:
        items = self.state[collection]
        stamp = fields.pop("stamp", self.created)
        record = {
            "created_at": stamp,
            "updated_at": fields.pop("updated", stamp),
            "id": items[-1]["id"] + 1 if items else FIRST_IDS[collection],
        }
        record |= copy.deepcopy(defaults) | fields
        items.append(record)
        return record

    def t(self, moment: datetime) -> str:
        return iso(moment, self.zone)

    def base(self) -> None:
        """Account, API user, locations, departments and absence types."""
        for office in roster.OFFICES:
            location = self.add("locations", LOCATION_DEFAULTS, name=office)
            self.locations[office] = location["id"]
            for position, name in enumerate(roster.DEPARTMENTS[office], start=1):
                department = self.add(
                    "departments",
                    DEPARTMENT_DEFAULTS,
                    name=name,
                    location_id=location["id"],
                    position=position,
                    creator_id=API_USER_ID,
                )
                self.departments[office, name] = department["id"]
            for name in ABSENCE_TYPE_NAMES:
                absence_type = self.add(
                    "absence_types",
                    ABSENCE_TYPE_DEFAULTS,
                    name=name,
                    location_id=location["id"],
                    visibility="staff",
                    include_weekends=name == "Sick leave",
                )
                self.absence_types[location["id"], name] = absence_type["id"]
        self.add(
            "users",
            USER_DEFAULTS,
            email=roster.STAFFOMATIC_EMAIL,
            first_name="API",
            last_name="Integration",
            role="admin",
            account_owner=True,
            location_ids=list(self.locations.values()),
            invitation_state="accepted",
            company=self.state["account"]["name"],
        )
        self.state["credentials"].append(
            {
                "user_id": API_USER_ID,
                "password": roster.STAFFOMATIC_PASSWORD,
                "api_token": roster.STAFFOMATIC_API_TOKEN,
            }
        )

    def user(self, person: Person) -> dict[str, Any]:
        location_id = self.locations[person.office]
        return self.add(
            "users",
            USER_DEFAULTS,
            email=person.staffomatic_email or None,
            first_name=person.first_name,
            last_name=person.last_name,
            location_ids=[location_id],
            department_ids=[self.departments[person.office, person.department]],
            custom_id=str(person.id) if person.linked else None,
            locked_at=self.t(self.now - timedelta(days=30)) if person.locked else None,
            invitation_state="accepted" if person.staffomatic_email else None,
            invited_by_id=API_USER_ID if person.staffomatic_email else None,
            max_vacation_days=person.vacation_days,
            max_hours_per_month=round(person.weekly_hours * 52 / 12),
        )

    def absence(
        self,
        user: dict[str, Any],
        type_name: str,
        state: str,
        first: int,
        last: int,
        hours: tuple[int, int] | None = None,
    ) -> dict[str, Any]:
        """An absence from ``today + first`` to ``today + last`` (all day unless ``hours``)."""
        location_id = user["location_ids"][0]
        start_day = self.today + timedelta(days=first)
        end_day = self.today + timedelta(days=last)
        if hours is None:
            starts = local(start_day, 0, 0, self.zone)
            ends = local(end_day, 23, 59, self.zone) + timedelta(seconds=59)
            duration = ((end_day - start_day).days + 1) * 86400
        else:
            starts = local(start_day, hours[0], 0, self.zone)
            ends = local(end_day, hours[1], 0, self.zone)
            duration = int((ends - starts).total_seconds())
        created = min(starts, self.now) - timedelta(days=14)
        processed = None if state == "new" else self.t(created + timedelta(days=1))
        return self.add(
            "absences",
            ABSENCE_DEFAULTS,
            stamp=self.t(created),
            updated=processed or self.t(created),
            starts_at=self.t(starts),
            ends_at=self.t(ends),
            processed_at=processed,
            paid=True,
            vacation=type_name == "Vacation",
            state=state,
            include_weekends=type_name == "Sick leave",
            all_day=hours is None,
            last_updated_by_id=API_USER_ID,
            adjusted_duration=duration,
            applicant_id=user["id"],
            handler_id=API_USER_ID,
            location_id=location_id,
            absence_type_id=self.absence_types[location_id, type_name],
        )

    def timer(
        self,
        user: dict[str, Any],
        starts: datetime,
        ends: datetime | None,
        state: str,
        breaks: tuple[tuple[datetime, datetime], ...] = (),
    ) -> dict[str, Any]:
        report = self.work_report(user, starts)
        done = ends or starts
        timer = self.add(
            "work_timers",
            WORK_TIMER_DEFAULTS,
            stamp=self.t(starts),
            updated=self.t(min(done + timedelta(hours=1 if state == "verified" else 0), self.now)),
            user_id=user["id"],
            location_id=user["location_ids"][0],
            updated_by_id=API_USER_ID if state == "verified" else user["id"],
            created_by_id=user["id"],
            state=state,
            starts_at=self.t(starts),
            ends_at=None if ends is None else self.t(ends),
            work_report_id=report["id"],
        )
        for break_starts, break_ends in breaks:
            self.add(
                "break_timers",
                BREAK_TIMER_DEFAULTS,
                stamp=self.t(break_starts),
                updated=self.t(break_ends),
                user_id=user["id"],
                updated_by_id=user["id"],
                created_by_id=user["id"],
                starts_at=self.t(break_starts),
                work_timer_id=timer["id"],
                ends_at=self.t(break_ends),
            )
        return timer

    def work_report(self, user: dict[str, Any], moment: datetime) -> dict[str, Any]:
        monday = week_start(moment, self.zone)
        starts = self.t(monday)
        for report in self.state["work_reports"]:
            if report["user_id"] == user["id"] and report["starts_at"] == starts:
                return report
        sunday_end = local(monday.date() + timedelta(days=6), 23, 59, self.zone)
        return self.add(
            "work_reports",
            WORK_REPORT_DEFAULTS,
            stamp=self.t(min(moment, self.now)),
            user_id=user["id"],
            location_id=user["location_ids"][0],
            starts_at=starts,
            ends_at=self.t(sunday_end + timedelta(seconds=59)),
        )

    def day(self, days: int, hour: int, minute: int = 0) -> datetime:
        return local(self.today + timedelta(days=days), hour, minute, self.zone)


def build_state(seed: str, now: datetime, **params: Any) -> dict[str, Any]:
    """A fresh state document for ``seed`` (``demo``, ``scale`` or ``empty``)."""
    if seed not in ("demo", "scale", "empty"):
        raise SandboxError(f"unknown seed {seed!r}; use demo, scale or empty")
    if seed != "scale" and params:
        raise SandboxError(f"the {seed} seed takes no parameters, got {sorted(params)}")
    builder = _Builder(now)
    builder.base()
    if seed == "demo":
        _demo(builder)
    elif seed == "scale":
        _scale(builder, **_scale_params(params))
    return builder.state


def _scale_params(params: dict[str, Any]) -> dict[str, int]:
    unknown = set(params) - set(SCALE_DEFAULTS)
    if unknown:
        raise SandboxError(
            f"unknown scale parameters {sorted(unknown)}; known: {list(SCALE_DEFAULTS)}"
        )
    values = SCALE_DEFAULTS | params
    for key, value in values.items():
        if not isinstance(value, int) or isinstance(value, bool) or value < 0:
            raise SandboxError(f"scale parameter {key} must be a whole number >= 0, got {value!r}")
    if values["timers_per_week"] > 14:
        raise SandboxError("scale parameter timers_per_week must be at most 14 (two a day)")
    return values


def _demo(b: _Builder) -> None:
    users = {person.id: b.user(person) for person in roster.USERS}
    # Absences of linked users: new, approved and declined; full-day, multi-day and part-day.
    b.absence(users[1001], "Vacation", "approved", 20, 29)
    b.absence(users[1001], "Sick leave", "approved", -12, -11)
    b.absence(users[1011], "Vacation", "new", 45, 49)
    b.absence(users[1011], "training", "new", 7, 7, hours=(9, 13))
    b.absence(users[1017], "Vacation", "declined", 60, 62)
    b.absence(users[1015], "Vacation", "approved", -5, -5, hours=(13, 17))
    b.absence(users[1022], "Sick leave", "new", -1, -1)
    b.absence(users[1009], "Vacation", "approved", 100, 120)
    b.absence(users[1007], "Vacation", "approved", -30, -26)
    b.absence(users[1019], "training", "declined", 200, 201)

    # Work timers. Every stopped one ended more than 2 h ago, within the last 6 days.
    running_start = (b.now - timedelta(hours=3)).replace(second=0)
    b.timer(users[1001], running_start, None, "running")
    b.timer(
        users[1011], b.day(-1, 8), b.day(-1, 16), "stopped", ((b.day(-1, 12), b.day(-1, 12, 30)),)
    )
    b.timer(users[1017], b.day(-2, 7), b.day(-2, 15, 30), "verified")
    b.timer(
        users[1015], b.day(-3, 10), b.day(-3, 18), "verified", ((b.day(-3, 14), b.day(-3, 14, 30)),)
    )
    b.timer(
        users[1022],
        b.day(-4, 6),
        b.day(-4, 14),
        "verified",
        ((b.day(-4, 9), b.day(-4, 9, 15)), (b.day(-4, 11, 30), b.day(-4, 12))),
    )
    b.timer(users[9001], b.day(-2, 17), b.day(-2, 23), "verified")
    b.timer(users[1009], b.day(-3, 22), b.day(-2, 6), "verified")  # crosses midnight
    b.timer(users[1017], b.day(-5, 9), b.day(-5, 17), "verified")
    # Saturday 22:00 to Sunday 06:00 across the latest October change: 9 real hours.
    sunday = last_october_sunday(b.today.year)
    if local(sunday, 8, 0, b.zone) > b.now:
        sunday = last_october_sunday(b.today.year - 1)
    saturday = sunday - timedelta(days=1)
    b.timer(users[1015], local(saturday, 22, 0, b.zone), local(sunday, 6, 0, b.zone), "verified")


SCALE_LATEST_CHANGE = timedelta(hours=1)
"""How long before the seed's clock the ``scale`` seed's latest change happened: one timer
verified late. Every other change lies at least eight hours before the clock (the last timers
end yesterday by 15:00 and are verified an hour later), more than a run's 240-minute look-back
before that latest change."""


def _scale(
    b: _Builder, employees: int, absences_per_employee: int, timers_per_week: int, weeks: int
) -> None:
    """Linked users with absences and verified timers, as history: a run right after seeding
    bookmarks the seed's latest change, and the look-back before it holds no other change, so
    an incremental run then re-reads that one timer and the changes made since, not the whole
    last day of timers. (With more than seven timers a week, yesterday's second timers end at
    23:00: before 06:00 they too lie within the look-back.)"""
    _scale_records(b, employees, absences_per_employee, timers_per_week, weeks)
    if b.state["work_timers"]:
        b.state["work_timers"][0]["updated_at"] = b.t(b.now - SCALE_LATEST_CHANGE)


def _scale_records(
    b: _Builder, employees: int, absences_per_employee: int, timers_per_week: int, weeks: int
) -> None:
    names = ABSENCE_TYPE_NAMES
    for n, person in enumerate(p for p in roster.scale_people(employees) if p.staffomatic_email):
        user = b.user(person)
        if not person.linked:
            continue
        for k in range(absences_per_employee):
            first = -50 + (n * 7 + k * 37) % 400
            state = ("approved", "new", "approved", "declined")[k % 4]
            b.absence(user, names[k % 2], state, first, first + k % 3)
        for week in range(weeks):
            for j in range(timers_per_week):
                days = -(1 + week * 7 + j % 7)
                hour = 5 + n % 3 if j < 7 else 15  # a second timer of the day never overlaps
                starts = b.day(days, hour)
                ends = starts + timedelta(hours=8)
                pause = starts + timedelta(hours=4)
                b.timer(user, starts, ends, "verified", ((pause, pause + timedelta(minutes=30)),))
