"""Bringing a changed timer's linked Personio periods in step with its new timeline: pure.

A linked period is kept per kind (WORK, BREAK) in its order: the n-th linked WORK period becomes
the n-th new WORK slot. What is left over is deleted; what is missing is created. Kept periods
whose times changed are moved (PATCH) in an order that never makes a moved period overlap one
that has not moved yet: periods moving later go last-first, then periods moving earlier go
first-first. Deletes come before the moves, creates after them.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from target_personio.mapping import BREAK, WORK

Slot = Mapping[str, str]
"""``{"type", "start", "end"}`` (local wall-clock times), plus ``"id"`` for a linked period."""


@dataclass(frozen=True)
class Move:
    """A linked period (``before``, with its ``id``) whose times become those of ``after``."""

    before: Slot
    after: Slot

    @property
    def id(self) -> str:
        return str(self.before["id"])


@dataclass(frozen=True)
class Reconciliation:
    """What to do with a timer's linked periods: ``drop`` (delete), ``moves`` (PATCH, in order),
    ``kept`` (unchanged), ``add`` (slots to create: new WORK slots, then new BREAK slots)."""

    drop: list[Slot] = field(default_factory=list)
    moves: list[Move] = field(default_factory=list)
    kept: list[Slot] = field(default_factory=list)
    add: list[Slot] = field(default_factory=list)

    @property
    def changes(self) -> bool:
        return bool(self.drop or self.moves or self.add)


def reconcile(linked: Sequence[Slot], slots: Sequence[Slot]) -> Reconciliation:
    """The steps that turn the ``linked`` periods into the timeline ``slots``."""
    pairs: list[tuple[Slot, Slot]] = []
    result = Reconciliation()
    for kind in (WORK, BREAK):
        was = [p for p in linked if p["type"] == kind]
        will = [s for s in slots if s["type"] == kind]
        pairs.extend(zip(was, will, strict=False))
        result.drop.extend(was[len(will) :])
        result.add.extend(will[len(was) :])
    moved = [(b, a) for b, a in pairs if (b["start"], b["end"]) != (a["start"], a["end"])]
    result.kept.extend(b for b, a in pairs if (b["start"], b["end"]) == (a["start"], a["end"]))
    later = sorted((p for p in moved if p[1]["start"] >= p[0]["start"]), key=_start, reverse=True)
    earlier = sorted((p for p in moved if p[1]["start"] < p[0]["start"]), key=_start)
    result.moves.extend(Move(before, after) for before, after in later + earlier)
    return result


def _start(pair: tuple[Slot, Slot]) -> str:
    return pair[0]["start"]
