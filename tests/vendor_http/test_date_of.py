"""``date_of``: the strict date reading both targets share."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest
from vendor_http.timeutil import date_of


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
