"""A Staffomatic absence in, the plan for its Personio absence period out: pure.

Only when ``absence_source`` is ``staffomatic``. An approved absence (or, without
``only_approved_absences``, a new one, sent pending) inside the window becomes one day-based
absence period (:func:`target_personio.mapping.absence_body`); a declined one (or, with
``only_approved_absences``, one back to new) loses the period the sync wrote; one in a state
Staffomatic is not known to have keeps it (:func:`unknown_state`).

Personio documents ``skip_approval`` only on create, so no update sends it: a change to an
absence sent approved (and one sent pending and approved since) is deleted and created again
with ``skip_approval`` (:func:`recreated`), and so is one that moved to another person. Only an
absence sent pending (``skip_approval`` off, or not approved in Staffomatic yet) is PATCHed in
place, without ``skip_approval``: it stays pending, and with ``skip_approval`` off the run log
says Personio may ask for approval again.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sync_ledger import Link, fingerprint
from sync_ledger.engine import DEST, LinkPlan, Op, Plan
from sync_ledger.engine.vocabulary import (
    APPROVE,
    DELETE,
    FAIL,
    SKIP,
    STAFFOMATIC_ABSENCES,
    UNCHANGED,
    UPDATE,
)

from target_personio import mapping
from target_personio.rules.common import (
    ABSENCE_PATH,
    Found,
    Unlinked,
    approval,
    link_or_create,
    nothing_found,
    quietly,
    removal,
)
from target_personio.rules.people import AbsenceTypes, People

VANISHED = "the absence no longer exists in Staffomatic"
NO_TIMES = "the absence has no start or no end"
MOVED_PERSON = "the absence moved to another person"
APPROVED_AGAIN = (
    "approved in Staffomatic: the pending Personio period was deleted and created again "
    "approved (skip_approval), as Personio documents no call that approves one"
)
CHANGED_APPROVED = (
    "changed in Staffomatic: the approved Personio period was deleted and created again "
    "approved (skip_approval), as Personio documents skip_approval only on create"
)
LEFT_PENDING = "approved in Staffomatic; left pending for approval in Personio (skip_approval)"
PENDING_AGAIN = (
    "changed in place; Personio may ask for approval of the changed period again "
    "(skip_approval is off)"
)


@dataclass(frozen=True)
class AbsenceWindow:
    """The days tap-staffomatic reads absences for, never before ``start_date``."""

    first: date
    last: date

    @classmethod
    def around(
        cls, today: date, past_days: int, future_days: int, start_date: date | None = None
    ) -> AbsenceWindow:
        first = today - timedelta(days=past_days)
        if start_date is not None:
            first = max(first, start_date)
        return cls(first, today + timedelta(days=future_days))

    def holds(self, starts: str, ends: str) -> bool:
        """Whether a period between two local times (ISO text) touches the window."""
        return ends[:10] >= self.first.isoformat() and starts[:10] <= self.last.isoformat()


@dataclass(frozen=True)
class AbsenceLookups:
    """What an absence's plan depends on besides the absence and its link."""

    people: People
    types: AbsenceTypes
    zone: ZoneInfo
    window: AbsenceWindow
    only_approved: bool = True
    skip_approval: bool = True
    found: Found = field(default=nothing_found)
    """Personio absence periods no link names, by :func:`mapping.absence_key`."""


KNOWN_STATES = ("new", "approved", "declined")
"""The Staffomatic absence states on record (2017 traffic); the full list is not documented."""


def unknown_state(state: str) -> str | None:
    """Why the period of an absence in a state not on record is kept; None for a known state.

    Such a state is no evidence that the absence is gone or refused, so nothing is deleted."""
    if state in KNOWN_STATES:
        return None
    return (
        f"the absence is {state or 'without state'}, a state Staffomatic is not known to have "
        f"({', '.join(KNOWN_STATES)}), so its Personio period is kept; decide it in Staffomatic"
    )


def wanted(state: str, only_approved: bool) -> tuple[bool, bool, str]:
    """(send it, approved, why not) for a Staffomatic absence state."""
    if state == "approved":
        return True, True, ""
    if state == "new" and not only_approved:
        return True, False, ""
    if state == "declined":
        return False, False, "the absence was declined"
    return False, False, f"the absence is {state or 'without state'}, not approved"


