"""``date_of`` and ``datetime_of``: the strict date and date-time reading the targets share."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest
from vendor_http.timeutil import date_of, datetime_of


def test_dates_of_text_dates_and_date_times() -> None:
    assert date_of("2024-10-29") == date(2024, 10, 29)
    assert date_of("2024-10-29T08:00:00+01:00") == date(2024, 10, 29)
    assert date_of(datetime(2024, 10, 29, 23, 0, tzinfo=UTC)) == date(2024, 10, 29)
    assert date_of(date(2024, 10, 29)) == date(2024, 10, 29)


def test_nothing_is_no_date() -> None:
    assert date_of(None) is None
    assert date_of("") is None


def test_text_that_is_no_date_raises() -> None:
    with pytest.raises(ValueError, match="isoformat"):
        date_of("29.10.2024")


def test_datetime_of_keeps_the_offset_as_written() -> None:
    assert date_time("2024-10-29T08:00:00+01:00").utcoffset() is not None
    assert date_time("2024-10-29T08:00:00").tzinfo is None
    moment = datetime(2024, 10, 29, 8, tzinfo=UTC)
    assert datetime_of(moment) is moment
    assert datetime_of(None) is None
    assert datetime_of("") is None
    with pytest.raises(ValueError, match="isoformat"):
        datetime_of("29.10.2024 08:00")


def date_time(text: str) -> datetime:
    moment = datetime_of(text)
    assert moment is not None
    return moment
