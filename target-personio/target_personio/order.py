"""The order plans are applied in: plans of different people at once, one person's in turn.

Personio refuses a period that overlaps another of the same person, so two plans that move one
person's periods must not run at the same time; plans of different people never meet.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable

from sync_ledger.engine import Plan


def people_in(plan: Plan, *data: object) -> set[str]:
    """The Personio person ids a plan writes for: from its bodies and from link data (the
    plan's own, and the link it replaces when the record moved to another person)."""
    people: set[str] = set()
    for item in (*data, plan.link.data if plan.link else None):
        if isinstance(item, dict) and item.get("person"):
            people.add(str(item["person"]))
    for op in plan.ops:
        person = (op.body or {}).get("person") if isinstance(op.body, dict) else None
        if isinstance(person, dict) and person.get("id"):
            people.add(str(person["id"]))
    return people


def in_waves(plans: Iterable[Plan], people: Callable[[Plan], set[str]]) -> list[list[Plan]]:
    """Plans in waves: a wave holds at most one writing plan per person, and a person's plans
    keep their order across waves. Plans that write nothing go in the first wave."""
    waves: list[tuple[set[str], list[Plan]]] = []
    for plan in plans:
        mine = people(plan) if plan.writes else set()
        last = max((n for n, (taken, _) in enumerate(waves) if taken & mine), default=-1)
        if last + 1 == len(waves):
            waves.append((set(), []))
        taken, wave = waves[last + 1]
        taken.update(mine)
        wave.append(plan)
    return [wave for _, wave in waves]
