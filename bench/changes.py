"""The changes made to the source records before a partial sync: every kind, every status.

Records are picked at random (a generator seeded with the batch number, so a run is repeatable)
rather than at fixed strides, so the changes do not line up with the seed's own patterns (the
scale seed gives absences their status by position: every 100th period is approved). Each kind
of change gets its share of ``percent`` % of the source collection, and at least one record, so
every kind is in every batch at every size. Statuses are set explicitly, in turn, so every status
is in every batch too.

Personio (the source of ``tap-personio | target-staffomatic``):

- employees: a new hire, a changed employee (renamed), a leaver (inactive, last day yesterday);
- absence periods: new (one each APPROVED, PENDING, REJECTED, in turn), changed dates (one day
  longer), changed status (to the next of APPROVED, PENDING, REJECTED), cancelled (CANCELLED),
  deleted.

Staffomatic (the source of ``tap-staffomatic | target-personio``):

- work timers: new (verified, stopped and running, in turn), changed (ending 15 minutes earlier),
  deleted (with their breaks).

Each change is stamped as made now, as the vendor would.
"""

from __future__ import annotations

import copy
import random
import uuid
from collections import Counter
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

PERSONIO_EMPLOYEE_KINDS = ("new hire", "changed employee", "leaver")
PERSONIO_ABSENCE_KINDS = (
    "new absence",
    "changed absence dates",
    "changed absence status",
    "cancelled absence",
    "deleted absence",
)
ABSENCE_STATUSES = ("APPROVED", "PENDING", "REJECTED")
STAFFOMATIC_TIMER_KINDS = ("new timer", "changed timer", "deleted timer")
TIMER_STATES = ("verified", "stopped", "running")
NAMESPACE = uuid.UUID("6f1c2a4e-9b7d-4c1e-8a53-0d2b9e6f7a10")


EVERY_STATUS = {"new absence": 3, "changed absence status": 3, "new timer": 3}
"""Kinds that set a status take turns over the statuses, so they need at least three records."""


def shares(total: int, kinds: tuple[str, ...], percent: float) -> dict[str, int]:
    """``percent`` % of ``total`` records split evenly over ``kinds``; at least one each, and
    three for the kinds in :data:`EVERY_STATUS`."""
    base, extra = divmod(round(total * percent / 100), len(kinds))
    return {
        kind: max(EVERY_STATUS.get(kind, 1), base + (1 if n < extra else 0))
        for n, kind in enumerate(kinds)
    }


class Picker:
    """Random records of a list, each at most once per batch."""

    def __init__(self, rng: random.Random) -> None:
        self.rng = rng
        self.taken: set[int] = set()

    def pick(
        self, items: list[dict[str, Any]], n: int, fits: Callable[[dict[str, Any]], bool]
    ) -> list[dict[str, Any]]:
        order = list(range(len(items)))
        self.rng.shuffle(order)
        chosen: list[dict[str, Any]] = []
        for index in order:
            if len(chosen) == n:
                break
            item = items[index]
            if id(item) not in self.taken and fits(item):
                self.taken.add(id(item))
                chosen.append(item)
        return chosen


def change_personio(state: dict[str, Any], percent: float, batch: int = 1) -> dict[str, int]:
    """Change the Personio state document in place; returns the records changed per kind."""
    rng = random.Random(f"personio-{batch}")
    zone = ZoneInfo(state["company"]["time_zone"])
    now = datetime.now(zone).replace(microsecond=0)
    done: Counter[str] = Counter()
    employees = state["employees"]
    want = shares(len(employees), PERSONIO_EMPLOYEE_KINDS, percent)
    people = Picker(rng)
    active = lambda e: e["attributes"].get("status") == "active"  # noqa: E731
    for employee in people.pick(employees, want["changed employee"], active):
        attributes = employee["attributes"]
        attributes["last_name"] += f"-Renamed{batch}"
        attributes["preferred_name"] = f"{attributes['first_name']} {attributes['last_name']}"
        employee["last_modified_at"] = now.isoformat()
        done["changed employee"] += 1
    yesterday = (now.date() - timedelta(days=1)).isoformat()
    for employee in people.pick(employees, want["leaver"], active):
        employee["attributes"].update(
            status="inactive",
            termination_date=yesterday,
            termination_type="resignation",
            last_working_day=yesterday,
        )
        employee["last_modified_at"] = now.isoformat()
        done["leaver"] += 1
    templates = people.pick(employees, want["new hire"], active)
    next_id = max((e["id"] for e in employees), default=0) + 1
    for n, template in enumerate(templates):
        employees.append(new_hire(template, next_id + n, batch, now))
        done["new hire"] += 1
    done.update(change_absences(state, percent, batch, rng, now, people))
    return dict(done)


