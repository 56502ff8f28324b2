"""Retry-After in both forms the HTTP standard allows."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from vendor_http.retry_after import parse_retry_after

NOW = datetime(2026, 10, 21, 7, 27, 30, tzinfo=UTC)


@pytest.mark.parametrize(
    ("header", "seconds"),
    [("120", 120.0), (" 3 ", 3.0), ("0.5", 0.5), ("-4", 0.0)],
)
def test_seconds_are_read_as_seconds(header: str, seconds: float) -> None:
    assert parse_retry_after(header, now=lambda: NOW) == seconds


def test_an_http_date_is_the_time_until_then() -> None:
    assert parse_retry_after("Wed, 21 Oct 2026 07:28:00 GMT", now=lambda: NOW) == 30.0


def test_an_http_date_in_the_past_means_no_wait() -> None:
    assert parse_retry_after("Wed, 21 Oct 2026 07:00:00 GMT", now=lambda: NOW) == 0.0


@pytest.mark.parametrize("header", [None, "", "soon", "nan"])
def test_missing_or_unreadable_values_give_none(header: str | None) -> None:
    assert parse_retry_after(header, now=lambda: NOW) is None
