"""Webhook events of the Personio emulator: their names, their bodies, and the events a change
of the data causes (through the API or through ``/_sandbox/load``).

Personio's webhook reference names the events and the body (``company_id``, ``event_name``,
``occurred_at``, ``payload``, optional ``meta``); the payloads name the record by id only. What
exactly each payload holds and which person attributes fire ``person.updated`` is not in the
reference folder: see the assumption table in ``sandbox/README.md``.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from sandbox.personio.records import COMPANY_ID, utc_stamp

PERSON_EVENTS = ("person.created", "person.updated", "person.deleted")
EMPLOYMENT_EVENTS = ("employment.created", "employment.updated", "employment.deleted")
ABSENCE_EVENTS = (
    "absence-period.created",
    "absence-period.updated.timerange",
    "absence-period.updated.status",
    "absence-period.deleted",
)
ATTENDANCE_EVENTS = (
    "attendance-period.created",
    "attendance-period.updated",
    "attendance-period.deleted",
)
EVENT_NAMES = (*PERSON_EVENTS, *EMPLOYMENT_EVENTS, *ABSENCE_EVENTS, *ATTENDANCE_EVENTS)

EMPLOYMENT_ATTRIBUTES = frozenset(
    {
        "status",
        "position",
        "supervisor",
        "employment_type",
        "weekly_working_hours",
        "hire_date",
        "contract_end_date",
        "termination_date",
        "termination_type",
        "termination_reason",
        "last_working_day",
        "probation_period_end",
        "subcompany",
        "office",
        "department",
        "team",
        "cost_centers",
    }
)
"""Employee attributes that belong to the employment: a change fires ``employment.updated``;
a change of any other attribute (names, e-mail, custom attributes) fires ``person.updated``."""

PERIODS = {"absence_periods": "absence-period", "attendance_periods": "attendance-period"}
"""State collection -> event prefix."""


@dataclass(frozen=True)
class Event:
    """One event, before it is addressed to any webhook."""

    name: str
    payload: dict[str, Any]
    occurred_at: str = field(default_factory=lambda: utc_stamp(datetime.now(UTC)))
    company_id: str = COMPANY_ID

    def body(self) -> dict[str, Any]:
        """The delivery's JSON body, as Personio's webhook reference describes it."""
        return {
            "company_id": self.company_id,
            "event_name": self.name,
            "occurred_at": self.occurred_at,
            "payload": dict(self.payload),
        }


def period_payload(item: dict[str, Any]) -> dict[str, Any]:
    """The payload of an absence or attendance period event: its id and its person's id."""
    return {"id": str(item["id"]), "person": {"id": str(item["person"]["id"])}}


def person_events(change: str, employee_id: Any) -> list[tuple[str, dict[str, Any]]]:
    """``person.<change>`` and ``employment.<change>`` of one employee (the sandbox keeps one
    employment per person, with the person's id)."""
    person = {"id": str(employee_id)}
    return [
        (f"person.{change}", dict(person)),
        (f"employment.{change}", {"id": str(employee_id), "person": dict(person)}),
    ]


def absence_update(before: dict[str, Any], after: dict[str, Any]) -> list[str]:
    """The events of a changed absence period: its time range, its status (nothing else fires)."""
    names = []
    edges = ("starts_from", "ends_at")
    if any(before.get(k) != after.get(k) for k in edges):
        names.append("absence-period.updated.timerange")
    if (before.get("approval") or {}).get("status") != (after.get("approval") or {}).get("status"):
        names.append("absence-period.updated.status")
    return names


def changes(old: dict[str, Any], new: dict[str, Any]) -> Iterator[tuple[str, dict[str, Any]]]:
    """The events that turn the state ``old`` into ``new`` (a ``/_sandbox/load``)."""
    before = {e["id"]: e for e in old.get("employees", [])}
    after = {e["id"]: e for e in new.get("employees", [])}
    for eid, employee in after.items():
        if eid not in before:
            yield from person_events("created", eid)
            continue
        changed = {
            k
            for k in set(before[eid]["attributes"]) | set(employee["attributes"])
            if before[eid]["attributes"].get(k) != employee["attributes"].get(k)
        }
        if changed - EMPLOYMENT_ATTRIBUTES:
            yield "person.updated", {"id": str(eid)}
        if changed & EMPLOYMENT_ATTRIBUTES:
            yield "employment.updated", {"id": str(eid), "person": {"id": str(eid)}}
    for eid in before.keys() - after.keys():
        yield from person_events("deleted", eid)
    for collection, prefix in PERIODS.items():
        was = {p["id"]: p for p in old.get(collection, [])}
        now = {p["id"]: p for p in new.get(collection, [])}
        for pid, item in now.items():
            if pid not in was:
                yield f"{prefix}.created", period_payload(item)
            elif _period_changed(was[pid], item):
                names = (
                    absence_update(was[pid], item)
                    if prefix == "absence-period"
                    else [f"{prefix}.updated"]
                )
                for name in names:
                    yield name, period_payload(item)
        for pid in was.keys() - now.keys():
            yield f"{prefix}.deleted", period_payload(was[pid])


def _period_changed(before: dict[str, Any], after: dict[str, Any]) -> bool:
    ignored = {"updated_at", "_meta"}
    keys = (set(before) | set(after)) - ignored
    return any(before.get(k) != after.get(k) for k in keys)
