"""The names both targets record: source systems, entities, actions and outcomes.

The entity names are the ones stored in existing ledgers (links and retries are keyed by system
and entity), so they keep their spelling: target-staffomatic syncs Personio ``employee``,
``absence`` and ``absence_type``; target-personio syncs Staffomatic ``work_timers`` and
``absences``.
"""

from __future__ import annotations

from typing import Final

from sync_ledger.ledger import ACTIONS

# source systems (the ``system`` of a link or retry: where the source record lives)
PERSONIO: Final = "personio"
STAFFOMATIC: Final = "staffomatic"

# entities synced from Personio into Staffomatic (target-staffomatic)
EMPLOYEE: Final = "employee"
ABSENCE: Final = "absence"
ABSENCE_TYPE: Final = "absence_type"

# entities synced from Staffomatic into Personio (target-personio)
WORK_TIMERS: Final = "work_timers"
STAFFOMATIC_ABSENCES: Final = "absences"

# actions: what the run log records for one write (or one decision) on one record
CREATE: Final = "create"
LINK: Final = "link"
"""A record found in the destination and linked again, without a request."""
UPDATE: Final = "update"
LOCK: Final = "lock"
UNLOCK: Final = "unlock"
APPROVE: Final = "approve"
DELETE: Final = "delete"
SKIP: Final = "skip"
FAIL: Final = "fail"

# outcomes of a plan without writes
UNCHANGED: Final = "unchanged"
"""Counted in the summary, not written to the run log."""
OUTCOMES: Final = (UNCHANGED, SKIP, FAIL)

WRITE_ACTIONS: Final = (CREATE, LINK, UPDATE, LOCK, UNLOCK, APPROVE, DELETE)
"""The actions an operation of a plan may record."""

assert set(WRITE_ACTIONS) | {SKIP, FAIL} == set(ACTIONS), "the ledger accepts every action"
