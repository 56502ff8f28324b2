"""The applier: runs plans against a destination, a few at once, or (dry run) pretends to.

The target provides the destination through :class:`Destination`: how to send one op, the id a
create's answer carries, what a dry run answers, and how to read whether a write whose answer was
lost took place. The applier never sends a write again blindly: when ``send`` raises
:class:`~sync_ledger.engine.plan.AnswerLost`, it asks ``find``; a found record is linked (the op
is recorded as ``link``), a write proven absent is sent once more, and otherwise the plan fails
with the reason (the recorder queues it for the next run). A DELETE answered 404 counts as done.
A plan that still asks for confirmation (``Plan.confirm``: its deletes wait for a read of the
source, :mod:`sync_ledger.engine.confirm`) is never sent: it fails with the reason.
"""

from __future__ import annotations

import itertools
import threading
from collections.abc import Iterable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field, replace
from typing import Any, Final, Protocol

from sync_ledger.engine.plan import AnswerLost, DestId, Op, Plan, UnfilledSlot, advance
from sync_ledger.engine.vocabulary import LINK


@dataclass(frozen=True)
class Found:
    """A lost write took place: ``record_id`` is the record it created (for a create) and
    ``record`` what the read returned (handed on like the write's answer)."""

    record_id: DestId | None = None
    record: Any = None


class Unconfirmed(Exception):
    """A plan whose deletes still wait for a read of the source reached the applier."""


class _Absent:
    def __repr__(self) -> str:
        return "ABSENT"


ABSENT: Final = _Absent()
"""``find``'s answer when the read proves the lost write did not take place."""

Verdict = Found | _Absent | None
"""What ``find`` learnt: the write happened, it did not, or (None) the read cannot tell."""


class Destination(Protocol):
    """What a target gives the applier to reach its destination."""

    refusals: tuple[type[Exception], ...]
    """Errors of ``send`` that fail one plan (recorded, queued for retry); others propagate."""
    stops: tuple[type[Exception], ...]
    """Refusals that need a person (credentials, unreachable): the run ends once every plan
    has been recorded."""

    def send(self, op: Op, path: str) -> Any:
        """Send one op to ``path``; return the decoded answer. Raise :class:`AnswerLost` when
        the request may have taken place but its answer never came."""
        ...

    def created_id(self, op: Op, answer: Any) -> DestId | None:
        """The id of the record a create's answer describes."""
        ...

    def status(self, error: Exception) -> int | None:
        """The HTTP status of a refusal, if it has one."""
        ...

    def find(self, plan: Plan, op: Op, path: str, ids: Mapping[str, DestId]) -> Verdict:
        """Read the destination to learn whether ``op`` (whose answer was lost) took place."""
        ...

    def pretend(self, plan: Plan, op: Op, ids: Mapping[str, DestId], new_id: DestId | None) -> Any:
        """The answer a dry run takes for ``op`` (``new_id``: the fake id of a create)."""
        ...


class Journal(Protocol):
    """The write-ahead record of a run (:class:`sync_ledger.Run`): each write is stored before
    it is sent and settled after, so a run killed in between still shows what it wrote."""

    def intend(self, entity: str, source_id: str, action: str, method: str, path: str) -> int: ...

    def settle(self, intent: int, outcome: str, dest_id: str | None = None) -> None: ...


class _NoJournal:
    def intend(self, entity: str, source_id: str, action: str, method: str, path: str) -> int:
        return 0

    def settle(self, intent: int, outcome: str, dest_id: str | None = None) -> None:
        return None


@dataclass
class Applied:
    """What running one plan did: the ops that took effect (with their answers), the slots
    after them, and the error that stopped the plan, if any."""

    plan: Plan
    done: list[tuple[Op, Any]] = field(default_factory=list)
    ids: dict[str, DestId] = field(default_factory=dict)
    error: Exception | None = None
    failed: Op | None = None
    stops_run: bool = False

    @property
    def dest_id(self) -> DestId | None:
        return self.ids.get(self.plan.dest_slot)

    @property
    def failure(self) -> str:
        """The reason recorded for a failed plan."""
        action = self.failed.action if self.failed is not None else "write"
        return f"{action} failed: {self.error}"


