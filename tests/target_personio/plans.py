"""A plan run against an in-memory Personio, to assert what the rules' plans do (no HTTP).

:class:`Book` holds attendance or absence periods by id and refuses, like Personio, an
attendance period that overlaps another of the same person: a plan whose moves come in the
wrong order fails here.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from sync_ledger import Link
from sync_ledger.engine import Plan, advance, fill_data

_NOW = datetime(2024, 10, 30, tzinfo=UTC)


class Refused(Exception):
    pass


@dataclass
class Outcome:
    """What running a plan did: requests sent, ids of its slots, the link it leaves."""

    sent: list[str]
    ids: dict[str, Any]
    link: Link | None
    failed: bool


@dataclass
class Book:
    periods: dict[str, dict[str, Any]] = field(default_factory=dict)
    refuse: set[int] = field(default_factory=set)
    """Numbers (from 1) of the requests refused, counted over the book's life."""
    count: int = 0
    next_id: int = 100

    def add(self, person: str, kind: str, start: str, end: str) -> str:
        self.next_id += 1
        pid = f"a{self.next_id}"
        self.periods[pid] = {"person": person, "type": kind, "start": start, "end": end}
        return pid

    def rows(self, person: str) -> list[tuple[str, str, str]]:
        found = [p for p in self.periods.values() if p["person"] == person]
        return sorted(((p["type"], p["start"], p["end"]) for p in found), key=lambda r: r[1])

    def _check(self, pid: str, period: dict[str, Any]) -> None:
        for other_id, other in self.periods.items():
            if other_id == pid or other["person"] != period["person"]:
                continue
            if other["start"] < period["end"] and period["start"] < other["end"]:
                raise Refused(f"overlaps attendance period {other_id}")

    def send(self, method: str, path: str, body: Any) -> str | None:
        self.count += 1
        if self.count in self.refuse:
            raise Refused(f"request {self.count} refused")
        if method == "POST":
            period = _flat(body)
            self._check("", period)
            return self.add(period["person"], period["type"], period["start"], period["end"])
        pid = path.rsplit("/", 1)[1]
        if method == "DELETE":
            self.periods.pop(pid, None)
            return None
        moved = {**self.periods[pid], **_flat(body)}
        self._check(pid, moved)
        self.periods[pid] = moved
        return None

    def run(self, plan: Plan, old: Link | None = None) -> Outcome:
        """The ops in order until one is refused; then the link the recorder would keep."""
        ids = dict(plan.ids)
        sent: list[str] = []
        failed = False
        done = 0
        for op in plan.ops:
            created = None
            if op.sends:
                path = op.target(ids)
                sent.append(f"{op.method} {path}")
                try:
                    created = self.send(op.method, path, op.body)
                except Refused:
                    failed = True
                    break
            advance(ids, op, created)
            done += 1
        return Outcome(sent, ids, _link(plan, ids, failed, done, old), failed)


def _link(
    plan: Plan, ids: dict[str, Any], failed: bool, done: int, old: Link | None
) -> Link | None:
    if plan.drop_link and not failed:
        return None
    if plan.link is None or (failed and done == 0):
        return old
    dest = ids.get(plan.dest_slot)
    fp = None if failed else plan.link.fingerprint
    return Link(
        str(dest or ""), fp, old.updated_at if old else _NOW, fill_data(plan.link.data, ids)
    )


def _flat(body: dict[str, Any]) -> dict[str, Any]:
    flat: dict[str, Any] = {}
    if "person" in body:
        flat["person"] = body["person"]["id"]
    if "type" in body:
        flat["type"] = body["type"]
    for name in ("start", "end"):
        if name in body:
            flat[name] = body[name]["date_time"]
    return flat


def steps(plan: Plan) -> list[str]:
    """The actions of the ops that reach a destination record (sent, or a found one linked)."""
    return [op.action for op in plan.ops if op.sends or op.record_id is not None]


def rows(plan: Plan) -> list[tuple[str, str]]:
    """The run-log rows the plan makes once every op took effect: (action, reason)."""
    return [(op.action, op.reason or plan.reason) for op in plan.ops if op.log]
