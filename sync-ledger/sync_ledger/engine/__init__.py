"""One engine under both targets: pure rules plan, one applier sends, one recorder records.

:mod:`~sync_ledger.engine.plan` is the contract (the data a plan is made of);
:mod:`~sync_ledger.engine.vocabulary` the names both targets record.
"""

from sync_ledger.engine.plan import (
    DEST,
    AnswerLost,
    DestId,
    LinkPlan,
    Op,
    Plan,
    Ref,
    UnfilledSlot,
    advance,
    fill_data,
    fill_path,
)

__all__ = [
    "DEST",
    "AnswerLost",
    "DestId",
    "LinkPlan",
    "Op",
    "Plan",
    "Ref",
    "UnfilledSlot",
    "advance",
    "fill_data",
    "fill_path",
]