def new_hire(template: dict[str, Any], new_id: int, batch: int, now: datetime) -> dict[str, Any]:
    """A new employee like ``template``, hired yesterday, with a name and e-mail of its own."""
    hire = copy.deepcopy(template)
    domain = (template["attributes"].get("email") or "x@bench.example").split("@")[-1]
    hire["id"] = new_id
    hire["created_at"] = hire["last_modified_at"] = now.isoformat()
    hire["changed_at"] = {}
    hire["attributes"].update(
        first_name="New",
        last_name=f"Hire{batch}x{new_id}",
        preferred_name=f"New Hire{batch}x{new_id}",
        email=f"new.hire.{batch}.{new_id}@{domain}",
        status="active",
        hire_date=(now.date() - timedelta(days=1)).isoformat(),
        termination_date=None,
        termination_type=None,
        last_working_day=None,
    )
    return hire


def change_absences(
    state: dict[str, Any],
    percent: float,
    batch: int,
    rng: random.Random,
    now: datetime,
    people: Picker,
) -> Counter[str]:
    periods = state["absence_periods"]
    want = shares(len(periods), PERSONIO_ABSENCE_KINDS, percent)
    stamp = now.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.000Z")
    done: Counter[str] = Counter()
    picker = Picker(rng)
    today = now.date()
    in_window = lambda p: -50 <= (day_of(p, "starts_from") - today).days <= 300  # noqa: E731
    status_of = lambda p: p["approval"]["status"]  # noqa: E731
    for period in picker.pick(periods, want["changed absence dates"], in_window):
        end = datetime.fromisoformat(period["ends_at"]["date_time"]) + timedelta(days=1)
        if not overlaps(periods, period, day_of(period, "starts_from"), end.date(), skip=period):
            period["ends_at"]["date_time"] = end.isoformat()
            period["updated_at"] = stamp
            done["changed absence dates"] += 1
    for n in range(want["changed absence status"]):
        status = ABSENCE_STATUSES[n % 3]
        other = lambda p: in_window(p) and status_of(p) not in (status, "CANCELLED")  # noqa: B023, E731
        for period in picker.pick(periods, 1, other):
            period["approval"] = {"status": status}
            period["updated_at"] = stamp
            done[f"changed absence status (to {status})"] += 1
    for period in picker.pick(periods, want["cancelled absence"], in_window):
        period["approval"] = {"status": "CANCELLED"}
        period["updated_at"] = stamp
        done["cancelled absence"] += 1
    for period in picker.pick(periods, want["deleted absence"], in_window):
        periods.remove(period)
        done["deleted absence"] += 1
    types = [t["id"] for t in state["absence_types"]][:3]
    active = [e for e in state["employees"] if e["attributes"].get("status") == "active"]
    for n, employee in enumerate(people.pick(active, want["new absence"], lambda e: True)):
        status = ABSENCE_STATUSES[n % 3]
        made = new_absence(periods, employee, types[n % len(types)], status, batch, n, today)
        if made is not None:
            made["created_at"] = made["updated_at"] = stamp
            periods.append(made)
            done[f"new absence ({status})"] += 1
    return done


def day_of(period: dict[str, Any], edge: str) -> date:
    return date.fromisoformat(period[edge]["date_time"][:10])


