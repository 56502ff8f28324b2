"""What the timer and absence rules share: Personio paths, the unlinked-period index, removals."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import replace
from typing import Any

from sync_ledger import Link
from sync_ledger.engine import DEST, DestId, LinkPlan, Op, Plan, Ref
from sync_ledger.engine.vocabulary import DELETE, LINK

ATTENDANCE_PATH = "/v2/attendance-periods"
ABSENCE_PATH = "/v2/absence-periods"
FOUND_AGAIN = "found in Personio and linked again"

Key = tuple[str, ...]
Found = Callable[[], Mapping[Key, Sequence[str]]]
"""Personio periods no link names, by match key: read (once) only when a plan needs it, to
link a record instead of creating it again after a lost ledger or a lost answer."""


def nothing_found() -> Mapping[Key, Sequence[str]]:
    return {}


def approval(skip_approval: bool) -> dict[str, str]:
    """The query parameters of a Personio period write."""
    return {"skip_approval": "true" if skip_approval else "false"}


class Unlinked:
    """A plan's view of the found periods: each one is taken at most once."""

    def __init__(self, found: Found) -> None:
        self._found = found
        self._taken: set[str] = set()

    def holds_all(self, keys: Iterable[Key]) -> bool:
        """Whether a period not taken yet is found for every key (without taking any)."""
        wanted = Counter(keys)
        found = self._found()
        return all(
            sum(1 for pid in found.get(key, ()) if pid not in self._taken) >= count
            for key, count in wanted.items()
        )

    def take(self, key: Key) -> str | None:
        for pid in self._found().get(key, ()):
            if pid not in self._taken:
                self._taken.add(pid)
                return pid
        return None


def quietly(ops: Iterable[Op], action: str, reason: str) -> list[Op]:
    """Several writes that make one record action: the run log gets one row, once all of them
    took effect (an op that sends nothing and only records)."""
    return [*(replace(op, log=False) for op in ops), Op(action, reason=reason)]


def linked_ids(plans: Iterable[Plan]) -> set[str]:
    """The found periods the plans link (the caller no longer offers them to other records)."""
    return {str(op.record_id) for plan in plans for op in plan.ops if op.action == LINK}


def link_or_create(
    unlinked: Unlinked, key: Key, slot: str, path: str, body: dict[str, Any], params: dict
) -> Op:
    """A ``link`` of the period Personio already holds, else its ``create``."""
    found = unlinked.take(key)
    if found is not None:
        return Op(LINK, ref=slot, record_id=found, reason=FOUND_AGAIN)
    return Op("create", "POST", path, body, params, ref=slot)


def removal(
    entity: str, source_id: str, path: str, link: Link, reason: str, *, confirm: bool = False
) -> Plan:
    """Delete what the sync wrote for a source record, then forget its link.

    A link's ``periods`` (a timer's) are deleted one by one; without them, its ``dest_id`` is.
    Should a delete fail, the link keeps what was not deleted yet, so the next run deletes the
    rest. ``confirm``: the record vanished from a read or was judged no longer eligible from
    it, so a read of the source record must confirm it first (``Plan.confirm``)."""
    periods = link.data.get("periods")
    data: dict[str, Any] = dict(link.data)
    if periods is None:
        doomed = {"d0": link.dest_id} if link.dest_id else {}
    else:
        doomed = {f"d{n}": str(p["id"]) for n, p in enumerate(periods) if p.get("id")}
        data["periods"] = [dict(p, id=Ref(f"d{n}")) for n, p in enumerate(periods)]
    deletes = [Op(DELETE, "DELETE", f"{path}/{{{slot}}}", drops=(slot,)) for slot in doomed]
    ops = quietly(deletes, DELETE, reason)
    ids: dict[str, DestId] = {DEST: link.dest_id, **doomed} if link.dest_id else dict(doomed)
    return Plan(
        entity,
        source_id,
        ops=ops,
        reason=reason,
        link=LinkPlan(None, data),
        drop_link=True,
        ids=ids,
        confirm=confirm,
    )
