"""A Staffomatic work timer in, the plan for its Personio attendance periods out: pure.

A timer becomes a timeline of WORK and BREAK periods (``mapping.timer_periods``).
Its link keeps the person, the timer's start and every period (id, type, local start and end).
A new timer's periods are created (or linked, when Personio already holds them: after a lost
ledger or a lost answer); a changed timer's periods are reconciled (:mod:`.periods`); a timer
that is no longer eligible, or vanished from a complete read, loses the periods the sync wrote
once a direct read of the timer confirms it (``Plan.confirm``).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from sync_ledger import Link, fingerprint
from sync_ledger.engine import DEST, LinkPlan, Op, Plan, Ref
from sync_ledger.engine.vocabulary import (
    CREATE,
    DELETE,
    FAIL,
    LINK,
    SKIP,
    UNCHANGED,
    UPDATE,
    WORK_TIMERS,
)

from target_personio import mapping
from target_personio.rules.common import (
    ATTENDANCE_PATH,
    FOUND_AGAIN,
    Found,
    Unlinked,
    approval,
    link_or_create,
    nothing_found,
    quietly,
    removal,
)
from target_personio.rules.eligibility import OUT_OF_WINDOW, TimerRules, timer_problem
from target_personio.rules.people import People
from target_personio.rules.periods import reconcile

MOVED_PERSON = "the timer moved to another person"
VANISHED = "the timer no longer exists in Staffomatic"


@dataclass(frozen=True)
class TimerLookups:
    """What a timer's plan depends on besides the timer and its link."""

    people: People
    zone: ZoneInfo
    when: TimerRules
    """now, settle_minutes, the window's start, only_verified_timers."""
    skip_approval: bool = True
    found: Found = field(default=nothing_found)
    """Personio attendance periods no link names, by :func:`mapping.attendance_key`."""


def plan_timer(record: Mapping[str, Any], link: Link | None, look: TimerLookups) -> Plan | None:
    """The plan for one timer; None for a timer outside the window (left alone, not logged)."""
    tid = str(record["id"])
    try:
        problem = timer_problem(dict(record), look.when)
    except mapping.Unmappable as exc:
        return Plan(WORK_TIMERS, tid, outcome=SKIP, reason=str(exc))
    if problem == OUT_OF_WINDOW:
        return None
    if problem:
        if link is not None:
            return removal(WORK_TIMERS, tid, ATTENDANCE_PATH, link, problem, confirm=True)
        return Plan(WORK_TIMERS, tid, outcome=SKIP, reason=problem)
    person, why = look.people.person_for(record.get("user_id"))
    if person is None:
        return Plan(WORK_TIMERS, tid, outcome=SKIP, reason=why)
    try:
        slots = [p.slot(look.zone) for p in mapping.timer_periods(dict(record))]
        starts_at = mapping.parse_time(record["starts_at"])
    except mapping.Unmappable as exc:
        return Plan(WORK_TIMERS, tid, outcome=FAIL, reason=f"not sent: {exc}")
    assert starts_at is not None  # timer_problem refused a timer without start
    fp = fingerprint({"person": person, "slots": slots})
    if link is not None and link.fingerprint == fp:
        return Plan(WORK_TIMERS, tid, outcome=UNCHANGED, ids={DEST: link.dest_id})
    if link is not None and link.data.get("person") == person:
        return _changed(tid, link, person, slots, fp, starts_at, look)
    plan = _new(tid, person, slots, fp, starts_at, look)
    if link is not None:
        moved = removal(WORK_TIMERS, tid, ATTENDANCE_PATH, link, MOVED_PERSON)
        plan.ops[:0] = moved.ops
        plan.ids.update({k: v for k, v in moved.ids.items() if k != DEST})
    return plan


