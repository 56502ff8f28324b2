"""A Staffomatic work timer in, the plan for its Personio attendance periods out: pure.

A timer becomes a timeline of WORK and BREAK periods (``mapping.timer_periods``), cut at local
midnight or sent whole as ``overnight_periods`` says (``mapping.timer_slots``).
Its link keeps the person, the timer's start and every period (id, type, local start and end).
A new timer's periods are created (or linked, when Personio already holds them: after a lost
ledger or a lost answer; found in the other overnight form, they are linked and reconciled to
the form asked for); a changed timer's periods are reconciled (:mod:`.periods`); a timer that is
no longer eligible, or vanished from a complete read, loses the periods the sync wrote once a
direct read of the timer confirms it (``Plan.confirm``).
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
    overnight: str = mapping.SPLIT
    """``overnight_periods``: ``split`` at local midnight or ``whole``."""


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
        slots = mapping.timer_slots(dict(record), look.zone, look.overnight)
        starts_at = mapping.parse_time(record["starts_at"])
    except mapping.Unmappable as exc:
        return Plan(WORK_TIMERS, tid, outcome=FAIL, reason=f"not sent: {exc}")
    assert starts_at is not None  # timer_problem refused a timer without start
    fp = fingerprint({"person": person, "slots": slots})
    if link is not None and link.fingerprint == fp:
        return Plan(WORK_TIMERS, tid, outcome=UNCHANGED, ids={DEST: link.dest_id})
    if link is not None and link.data.get("person") == person:
        return _changed(tid, link, person, slots, fp, starts_at, look)
    plan = _new(tid, person, slots, fp, starts_at, look, dict(record))
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
    record: dict[str, Any],
) -> Plan:
    """Create each period, or link it where Personio already holds it; a timer Personio holds
    wholly in the other overnight form is linked in that form and reconciled."""
    unlinked = Unlinked(look.found)
    other = _other_form(record, look)
    keys = [mapping.attendance_key(person, slot) for slot in slots]
    if (
        other != slots
        and not unlinked.holds_all(keys)
        and unlinked.holds_all(mapping.attendance_key(person, slot) for slot in other)
    ):
        return _relinked(tid, person, other, slots, fp, starts_at, look, unlinked)
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


def _other_form(record: dict[str, Any], look: TimerLookups) -> list[dict[str, str]]:
    form = mapping.WHOLE if look.overnight == mapping.SPLIT else mapping.SPLIT
    return mapping.timer_slots(record, look.zone, form)


def _relinked(
    tid: str,
    person: str,
    found: Sequence[dict[str, str]],
    slots: Sequence[dict[str, str]],
    fp: str,
    starts_at: datetime,
    look: TimerLookups,
    unlinked: Unlinked,
) -> Plan:
    """Link the periods Personio holds in the other overnight form, then bring them in step
    with ``slots`` as for a changed timer (nothing is created twice)."""
    linked: list[dict[str, str]] = []
    first: list[Op] = []
    for n, slot in enumerate(found):
        pid = unlinked.take(mapping.attendance_key(person, slot))
        assert pid is not None  # holds_all said so
        linked.append({"id": pid, **slot})
        first.append(Op(LINK, ref=f"o{n}", record_id=pid, reason=FOUND_AGAIN))
    dest = linked[0]["id"]
    return _reconciled(tid, person, linked, slots, fp, starts_at, look, dest, first, unlinked)


def _changed(
    tid: str,
    link: Link,
    person: str,
    slots: Sequence[dict[str, str]],
    fp: str,
    starts_at: datetime,
    look: TimerLookups,
) -> Plan:
    """Bring the linked periods in step with ``slots``."""
    linked: list[dict[str, str]] = [dict(p) for p in link.data.get("periods", [])]
    unlinked = Unlinked(look.found)
    return _reconciled(tid, person, linked, slots, fp, starts_at, look, link.dest_id, [], unlinked)


def _reconciled(
    tid: str,
    person: str,
    linked: Sequence[Mapping[str, str]],
    slots: Sequence[dict[str, str]],
    fp: str,
    starts_at: datetime,
    look: TimerLookups,
    dest_id: str,
    first: list[Op],
    unlinked: Unlinked,
) -> Plan:
    """Delete the extra periods, move (PATCH) what moved, create (or link) what is new, after
    the ops ``first`` (links of found periods, which fill the slots ``oN``).

    A moved period is listed in the link twice, before (slot ``oN``) and after (``mN``) its
    move; the PATCH empties the first and fills the second, so a plan that stops halfway saves
    where each period really is."""
    slot_of = {str(p["id"]): f"o{n}" for n, p in enumerate(linked)}
    ids: dict[str, Any] = {slot: pid for pid, slot in slot_of.items()}
    steps = reconcile(linked, slots)
    ops: list[Op] = list(first)
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
    for n, slot_data in enumerate(steps.add):
        key = mapping.attendance_key(person, slot_data)
        body = mapping.attendance_body(person, slot_data)
        params = approval(look.skip_approval)
        ops.append(link_or_create(unlinked, key, f"n{n}", ATTENDANCE_PATH, body, params))
        entries.append({"id": Ref(f"n{n}"), **slot_data})
    entries.sort(key=lambda entry: entry["start"])
    ids[DEST] = dest_id
    data = LinkPlan(fp, _data(person, starts_at, entries))
    if not ops:
        return Plan(WORK_TIMERS, tid, outcome=UNCHANGED, link=data, ids=ids)
    reason = _count(slots, ops)
    action = UPDATE if any(op.sends for op in ops) else LINK
    return Plan(
        WORK_TIMERS, tid, ops=quietly(ops, action, reason), reason=reason, link=data, ids=ids
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
