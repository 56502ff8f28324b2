"""One engine under both targets: pure rules plan, one applier sends, one recorder records.

- :mod:`~sync_ledger.engine.plan`: the contract, the data a plan is made of;
- :mod:`~sync_ledger.engine.vocabulary`: the names both targets record;
- :mod:`~sync_ledger.engine.confirm`: deletes of records that vanished from a read wait for a
  direct read of the source record;
- :mod:`~sync_ledger.engine.apply`: runs plans against a destination the target provides;
- :mod:`~sync_ledger.engine.record`: run log, links, retry queue, counts, and the summary.
"""

from sync_ledger.engine.apply import ABSENT, Applied, Applier, Destination, Found, stop_error
from sync_ledger.engine.confirm import Evidence, SourceCheck, confirmed
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
from sync_ledger.engine.record import Recorder

__all__ = [
    "ABSENT",
    "DEST",
    "AnswerLost",
    "Applied",
    "Applier",
    "DestId",
    "Destination",
    "Evidence",
    "Found",
    "LinkPlan",
    "Op",
    "Plan",
    "Recorder",
    "Ref",
    "SourceCheck",
    "UnfilledSlot",
    "advance",
    "confirmed",
    "fill_data",
    "fill_path",
    "stop_error",
]
