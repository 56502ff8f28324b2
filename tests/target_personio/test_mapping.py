"""The pure mapping: timers to WORK/BREAK timelines, eligibility, absences to day markers."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from target_personio import mapping
from target_personio.rules import eligibility

BERLIN = ZoneInfo("Europe/Berlin")


def timer(starts: str, ends: str | None, *breaks: tuple[str, str], state: str = "verified") -> dict:
    return {
        "id": 1,
        "user_id": 2,
        "state": state,
        "starts_at": starts,
        "ends_at": ends,
        "breaks": [{"id": n, "starts_at": s, "ends_at": e} for n, (s, e) in enumerate(breaks)],
    }


def slots(record: dict) -> list[tuple[str, str, str]]:
    return [
        (s["type"], s["start"], s["end"])
        for s in (p.slot(BERLIN) for p in mapping.timer_periods(record))
    ]


def test_two_break_shift_becomes_alternating_periods_whose_work_adds_up_to_net_time() -> None:
    record = timer(
        "2024-03-05T06:00:00+01:00",
        "2024-03-05T14:00:00+01:00",
        ("2024-03-05T09:00:00+01:00", "2024-03-05T09:15:00+01:00"),
        ("2024-03-05T11:30:00+01:00", "2024-03-05T12:00:00+01:00"),
    )
    assert slots(record) == [
        ("WORK", "2024-03-05T06:00:00", "2024-03-05T09:00:00"),
        ("BREAK", "2024-03-05T09:00:00", "2024-03-05T09:15:00"),
        ("WORK", "2024-03-05T09:15:00", "2024-03-05T11:30:00"),
        ("BREAK", "2024-03-05T11:30:00", "2024-03-05T12:00:00"),
        ("WORK", "2024-03-05T12:00:00", "2024-03-05T14:00:00"),
    ]
    assert mapping.net_work(mapping.timer_periods(record)) == timedelta(hours=7, minutes=15)


def test_shift_across_midnight_is_one_period_with_its_true_length() -> None:
    record = timer("2024-03-05T22:00:00+01:00", "2024-03-06T06:00:00+01:00")
    assert slots(record) == [("WORK", "2024-03-05T22:00:00", "2024-03-06T06:00:00")]


def test_shift_across_the_october_dst_change_keeps_nine_real_hours() -> None:
    # Saturday 22:00 CEST to Sunday 06:00 CET: the clock shows 8 hours, 9 hours pass.
    record = timer("2024-10-26T22:00:00+02:00", "2024-10-27T06:00:00+01:00")
    periods = mapping.timer_periods(record)
    assert slots(record) == [("WORK", "2024-10-26T22:00:00", "2024-10-27T06:00:00")]
    assert mapping.net_work(periods) == timedelta(hours=9)


def test_timestamps_in_utc_are_converted_to_company_wall_clock_time() -> None:
    record = timer("2024-07-01T06:00:00Z", "2024-07-01T14:00:00Z")
    assert slots(record) == [("WORK", "2024-07-01T08:00:00", "2024-07-01T16:00:00")]


def test_breaks_are_clipped_to_the_timer_and_overlapping_breaks_merged() -> None:
    record = timer(
        "2024-03-05T08:00:00+01:00",
        "2024-03-05T12:00:00+01:00",
        ("2024-03-05T07:30:00+01:00", "2024-03-05T08:15:00+01:00"),
        ("2024-03-05T10:00:00+01:00", "2024-03-05T10:30:00+01:00"),
        ("2024-03-05T10:20:00+01:00", "2024-03-05T10:40:00+01:00"),
    )
    assert slots(record) == [
        ("BREAK", "2024-03-05T08:00:00", "2024-03-05T08:15:00"),
        ("WORK", "2024-03-05T08:15:00", "2024-03-05T10:00:00"),
        ("BREAK", "2024-03-05T10:00:00", "2024-03-05T10:40:00"),
        ("WORK", "2024-03-05T10:40:00", "2024-03-05T12:00:00"),
    ]


def test_period_longer_than_24_hours_is_rejected_locally_with_the_reason() -> None:
    record = timer("2024-03-05T06:00:00+01:00", "2024-03-06T07:00:00+01:00")
    with pytest.raises(mapping.Unmappable, match=r"25\.0 h is longer than the 24 h"):
        mapping.timer_periods(record)


def test_a_break_splitting_a_long_timer_makes_it_acceptable() -> None:
    record = timer(
        "2024-03-05T06:00:00+01:00",
        "2024-03-06T07:00:00+01:00",
        ("2024-03-05T18:00:00+01:00", "2024-03-05T19:00:00+01:00"),
    )
    assert [s[0] for s in slots(record)] == ["WORK", "BREAK", "WORK"]


def test_running_timer_cannot_be_mapped() -> None:
    with pytest.raises(mapping.Unmappable, match="still running"):
        mapping.timer_periods(timer("2024-03-05T06:00:00+01:00", None, state="running"))


NOW = datetime(2024, 3, 10, 12, 0, tzinfo=UTC)
RULES = eligibility.TimerRules(
    now=NOW, settle=timedelta(minutes=60), window_start=NOW - timedelta(days=7), only_verified=True
)


@pytest.mark.parametrize(
    ("record", "problem"),
    [
        (timer("2024-03-09T08:00:00Z", "2024-03-09T16:00:00Z"), None),
        (timer("2024-03-10T08:00:00Z", None, state="running"), "still running"),
        (timer("2024-03-09T08:00:00Z", "2024-03-09T16:00:00Z", state="stopped"), "not verified"),
        (timer("2024-03-10T08:00:00Z", "2024-03-10T11:30:00Z"), "settle_minutes"),
        (timer("2024-03-02T08:00:00Z", "2024-03-02T16:00:00Z"), eligibility.OUT_OF_WINDOW),
    ],
)
def test_timer_eligibility(record: dict, problem: str | None) -> None:
    found = eligibility.timer_problem(record, RULES)
    assert (found is None) if problem is None else (found is not None and problem in found)


def test_stopped_timer_is_eligible_when_verification_is_not_required() -> None:
    rules = eligibility.TimerRules(NOW, timedelta(minutes=60), NOW - timedelta(days=7), False)
    record = timer("2024-03-09T08:00:00Z", "2024-03-09T16:00:00Z", state="stopped")
    assert eligibility.timer_problem(record, rules) is None


def absence(starts: str, ends: str, all_day: bool) -> dict:
    return {"id": 5, "starts_at": starts, "ends_at": ends, "all_day": all_day}


def markers(record: dict) -> tuple[str, str, str, str]:
    body = mapping.absence_body(record, BERLIN, "1001", "type-1")
    return (
        body["starts_from"]["date_time"],
        body["starts_from"]["type"],
        body["ends_at"]["date_time"],
        body["ends_at"]["type"],
    )


def test_all_day_absence_covers_whole_days_from_first_to_last() -> None:
    record = absence("2024-05-06T00:00:00+02:00", "2024-05-08T23:59:59+02:00", True)
    assert markers(record) == (
        "2024-05-06T00:00:00",
        "FIRST_HALF",
        "2024-05-08T00:00:00",
        "SECOND_HALF",
    )


def test_all_day_absence_ending_at_midnight_ends_the_day_before() -> None:
    record = absence("2024-05-06T00:00:00+02:00", "2024-05-07T00:00:00+02:00", True)
    assert markers(record)[2:] == ("2024-05-06T00:00:00", "SECOND_HALF")


def test_part_day_morning_absence_is_a_first_half_day() -> None:
    record = absence("2024-05-06T09:00:00+02:00", "2024-05-06T13:00:00+02:00", False)
    assert markers(record) == (
        "2024-05-06T00:00:00",
        "FIRST_HALF",
        "2024-05-06T00:00:00",
        "FIRST_HALF",
    )


def test_part_day_afternoon_absence_is_a_second_half_day() -> None:
    record = absence("2024-05-06T11:13:00Z", "2024-05-06T15:00:00Z", False)
    assert markers(record)[1::2] == ("SECOND_HALF", "SECOND_HALF")


def test_part_day_absence_over_several_days_marks_the_half_days_at_its_ends() -> None:
    record = absence("2024-05-06T13:00:00+02:00", "2024-05-08T11:00:00+02:00", False)
    assert markers(record) == (
        "2024-05-06T00:00:00",
        "SECOND_HALF",
        "2024-05-08T00:00:00",
        "FIRST_HALF",
    )


def test_absence_key_matches_a_body_and_the_same_period_read_from_personio() -> None:
    record = absence("2024-05-06T00:00:00+02:00", "2024-05-08T23:59:59+02:00", True)
    body = mapping.absence_body(record, BERLIN, "1001", "type-1")
    read_back = {"id": "x", "approval": {"status": "APPROVED"}, **body}
    assert mapping.absence_key(body) == mapping.absence_key(read_back)
