"""The time helpers on datetime.fromisoformat."""

from __future__ import annotations

from datetime import date, datetime, timedelta, timezone

import pytest
from vendor_http.timeutil import (
    day_window,
    epoch_microseconds,
    iso_timestamp,
    local_text,
    parse_date,
    parse_timestamp,
    utc_text,
)


@pytest.mark.parametrize(
    ("text", "offset_hours"),
    [
        ("2026-11-01T10:00:00+0100", 1),
        ("2026-11-01T10:00:00+01:00", 1),
        ("2026-11-01T10:00:00Z", 0),
        ("2026-11-01T10:00:00", 0),
    ],
)
def test_both_offset_spellings_and_naive_utc_are_read(text: str, offset_hours: int) -> None:
    parsed = parse_timestamp(text)
    assert parsed == datetime(2026, 11, 1, 10, tzinfo=timezone(timedelta(hours=offset_hours)))


@pytest.mark.parametrize("value", [None, "", "yesterday", 42])
def test_unreadable_timestamps_give_none(value: object) -> None:
    assert parse_timestamp(value) is None
    assert iso_timestamp(value) is None


def test_iso_timestamp_writes_rfc3339() -> None:
    assert iso_timestamp("2014-11-09T00:00:00+0100") == "2014-11-09T00:00:00+01:00"


def test_dates_come_from_dates_and_date_times() -> None:
    assert parse_date("2026-03-01T00:00:00+01:00") == date(2026, 3, 1)
    assert parse_date("2026-03-01") == date(2026, 3, 1)
    assert parse_date("March") is None


def test_local_and_utc_text() -> None:
    moment = datetime(2026, 3, 1, 8, 30, 15, 999, tzinfo=timezone(timedelta(hours=1)))
    assert local_text(moment) == "2026-03-01T08:30:15"
    assert utc_text(moment) == "2026-03-01T07:30:15Z"


def test_day_window_is_whole_days_and_starts_no_earlier_than_asked() -> None:
    today = date(2026, 12, 2)
    start, end = day_window(today, 60, 365)
    assert start == datetime(2026, 10, 3)
    assert end == datetime(2027, 12, 2, 23, 59, 59)
    start, _ = day_window(today, 60, 365, not_before=date(2026, 11, 1))
    assert start == datetime(2026, 11, 1)


def test_epoch_microseconds_are_the_same_for_one_moment_whatever_its_offset() -> None:
    berlin = datetime.fromisoformat("2024-10-29T09:00:00+01:00")
    assert epoch_microseconds(berlin) == epoch_microseconds(
        datetime.fromisoformat("2024-10-29T08:00:00Z")
    )
    assert epoch_microseconds(datetime.fromisoformat("1970-01-01T00:00:01Z")) == 1_000_000
    later = berlin + timedelta(microseconds=1)
    assert epoch_microseconds(later) - epoch_microseconds(berlin) == 1
