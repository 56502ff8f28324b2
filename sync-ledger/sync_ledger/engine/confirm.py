"""Verify before destroy: a delete because a source record vanished from a read is sent only
after a direct read of that one record proves it gone.

The rules propose such deletes as plans with ``confirm`` set (they stay pure). Before the
applier sends anything, :func:`confirmed` asks the target's source check about each of them,
one read per plan, and turns the plan into

- its deletes, with the evidence added to the reason, when the read proves the record gone
  (404 or 410) or removed (rejected, declined, cancelled; a timer deleted or no longer
  eligible), or
- a ``skip`` that keeps the ledger link, with one sentence saying why the delete was held back:
  the record is still there and valid (the read missed it), the read failed or was
  inconclusive, or no source credentials are set. The next complete read proposes the delete
  again, and it is confirmed then.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, replace

from sync_ledger.engine.plan import Plan
from sync_ledger.engine.vocabulary import SKIP

HELD_BACK = "not deleted"
"""How every reason of a held-back delete begins."""


@dataclass(frozen=True)
class Evidence:
    """What a direct read of one source record showed: ``gone`` lets the deletes go out;
    ``reason`` says what was seen, for the run log."""

    gone: bool
    reason: str


SourceCheck = Callable[[Plan], Evidence]
"""Reads the source record of one plan (``plan.source_id``) and says what it showed."""


def gone(reason: str) -> Evidence:
    return Evidence(True, reason)


def kept(reason: str) -> Evidence:
    """The record is still there and valid, or the read could not tell: nothing is deleted."""
    return Evidence(False, reason)


def read_failed(what: str, error: object) -> Evidence:
    """The confirmation read failed (after the vendor policy's retries): nothing is deleted."""
    return kept(
        f"{HELD_BACK}: the confirmation read of {what} failed ({error}); the next run tries again"
    )


def still_there(what: str, state: str) -> Evidence:
    """The source still holds the record and it is valid: the read that missed it was wrong."""
    return kept(
        f"{HELD_BACK}: {what} still exists ({state}) although the read missed it, so its copy "
        "is kept"
    )


def confirmed(plans: Iterable[Plan], check: SourceCheck | None, missing: str) -> list[Plan]:
    """``plans`` with each one that asks for confirmation settled by ``check``.

    ``check`` is None when no source credentials are set: every such plan becomes a skip whose
    reason is ``missing`` (which names the settings to set). Plans that send nothing (a link
    dropped for a record already gone) pass as they are.
    """
    settled = []
    for plan in plans:
        if not plan.confirm:
            settled.append(plan)
        elif not plan.writes:
            settled.append(replace(plan, confirm=False))
        else:
            evidence = check(plan) if check is not None else kept(missing)
            settled.append(_settle(plan, evidence))
    return settled


def _settle(plan: Plan, evidence: Evidence) -> Plan:
    if evidence.gone:
        reason = f"{plan.reason}; {evidence.reason}"
        ops = [
            replace(op, reason=f"{op.reason}; {evidence.reason}") if op.reason else op
            for op in plan.ops
        ]
        return replace(plan, ops=ops, reason=reason, confirm=False)
    return Plan(
        plan.entity, plan.source_id, outcome=SKIP, reason=evidence.reason, ids=dict(plan.ids)
    )
