"""The recorder: after each plan, the run log, the links, the retry queue and the counts.

One recorder serves both targets. Each op that took effect is logged with its action (unless
its ``log`` is false); a plan without ops is logged as ``skip`` or ``fail`` (``unchanged`` is only
counted). A failed plan, and a plan whose outcome is ``fail``, is logged as ``fail`` and queued
for retry; a plan that succeeded clears its retry. Links and
retries are kept only in a real run (the run's ``dry_run``). At the end,
:meth:`Recorder.summary` is the ledger's report of the run, rendered by :mod:`sync_ledger.report`.
"""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Callable
from datetime import UTC, datetime

from sync_ledger.engine.apply import Applied
from sync_ledger.engine.plan import Plan, fill_data
from sync_ledger.engine.vocabulary import FAIL, SKIP
from sync_ledger.ledger import Ledger, Link, Run
from sync_ledger.records import SharedData, shared_data
from sync_ledger.report import render_summary, run_data

logger = logging.getLogger("sync_ledger.engine")


class Recorder:
    """Records the plans of one run of a target that syncs records of ``system``."""

    def __init__(
        self,
        ledger: Ledger,
        run: Run,
        system: str,
        *,
        now: Callable[[], datetime] | None = None,
    ) -> None:
        self.ledger = ledger
        self.run = run
        self.system = system
        self.dry_run = run.dry_run
        self.now = now or (lambda: datetime.now(UTC))
        self.unchanged: Counter[str] = Counter()
        self.held_back: Counter[str] = Counter()
        """Names of look-ups missing in the destination, with the records they held back."""
        self.notes: list[str] = []
        self._held_back_ids: set[tuple[str, str]] = set()
        self._links: dict[str, dict[str, Link]] = {}
        self._retries: dict[str, set[str]] = {}
        self._data: SharedData = {}
        """The data of the links this run made, one dict per content (:func:`shared_data`)."""

    def links(self, entity: str) -> dict[str, Link]:
        """The links of ``entity``, read once and kept in step with what is recorded."""
        if entity not in self._links:
            self._links[entity] = self.ledger.links(self.system, entity)
        return self._links[entity]

    def retries(self, entity: str) -> set[str]:
        if entity not in self._retries:
            self._retries[entity] = set(self.ledger.retries(self.system, entity))
        return self._retries[entity]

    def record(self, result: Applied | Plan) -> None:
        """Run log, counts, link and retry queue after one plan ran (or was only decided)."""
        applied = result if isinstance(result, Applied) else Applied(result, ids=dict(result.ids))
        plan = applied.plan
        dest = None if applied.dest_id is None else str(applied.dest_id)
        for op, _ in applied.done:
            if op.log:
                reason = op.reason or plan.reason
                self.run.record(plan.entity, plan.source_id, op.action, reason, dest)
        if applied.error is not None:
            reason = applied.failure
            self.run.record(plan.entity, plan.source_id, FAIL, reason, dest)
            if not self.dry_run:
                self.ledger.queue_failure(self.system, plan.entity, plan.source_id, reason)
            logger.warning("%s %s: %s", plan.entity, plan.source_id, reason)
        elif not applied.done:
            self._record_outcome(plan, dest)
        if not self.dry_run:
            self._keep_link(applied, dest)
            self._keep_retry(applied)

    def _record_outcome(self, plan: Plan, dest: str | None) -> None:
        if plan.outcome in (SKIP, FAIL):
            self.run.record(plan.entity, plan.source_id, plan.outcome, plan.reason, dest)
            if plan.outcome == FAIL and not self.dry_run:
                self.ledger.queue_failure(self.system, plan.entity, plan.source_id, plan.reason)
            if plan.held_back:
                self.held_back[plan.held_back] += 1
                self._held_back_ids.add((plan.entity, plan.source_id))
        else:
            self.unchanged[plan.entity] += 1

    def _keep_link(self, applied: Applied, dest: str | None) -> None:
        plan, links = applied.plan, self.links(applied.plan.entity)
        failed = applied.error is not None
        if plan.drop_link and not failed:
            if plan.source_id in links:
                self.ledger.drop_link(self.system, plan.entity, plan.source_id)
                del links[plan.source_id]
            return
        if plan.link is None or dest is None or (failed and not applied.done):
            return
        fp = None if failed else plan.link.fingerprint
        data = fill_data(plan.link.data, applied.ids)
        old = links.get(plan.source_id)
        if old is None or (old.dest_id, old.fingerprint, old.data) != (dest, fp, data):
            self.ledger.save_link(self.system, plan.entity, plan.source_id, dest, fp, data)
            links[plan.source_id] = Link(dest, fp, self.now(), shared_data(data, self._data))

    def _keep_retry(self, applied: Applied) -> None:
        plan = applied.plan
        if applied.error is not None or plan.outcome in (SKIP, FAIL):
            return
        retried = self.retries(plan.entity)
        if plan.source_id in retried:
            self.ledger.clear_retry(self.system, plan.entity, plan.source_id)
            retried.discard(plan.source_id)

    def summary(self, held_back_line: Callable[[str, int], str] | None = None) -> str:
        """The ledger's report of this run (call after the run finished), with the unchanged
        counts, the look-ups that held records back (one line each, instead of one skip per
        record) and the notes of the run."""
        entry = run_data(self.ledger, self.run.id, self.run.target, self.run.started_at)
        entry["skips"] = [
            row
            for row in entry["skips"]
            if (row["entity"], row["source_id"]) not in self._held_back_ids
        ]
        line = held_back_line or (lambda name, count: f"{name}: {count} record(s) held back")
        held = [line(name, count) for name, count in sorted(self.held_back.items())]
        return render_summary(entry, unchanged=dict(self.unchanged), notes=[*held, *self.notes])
