"""The sync ledger: links, run log and retry queue shared by both targets of the sync."""

from sync_ledger.ledger import (
    ACTIONS,
    RUN_LOG_DAYS,
    Action,
    Ledger,
    LedgerError,
    Link,
    Retry,
    Run,
    RunInfo,
    default_url,
    fingerprint,
)

__all__ = [
    "ACTIONS",
    "RUN_LOG_DAYS",
    "Action",
    "Ledger",
    "LedgerError",
    "Link",
    "Retry",
    "Run",
    "RunInfo",
    "default_url",
    "fingerprint",
]