class Applier:
    """Runs plans in order within each plan, ``workers`` plans at once."""

    def __init__(
        self,
        destination: Destination,
        *,
        workers: int = 4,
        dry_run: bool = False,
        name: str = "",
        journal: Journal | None = None,
    ) -> None:
        self.destination = destination
        self.dry_run = dry_run
        self.journal: Journal = journal or _NoJournal()
        self.pool = ThreadPoolExecutor(max(1, workers), thread_name_prefix=f"{name}write")
        self._fake_ids = itertools.count(1)
        self._fake_lock = threading.Lock()

    def apply(self, plans: Sequence[Plan]) -> list[Applied]:
        """Every plan's result, in the order of ``plans``. Plans that send nothing run inline; a
        dry run runs them one by one (fake ids follow the order of the plans)."""
        sending = [p for p in plans if p.writes]
        if self.dry_run:
            results = [self.run(p) for p in sending]
        else:
            results = list(self.pool.map(self.run, sending))
        by_plan = {id(p): r for p, r in zip(sending, results, strict=True)}
        return [by_plan.get(id(p)) or self.run(p) for p in plans]

    def close(self) -> None:
        self.pool.shutdown(wait=True)

    def run(self, plan: Plan) -> Applied:
        """Run one plan's ops in order; the first error ends it."""
        result = Applied(plan, ids=dict(plan.ids))
        if plan.confirm:
            result.error = Unconfirmed(
                "its deletes were not confirmed by a read of the source record, so none was sent"
            )
            return result
        for op in plan.ops:
            try:
                self._one(plan, op, result)
            except (UnfilledSlot, AnswerLost) as exc:
                result.error, result.failed = exc, op
            except self.destination.refusals as exc:
                if op.method == "DELETE" and self.destination.status(exc) == 404:
                    advance(result.ids, op)
                    result.done.append((op, None))
                    continue
                result.error, result.failed = exc, op
                result.stops_run = isinstance(exc, self.destination.stops)
            if result.error is not None:
                break
        return result

    def _one(self, plan: Plan, op: Op, result: Applied) -> None:
        if not op.sends:
            advance(result.ids, op)
            result.done.append((op, None))
            return
        if self.dry_run:
            new_id = self._fake_id() if op.creates else None
            answer = self.destination.pretend(plan, op, result.ids, new_id)
            advance(result.ids, op, new_id)
            result.done.append((op, answer))
            return
        path = op.target(result.ids)
        journal = self.journal
        intent = (
            journal.intend(plan.entity, plan.source_id, op.action, op.method, path)
            if journal
            else None
        )
        try:
            recorded, answer = self._send(plan, op, path, result.ids)
        except self.destination.refusals:
            if journal is not None and intent is not None:
                journal.settle(intent, "refused")
            raise
        created = self.destination.created_id(op, answer) if recorded.creates else None
        if journal is not None and intent is not None:
            dest = created if created is not None else recorded.record_id
            journal.settle(intent, "done", None if dest is None else str(dest))
        advance(result.ids, recorded, created)
        result.done.append((recorded, answer))

    def _send(self, plan: Plan, op: Op, path: str, ids: Mapping[str, DestId]) -> tuple[Op, Any]:
        """Send ``op``; after a lost answer, read before anything is sent again."""
        try:
            return op, self.destination.send(op, path)
        except AnswerLost as lost:
            verdict = self.destination.find(plan, op, path, ids)
            if verdict is ABSENT:
                return op, self.destination.send(op, path)
            if not isinstance(verdict, Found):
                raise AnswerLost(
                    f"the answer to {op.method} {path} was lost ({lost}) and reading the "
                    "destination could not tell whether it took place; it is retried next run"
                ) from None
            if not op.creates:
                return op, verdict.record
            linked = replace(
                op,
                action=LINK,
                method="",
                record_id=verdict.record_id,
                reason=f"the answer to its {op.action} was lost; found in the destination",
            )
            return linked, verdict.record

    def _fake_id(self) -> int:
        with self._fake_lock:
            return -next(self._fake_ids)


def stop_error(results: Iterable[Applied]) -> Exception | None:
    """The first error among ``results`` that ends the run."""
    return next((r.error for r in results if r.stops_run), None)