def overlaps(
    periods: list[dict[str, Any]],
    period: dict[str, Any],
    first: date,
    last: date,
    skip: dict[str, Any] | None = None,
) -> bool:
    """Whether another period of the same person touches the days ``first`` to ``last``."""
    person = str(period["person"]["id"])
    return any(
        other is not skip
        and str(other["person"]["id"]) == person
        and day_of(other, "starts_from") <= last
        and first <= day_of(other, "ends_at")
        for other in periods
        if other.get("ends_at")
    )


def new_absence(
    periods: list[dict[str, Any]],
    employee: dict[str, Any],
    type_id: str,
    status: str,
    batch: int,
    n: int,
    today: date,
) -> dict[str, Any] | None:
    """A new one- or two-day absence of ``employee`` on free days within the window."""
    period = {
        "id": str(uuid.uuid5(NAMESPACE, f"absence-{batch}-{n}")),
        "person": {"id": str(employee["id"])},
        "absence_type": {"id": type_id},
        "timezone_id": "Europe/Berlin",
        "comment": f"Bench batch {batch}",
        "approval": {"status": status},
        "substitute": None,
    }
    for offset in range(20 + n % 40, 300, 7):
        first = today + timedelta(days=offset)
        last = first + timedelta(days=n % 2)
        if not overlaps(periods, period, first, last):
            period["starts_from"] = {"date_time": f"{first}T00:00:00", "type": "FIRST_HALF"}
            period["ends_at"] = {"date_time": f"{last}T00:00:00", "type": "SECOND_HALF"}
            return period
    return None


def change_staffomatic(state: dict[str, Any], percent: float, batch: int = 1) -> dict[str, int]:
    """Change the Staffomatic work timers in place; returns the records changed per kind."""
    rng = random.Random(f"staffomatic-{batch}")
    zone = ZoneInfo(state["account"]["time_zone"])
    now = datetime.now(zone).replace(microsecond=0)
    timers = state["work_timers"]
    want = shares(len(timers), STAFFOMATIC_TIMER_KINDS, percent)
    done: Counter[str] = Counter()
    picker = Picker(rng)
    stopped = lambda t: bool(t.get("ends_at"))  # noqa: E731
    for timer in picker.pick(timers, want["changed timer"], stopped):
        ends = datetime.fromisoformat(timer["ends_at"]) - timedelta(minutes=15)
        timer["ends_at"] = ends.isoformat()
        timer["updated_at"] = now.isoformat()
        done["changed timer"] += 1
    for timer in picker.pick(timers, want["deleted timer"], stopped):
        timers.remove(timer)
        state["break_timers"] = [
            b for b in state.get("break_timers", []) if b.get("work_timer_id") != timer["id"]
        ]
        done["deleted timer"] += 1
    # New timers for users who have timers, on a day and hours none of theirs uses.
    users = Picker(rng)
    owners = list({t["user_id"]: t for t in timers}.values())
    next_id = max((t["id"] for t in timers), default=91000) + 1
    for n, template in enumerate(users.pick(owners, want["new timer"], lambda t: True)):
        status = TIMER_STATES[n % 3]
        timers.append(new_timer(template, next_id + n, status, batch, now))
        done[f"new timer ({status})"] += 1
    return dict(done)


def new_timer(
    template: dict[str, Any], new_id: int, state: str, batch: int, now: datetime
) -> dict[str, Any]:
    """A timer of ``template``'s user: running since an hour ago, or stopped yesterday evening
    (16:00 to 20:00, after the scale seed's shifts; batch ``n`` a day earlier each)."""
    timer = copy.deepcopy(template)
    if state == "running":
        starts, ends = now - timedelta(hours=1), None
    else:
        day = now.date() - timedelta(days=batch)
        starts = datetime.combine(day, datetime.min.time(), now.tzinfo) + timedelta(hours=16)
        ends = starts + timedelta(hours=4)
    timer.update(
        id=new_id,
        state=state,
        starts_at=starts.isoformat(),
        ends_at=None if ends is None else ends.isoformat(),
        created_at=now.isoformat(),
        updated_at=now.isoformat(),
    )
    return timer


def total(changed: dict[str, int]) -> int:
    return sum(changed.values())
