"""The target's Staffomatic HTTP client: :mod:`vendor_http.staffomatic_client`, THE Staffomatic
policy on httpx (shared with target-personio's confirmation reads), under the names the target
has always used."""

from __future__ import annotations

from vendor_http.staffomatic_client import (
    AnswerLost,
    AuthError,
    RejectedError,
    StaffomaticClient,
    StaffomaticError,
    UnreachableError,
)

__all__ = [
    "AnswerLost",
    "AuthError",
    "RejectedError",
    "StaffomaticClient",
    "StaffomaticError",
    "UnreachableError",
]
