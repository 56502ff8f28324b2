"""``Retry-After``: how long a vendor asks us to wait, given in seconds or as an HTTP date."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime

from vendor_http.timeutil import utcnow


def parse_retry_after(value: str | None, *, now: Callable[[], datetime] = utcnow) -> float | None:
    """Seconds to wait, or None when the header is missing or unreadable.

    ``Retry-After: 120`` means 120 seconds; ``Retry-After: Wed, 21 Oct 2026 07:28:00 GMT`` the
    time until then (never negative). ``now`` gives the current wall-clock time for the date form.
    """
    if value is None or not value.strip():
        return None
    text = value.strip()
    try:
        seconds = float(text)
    except ValueError:
        pass
    else:
        return max(0.0, seconds) if seconds == seconds else None  # NaN is unreadable
    try:
        moment = parsedate_to_datetime(text)
    except (TypeError, ValueError, IndexError):
        return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return max(0.0, (moment - now()).total_seconds())