def _new(
    tid: str,
    person: str,
    slots: Sequence[dict[str, str]],
    fp: str,
    starts_at: datetime,
    look: TimerLookups,
) -> Plan:
    """Create each period, or link it where Personio already holds it."""
    unlinked = Unlinked(look.found)
    ops = [
        link_or_create(
            unlinked,
            mapping.attendance_key(person, slot),
            f"p{n}",
            ATTENDANCE_PATH,
            mapping.attendance_body(person, slot),
            approval(look.skip_approval),
        )
        for n, slot in enumerate(slots)
    ]
    periods = [{"id": Ref(f"p{n}"), **slot} for n, slot in enumerate(slots)]
    action = CREATE if any(op.sends for op in ops) else LINK
    reason = _count(slots, ops)
    return Plan(
        WORK_TIMERS,
        tid,
        ops=quietly(ops, action, reason),
        reason=reason,
        link=LinkPlan(fp, _data(person, starts_at, periods)),
        dest_slot="p0",
    )


def _changed(
    tid: str,
    link: Link,
    person: str,
    slots: Sequence[dict[str, str]],
    fp: str,
    starts_at: datetime,
    look: TimerLookups,
) -> Plan:
    """Delete the extra periods, move (PATCH) what moved, create (or link) what is new.

    A moved period is listed in the link twice, before (slot ``oN``) and after (``mN``) its
    move; the PATCH empties the first and fills the second, so a plan that stops halfway saves
    where each period really is."""
    linked: list[dict[str, str]] = [dict(p) for p in link.data.get("periods", [])]
    slot_of = {str(p["id"]): f"o{n}" for n, p in enumerate(linked)}
    ids: dict[str, Any] = {slot: pid for pid, slot in slot_of.items()}
    steps = reconcile(linked, slots)
    ops: list[Op] = []
    entries: list[dict[str, Any]] = [{**p, "id": Ref(slot_of[str(p["id"])])} for p in linked]
    for period in steps.drop:
        slot = slot_of[str(period["id"])]
        ops.append(Op(DELETE, "DELETE", f"{ATTENDANCE_PATH}/{{{slot}}}", drops=(slot,)))
    for move in steps.moves:
        slot = slot_of[move.id]
        after = "m" + slot[1:]
        times = {"start": move.after["start"], "end": move.after["end"]}
        body = {name: {"date_time": value} for name, value in times.items()}
        path = f"{ATTENDANCE_PATH}/{{{slot}}}"
        params = approval(look.skip_approval)
        ops.append(
            Op(UPDATE, "PATCH", path, body, params, ref=after, record_id=move.id, drops=(slot,))
        )
        entries.append({"id": Ref(after), **move.after})
    unlinked = Unlinked(look.found)
    for n, slot_data in enumerate(steps.add):
        key = mapping.attendance_key(person, slot_data)
        body = mapping.attendance_body(person, slot_data)
        params = approval(look.skip_approval)
        ops.append(link_or_create(unlinked, key, f"n{n}", ATTENDANCE_PATH, body, params))
        entries.append({"id": Ref(f"n{n}"), **slot_data})
    entries.sort(key=lambda entry: entry["start"])
    ids[DEST] = link.dest_id
    data = LinkPlan(fp, _data(person, starts_at, entries))
    if not ops:
        return Plan(WORK_TIMERS, tid, outcome=UNCHANGED, link=data, ids=ids)
    reason = _count(slots, ops)
    return Plan(
        WORK_TIMERS, tid, ops=quietly(ops, UPDATE, reason), reason=reason, link=data, ids=ids
    )


def _data(person: str, starts_at: datetime, periods: list[dict[str, Any]]) -> dict[str, Any]:
    return {"person": person, "starts_at": starts_at.isoformat(), "periods": periods}


def _count(slots: Sequence[Any], ops: Sequence[Op]) -> str:
    reason = f"{len(slots)} period" + ("" if len(slots) == 1 else "s")
    found = sum(1 for op in ops if op.action == LINK)
    if found:
        reason += f", {found} {FOUND_AGAIN}"
    return reason


def plan_vanished_timers(
    links: Mapping[str, Link], seen: set[str], window_start: datetime
) -> list[Plan]:
    """After a complete read of the window: remove the periods of linked timers that were not
    seen and started inside the window (older ones are simply no longer read), once a read of
    each timer confirms it (``Plan.confirm``)."""
    plans = []
    for tid, link in links.items():
        if tid in seen:
            continue
        started = mapping.parse_time(link.data.get("starts_at"))
        if started is None or started < window_start:
            continue
        plans.append(removal(WORK_TIMERS, tid, ATTENDANCE_PATH, link, VANISHED, confirm=True))
    return plans