def plan_absence(record: Mapping[str, Any], link: Link | None, look: AbsenceLookups) -> Plan | None:
    """The plan for one absence (one outside the window is skipped with the reason)."""
    aid = str(record["id"])
    try:
        start = mapping.parse_time(record.get("starts_at"))
        end = mapping.parse_time(record.get("ends_at"))
    except mapping.Unmappable as exc:
        return Plan(STAFFOMATIC_ABSENCES, aid, outcome=SKIP, reason=str(exc))
    if start is None or end is None:
        return Plan(STAFFOMATIC_ABSENCES, aid, outcome=SKIP, reason=NO_TIMES)
    zone = look.zone
    if not look.window.holds(mapping.local_time(start, zone), mapping.local_time(end, zone)):
        window = f"{look.window.first} to {look.window.last}"
        reason = f"the absence lies outside the sync window ({window}): nothing outside is written"
        return Plan(STAFFOMATIC_ABSENCES, aid, outcome=SKIP, reason=reason)
    state = str(record.get("state") or "")
    send, approved, why = wanted(state, look.only_approved)
    if not send:
        if link is not None:
            odd = unknown_state(state)
            if odd is not None:
                return Plan(STAFFOMATIC_ABSENCES, aid, outcome=SKIP, reason=odd)
            return removal(STAFFOMATIC_ABSENCES, aid, ABSENCE_PATH, link, why)
        return Plan(STAFFOMATIC_ABSENCES, aid, outcome=SKIP, reason=why)
    person, why = look.people.person_for(record.get("user_id"))
    if person is None:
        return Plan(STAFFOMATIC_ABSENCES, aid, outcome=SKIP, reason=why)
    type_id, type_name = look.types.type_for(record)
    if type_id is None:
        reason = f"absence type {type_name!r} not in Personio"
        return Plan(STAFFOMATIC_ABSENCES, aid, outcome=SKIP, reason=reason, held_back=type_name)
    try:
        body = mapping.absence_body(dict(record), look.zone, person, type_id)
    except mapping.Unmappable as exc:
        return Plan(STAFFOMATIC_ABSENCES, aid, outcome=FAIL, reason=f"not sent: {exc}")
    fp = fingerprint({"body": body, "approved": approved})
    if link is not None and link.fingerprint == fp:
        return Plan(STAFFOMATIC_ABSENCES, aid, outcome=UNCHANGED, ids={DEST: link.dest_id})
    keep_approved = approved and look.skip_approval
    params = approval(keep_approved)
    data = {
        "person": person,
        "approved": approved,
        "starts": body["starts_from"]["date_time"],
        "ends": body["ends_at"]["date_time"],
    }
    plan = Plan(STAFFOMATIC_ABSENCES, aid, link=LinkPlan(fp, data))
    if link is None:
        key = mapping.absence_key(body)
        plan.ops = [link_or_create(Unlinked(look.found), key, DEST, ABSENCE_PATH, body, params)]
        return plan
    plan.ids = {"old": link.dest_id}
    if link.data.get("person") != person:
        plan.ops = recreated(body, params, look.found, UPDATE, MOVED_PERSON)
    elif keep_approved and not link.data.get("approved"):
        plan.ops = recreated(body, params, look.found, APPROVE, APPROVED_AGAIN)
    elif keep_approved:
        plan.ops = recreated(body, params, look.found, UPDATE, CHANGED_APPROVED)
    else:
        changes = {k: v for k, v in body.items() if k != "person"}
        plan.ids = {DEST: link.dest_id}
        reason = ""
        if approved:
            reason = PENDING_AGAIN if link.data.get("approved") else LEFT_PENDING
        path = f"{ABSENCE_PATH}/{{{DEST}}}"
        plan.ops = [Op(UPDATE, "PATCH", path, changes, reason=reason)]
    return plan


def recreated(
    body: dict[str, Any], params: dict, found: Found, action: str, reason: str
) -> list[Op]:
    """The linked period (slot ``old``) deleted and ``body`` created in its place, logged as
    one ``action``: how an absence kept approved changes (Personio documents ``skip_approval``
    on create only, and no call that approves a period) and how one moves to another person.

    The delete comes first (the two would overlap). Each write is in the run's write-ahead
    record; should the run stop in between, the link still names the deleted period, and the
    next run plans the same again: the delete finds 404 (done), and a period created already
    is found by its key and linked instead of created twice."""
    key = mapping.absence_key(body)
    writes = [
        Op(DELETE, "DELETE", f"{ABSENCE_PATH}/{{old}}", drops=("old",)),
        link_or_create(Unlinked(found), key, DEST, ABSENCE_PATH, body, params),
    ]
    return quietly(writes, action, reason)


def plan_vanished_absences(
    links: Mapping[str, Link], seen: set[str], window: AbsenceWindow
) -> list[Plan]:
    """After a complete read of the window: remove the periods of linked absences that were
    not seen, when they lie inside the window (others are simply no longer read), once a read
    of each absence confirms it (``Plan.confirm``)."""
    return [
        removal(STAFFOMATIC_ABSENCES, aid, ABSENCE_PATH, link, VANISHED, confirm=True)
        for aid, link in links.items()
        if aid not in seen
        and window.holds(str(link.data.get("starts", "")), str(link.data.get("ends", "")))
    ]
