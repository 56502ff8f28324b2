"""overnight_periods in the pure mapping: periods cut at local midnight (split) or sent whole,
exact across DST (Europe/Berlin), with the WORK time unchanged."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from target_personio import mapping

BERLIN = ZoneInfo("Europe/Berlin")


def berlin(text: str) -> str:
    """A timestamp with its Berlin offset for a wall-clock ``YYYY-MM-DD HH:MM``."""
    return datetime.fromisoformat(text).replace(tzinfo=BERLIN).isoformat()


def timer(starts: str, ends: str, *breaks: tuple[str, str]) -> dict:
    return {
        "id": 1,
        "starts_at": berlin(starts),
        "ends_at": berlin(ends),
        "breaks": [{"starts_at": berlin(s), "ends_at": berlin(e)} for s, e in breaks],
    }


def rows(record: dict, overnight: str) -> list[tuple[str, str, str]]:
    return [
        (s["type"], s["start"], s["end"]) for s in mapping.timer_slots(record, BERLIN, overnight)
    ]


def real_minutes(rows: list[tuple[str, str, str]], kind: str) -> float:
    """Real minutes of the rows of one kind, measured through zoneinfo from their local ends."""

    def instant(text: str, fold: int) -> datetime:
        return datetime.fromisoformat(text).replace(tzinfo=BERLIN, fold=fold).astimezone(UTC)

    total = timedelta()
    for k, start, end in rows:
        if k == kind:
            total += instant(end, 1) - instant(start, 0)
    return total.total_seconds() / 60


def test_split_cuts_a_night_shift_at_local_midnight() -> None:
    record = timer("2024-03-05 22:00", "2024-03-06 06:00")
    assert rows(record, "split") == [
        ("WORK", "2024-03-05T22:00:00", "2024-03-06T00:00:00"),
        ("WORK", "2024-03-06T00:00:00", "2024-03-06T06:00:00"),
    ]
    assert rows(record, "whole") == [("WORK", "2024-03-05T22:00:00", "2024-03-06T06:00:00")]
    assert real_minutes(rows(record, "split"), "WORK") == 8 * 60


def test_split_on_the_spring_forward_night_keeps_seven_real_hours() -> None:
    # Saturday 22:00 CET to Sunday 06:00 CEST (31 March 2024): the clock shows 8 h, 7 pass.
    record = timer("2024-03-30 22:00", "2024-03-31 06:00")
    split = rows(record, "split")
    assert split == [
        ("WORK", "2024-03-30T22:00:00", "2024-03-31T00:00:00"),
        ("WORK", "2024-03-31T00:00:00", "2024-03-31T06:00:00"),
    ]
    periods = mapping.split_at_midnight(mapping.timer_periods(record), BERLIN)
    assert [p.end - p.start for p in periods] == [timedelta(hours=2), timedelta(hours=5)]
    assert mapping.net_work(periods) == timedelta(hours=7)


def test_split_on_the_fall_back_night_keeps_nine_real_hours() -> None:
    # Saturday 22:00 CEST to Sunday 06:00 CET (27 October 2024): the clock shows 8 h, 9 pass.
    record = timer("2024-10-26 22:00", "2024-10-27 06:00")
    assert rows(record, "split") == [
        ("WORK", "2024-10-26T22:00:00", "2024-10-27T00:00:00"),
        ("WORK", "2024-10-27T00:00:00", "2024-10-27T06:00:00"),
    ]
    periods = mapping.split_at_midnight(mapping.timer_periods(record), BERLIN)
    assert [p.end - p.start for p in periods] == [timedelta(hours=2), timedelta(hours=7)]
    assert mapping.net_work(periods) == timedelta(hours=9)


def test_a_break_across_midnight_is_split_too_and_work_stays_the_net_time() -> None:
    record = timer("2024-03-05 23:00", "2024-03-06 07:00", ("2024-03-05 23:45", "2024-03-06 00:15"))
    assert rows(record, "split") == [
        ("WORK", "2024-03-05T23:00:00", "2024-03-05T23:45:00"),
        ("BREAK", "2024-03-05T23:45:00", "2024-03-06T00:00:00"),
        ("BREAK", "2024-03-06T00:00:00", "2024-03-06T00:15:00"),
        ("WORK", "2024-03-06T00:15:00", "2024-03-06T07:00:00"),
    ]
    assert rows(record, "whole") == [
        ("WORK", "2024-03-05T23:00:00", "2024-03-05T23:45:00"),
        ("BREAK", "2024-03-05T23:45:00", "2024-03-06T00:15:00"),
        ("WORK", "2024-03-06T00:15:00", "2024-03-06T07:00:00"),
    ]
    for form in ("split", "whole"):
        assert real_minutes(rows(record, form), "WORK") == 8 * 60 - 30
        assert real_minutes(rows(record, form), "BREAK") == 30


def test_a_shift_ending_exactly_at_midnight_is_not_cut() -> None:
    record = timer("2024-03-05 16:00", "2024-03-06 00:00")
    assert rows(record, "split") == [("WORK", "2024-03-05T16:00:00", "2024-03-06T00:00:00")]


def test_a_shift_starting_exactly_at_midnight_is_not_cut() -> None:
    record = timer("2024-03-06 00:00", "2024-03-06 06:00")
    assert rows(record, "split") == [("WORK", "2024-03-06T00:00:00", "2024-03-06T06:00:00")]


def test_a_24_hour_period_over_the_23_hour_spring_day_is_cut_twice() -> None:
    # Saturday 23:30 to Monday 00:30 is 24 real hours: Sunday 31 March 2024 has 23.
    record = timer("2024-03-30 23:30", "2024-04-01 00:30")
    assert rows(record, "split") == [
        ("WORK", "2024-03-30T23:30:00", "2024-03-31T00:00:00"),
        ("WORK", "2024-03-31T00:00:00", "2024-04-01T00:00:00"),
        ("WORK", "2024-04-01T00:00:00", "2024-04-01T00:30:00"),
    ]
    periods = mapping.split_at_midnight(mapping.timer_periods(record), BERLIN)
    assert mapping.net_work(periods) == timedelta(hours=24)


def test_a_shift_in_utc_is_cut_at_the_company_zones_midnight() -> None:
    record = {"id": 1, "starts_at": "2024-07-01T20:00:00Z", "ends_at": "2024-07-02T04:00:00Z"}
    assert rows(record, "split") == [
        ("WORK", "2024-07-01T22:00:00", "2024-07-02T00:00:00"),
        ("WORK", "2024-07-02T00:00:00", "2024-07-02T06:00:00"),
    ]


def test_the_24_hour_limit_applies_before_the_cut_in_both_forms() -> None:
    record = timer("2024-03-05 06:00", "2024-03-06 07:00")
    for form in ("split", "whole"):
        with pytest.raises(mapping.Unmappable, match="longer than the 24 h"):
            mapping.timer_slots(record, BERLIN, form)


def test_a_period_of_exactly_24_hours_is_halved_in_both_forms() -> None:
    # Personio's limit is 24 h; whether it takes exactly 24 h is unknown (attendance_24_hours).
    midnight_to_midnight = timer("2024-03-05 00:00", "2024-03-06 00:00")
    halves = [
        ("WORK", "2024-03-05T00:00:00", "2024-03-05T12:00:00"),
        ("WORK", "2024-03-05T12:00:00", "2024-03-06T00:00:00"),
    ]
    assert rows(midnight_to_midnight, "split") == rows(midnight_to_midnight, "whole") == halves
    morning_to_morning = timer("2024-03-05 08:00", "2024-03-06 08:00")
    assert rows(morning_to_morning, "whole") == [
        ("WORK", "2024-03-05T08:00:00", "2024-03-05T20:00:00"),
        ("WORK", "2024-03-05T20:00:00", "2024-03-06T08:00:00"),
    ]
    # split cuts it at midnight first: no piece is a whole day
    assert rows(morning_to_morning, "split") == [
        ("WORK", "2024-03-05T08:00:00", "2024-03-06T00:00:00"),
        ("WORK", "2024-03-06T00:00:00", "2024-03-06T08:00:00"),
    ]
    # the spring day of 23 real hours, midnight to midnight, stays one period
    short_day = timer("2024-03-31 00:00", "2024-04-01 00:00")
    assert rows(short_day, "split") == [("WORK", "2024-03-31T00:00:00", "2024-04-01T00:00:00")]
