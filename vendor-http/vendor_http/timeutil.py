"""Dates and times as the vendors send and want them, in one place, on ``datetime.fromisoformat``.

Personio v1 writes offsets as ``+0100`` or ``+01:00`` and dates as date-times; Personio v2 wants
local times without an offset in filters and bodies; Staffomatic speaks UTC with ``Z``.
"""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

_COLONLESS_OFFSET = re.compile(r"([+-]\d{2})(\d{2})$")


def parse_timestamp(value: Any) -> datetime | None:
    """A timezone-aware datetime from an ISO string or datetime (naive means UTC), else None.

    Accepts ``Z``, ``+01:00`` and ``+0100`` offsets.
    """
    if isinstance(value, datetime):
        parsed = value
    elif isinstance(value, str) and value.strip():
        text = value.strip()
        if "T" in text or " " in text:
            text = _COLONLESS_OFFSET.sub(r"\1:\2", text)
        try:
            parsed = datetime.fromisoformat(text)
        except ValueError:
            return None
    else:
        return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def iso_timestamp(value: Any) -> str | None:
    """An RFC 3339 date-time string for any ISO date-time a vendor sends, else None."""
    parsed = parse_timestamp(value)
    return parsed.isoformat() if parsed else None


def parse_date(value: Any) -> date | None:
    """The date of ``YYYY-MM-DD`` or of the date part of a date-time, else None."""
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    if not isinstance(value, str) or len(value.strip()) < 10:
        return None
    try:
        return date.fromisoformat(value.strip()[:10])
    except ValueError:
        return None


def date_of(value: Any) -> date | None:
    """The date of a date, a date-time or ISO text (its first ten characters); None for None or
    ``""``. Unlike :func:`parse_date`, text that is not a date raises ``ValueError``."""
    if value is None or value == "":
        return None
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    return date.fromisoformat(str(value)[:10])


def datetime_of(value: Any) -> datetime | None:
    """A datetime, or one from ISO text (as it stands, naive when it has no offset); None for
    None or ``""``. Text that is not a date-time raises ``ValueError``."""
    if value is None or value == "":
        return None
    return value if isinstance(value, datetime) else datetime.fromisoformat(str(value))


_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def epoch_microseconds(moment: datetime) -> int:
    """An aware moment as microseconds since 1970: a plain int, where many are kept (a key or a
    change time per record) and compared whatever offset they were written with."""
    return (moment - _EPOCH) // timedelta(microseconds=1)


def local_text(moment: datetime) -> str:
    """``YYYY-MM-DDTHH:MM:SS`` without offset (Personio v2 filters and bodies)."""
    return moment.replace(tzinfo=None).isoformat(timespec="seconds")


def utc_text(moment: datetime) -> str:
    """``YYYY-MM-DDTHH:MM:SSZ`` in UTC (aware input; naive means UTC)."""
    aware = moment if moment.tzinfo else moment.replace(tzinfo=UTC)
    return aware.astimezone(UTC).replace(tzinfo=None).isoformat(timespec="seconds") + "Z"


def utcnow() -> datetime:
    """The current time, timezone-aware in UTC."""
    return datetime.now(UTC)


def day_window(
    today: date, past_days: int, future_days: int, not_before: date | None = None
) -> tuple[datetime, datetime]:
    """Whole days from ``past_days`` before ``today`` to ``future_days`` after it, naive.

    The window starts no earlier than ``not_before`` (but never after its own end).
    """
    start = today - timedelta(days=past_days)
    end = today + timedelta(days=future_days)
    if not_before is not None and not_before > start:
        start = min(not_before, end)
    return datetime.combine(start, time.min), datetime.combine(end, time(23, 59, 59))
