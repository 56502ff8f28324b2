"""Work timers into Personio attendance periods, asserted on the sandbox's Personio state."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest

from tests.target_personio.helpers import (
    ANNA,
    BEN,
    KATHARINA,
    SEBASTIAN,
    XAVER,
    Harness,
    hand_made_period,
    minutes,
    singer_input,
    sqlite_url,
    timer,
)

TWO_BREAKS = timer(
    1,
    ANNA,
    "2024-10-29 06:00",
    "2024-10-29 14:00",
    ("2024-10-29 09:00", "2024-10-29 09:15"),
    ("2024-10-29 11:30", "2024-10-29 12:00"),
)
MIDNIGHT = timer(2, KATHARINA, "2024-10-28 22:00", "2024-10-29 06:00")
MIDNIGHT_SPLIT = [
    ("WORK", "2024-10-28T22:00:00", "2024-10-29T00:00:00"),
    ("WORK", "2024-10-29T00:00:00", "2024-10-29T06:00:00"),
]
DST = timer(3, SEBASTIAN, "2024-10-26 22:00", "2024-10-27 06:00")
DST_SPLIT = [
    ("WORK", "2024-10-26T22:00:00", "2024-10-27T00:00:00"),
    ("WORK", "2024-10-27T00:00:00", "2024-10-27T06:00:00"),
]


def work_minutes(rows: list[tuple[str, str, str]]) -> float:
    return sum(minutes(s, e) for kind, s, e in rows if kind == "WORK")


def test_two_break_shift_becomes_five_periods_and_work_adds_up_to_net_time(h: Harness) -> None:
    h.run(singer_input([TWO_BREAKS]))
    rows = h.attendances("1001")
    assert rows == [
        ("WORK", "2024-10-29T06:00:00", "2024-10-29T09:00:00"),
        ("BREAK", "2024-10-29T09:00:00", "2024-10-29T09:15:00"),
        ("WORK", "2024-10-29T09:15:00", "2024-10-29T11:30:00"),
        ("BREAK", "2024-10-29T11:30:00", "2024-10-29T12:00:00"),
        ("WORK", "2024-10-29T12:00:00", "2024-10-29T14:00:00"),
    ]
    assert work_minutes(rows) == TWO_BREAKS["net_duration"] / 60 == 435
    statuses = {p["approval"]["status"] for p in h.state()["attendance_periods"]}
    assert statuses == {"CONFIRMED"}


def test_midnight_shift_is_cut_at_midnight_into_eight_hours(h: Harness) -> None:
    h.run(singer_input([MIDNIGHT]))
    rows = h.attendances("1011")
    assert rows == MIDNIGHT_SPLIT
    assert work_minutes(rows) == MIDNIGHT["net_duration"] / 60 == 480


def test_dst_shift_keeps_its_nine_real_hours(h: Harness) -> None:
    h.run(singer_input([DST]))
    rows = h.attendances("1017")
    assert rows == DST_SPLIT
    assert work_minutes(rows) == DST["net_duration"] / 60 == 540


def test_ineligible_timers_and_unmatched_users_are_not_sent(h: Harness) -> None:
    timers = [
        timer(10, ANNA, "2024-10-30 11:00", None, state="running"),
        timer(11, ANNA, "2024-10-29 15:00", "2024-10-29 17:00", state="stopped"),
        timer(12, KATHARINA, "2024-10-30 08:00", "2024-10-30 12:30"),  # ended 30 min ago
        timer(13, KATHARINA, "2024-10-20 08:00", "2024-10-20 12:00"),  # older than retry_days
        timer(14, XAVER, "2024-10-29 08:00", "2024-10-29 12:00"),  # no Personio employee
    ]
    target = h.run(singer_input(timers))
    assert h.writes() == 0
    ledger = h.ledger()
    run = ledger.runs(target="target-personio")[0]
    skipped = {a.source_id: a.reason for a in ledger.actions(run.id)}
    assert set(skipped) == {"10", "11", "12", "14"}
    assert "running" in skipped["10"]
    assert "not verified" in skipped["11"]
    assert "settle_minutes" in skipped["12"]
    assert "user 590 has no Personio employee" in skipped["14"]
    assert target.sync.unchanged == {}


def test_stopped_timers_are_sent_when_verification_is_not_required(h: Harness) -> None:
    record = timer(11, ANNA, "2024-10-29 15:00", "2024-10-29 17:00", state="stopped")
    h.run(singer_input([record]), only_verified_timers=False)
    assert h.attendances("1001") == [("WORK", "2024-10-29T15:00:00", "2024-10-29T17:00:00")]


def test_nothing_before_start_date_is_written(h: Harness) -> None:
    h.run(singer_input([MIDNIGHT, TWO_BREAKS]), start_date="2024-10-29T00:00:00+01:00")
    assert h.attendances("1011") == []
    assert len(h.attendances("1001")) == 5


def test_user_without_custom_id_is_matched_by_email(h: Harness) -> None:
    h.run(singer_input([timer(20, BEN, "2024-10-29 08:00", "2024-10-29 12:00")]))
    assert h.attendances("1002") == [("WORK", "2024-10-29T08:00:00", "2024-10-29T12:00:00")]


def test_too_long_timer_is_refused_locally_and_the_others_go_on(h: Harness) -> None:
    long = timer(21, ANNA, "2024-10-28 06:00", "2024-10-29 08:00")
    h.run(singer_input([long, MIDNIGHT]))
    assert h.attendances("1001") == []
    assert len(h.attendances("1011")) == 2
    retries = h.ledger().retries("staffomatic", "work_timers")
    assert "longer than the 24 h Personio allows" in retries["21"].reason
    assert "POST /v2/attendance-periods" in h.requests()["by_endpoint"]
    assert h.requests()["by_endpoint"]["POST /v2/attendance-periods"] == 2  # MIDNIGHT's pieces


def test_unchanged_rerun_makes_zero_write_requests(h: Harness) -> None:
    text = singer_input([TWO_BREAKS, MIDNIGHT, DST])
    h.run(text)
    h.reset_counts()
    target = h.run(text)
    assert h.writes() == 0
    assert target.sync.unchanged["work_timers"] == 3
    assert len(h.attendances("1001")) == 5


def test_changed_timer_patches_what_moved_and_creates_or_deletes_for_breaks(h: Harness) -> None:
    plain = timer(30, ANNA, "2024-10-29 08:00", "2024-10-29 16:00")
    h.run(singer_input([plain]))
    ids_before = {p["id"] for p in h.state()["attendance_periods"] if p["person"]["id"] == "1001"}

    with_break = timer(
        30, ANNA, "2024-10-29 08:00", "2024-10-29 16:00", ("2024-10-29 12:00", "2024-10-29 12:30")
    )
    h.reset_counts()
    h.run(singer_input([with_break]))
    assert h.attendances("1001") == [
        ("WORK", "2024-10-29T08:00:00", "2024-10-29T12:00:00"),
        ("BREAK", "2024-10-29T12:00:00", "2024-10-29T12:30:00"),
        ("WORK", "2024-10-29T12:30:00", "2024-10-29T16:00:00"),
    ]
    counts = h.requests()["by_endpoint"]
    assert counts["PATCH /v2/attendance-periods/{id}"] == 1
    assert counts["POST /v2/attendance-periods"] == 2
    ids_after = {p["id"] for p in h.state()["attendance_periods"] if p["person"]["id"] == "1001"}
    assert ids_before <= ids_after

    later = timer(30, ANNA, "2024-10-29 09:00", "2024-10-29 17:30")
    h.reset_counts()
    h.run(singer_input([later]))
    assert h.attendances("1001") == [("WORK", "2024-10-29T09:00:00", "2024-10-29T17:30:00")]
    counts = h.requests()["by_endpoint"]
    assert counts["DELETE /v2/attendance-periods/{id}"] == 2
    assert counts["PATCH /v2/attendance-periods/{id}"] == 1


def test_timer_that_is_no_longer_eligible_loses_its_periods(h: Harness) -> None:
    h.run(singer_input([TWO_BREAKS]))
    unverified = dict(TWO_BREAKS, state="stopped")
    # timer 1 is not in the Staffomatic emulator: the confirmation read answers 404
    h.run(singer_input([unverified], full=False), **h.staffomatic_source())
    assert h.attendances("1001") == []


def test_full_sync_removes_periods_of_vanished_timers_and_never_hand_made_ones(
    h: Harness,
) -> None:
    state = h.state()
    hand_made = hand_made_period("hand-made-1", "1001", "2024-10-28", "08:00", "12:00")
    state["attendance_periods"].append(hand_made)
    h.load(state)
    h.run(singer_input([TWO_BREAKS, MIDNIGHT]))
    # An incremental run does not see the whole window: nothing is removed.
    h.run(singer_input([MIDNIGHT], full=False))
    assert len(h.attendances("1001")) == 6
    h.run(singer_input([MIDNIGHT]), **h.staffomatic_source())  # timer 1: 404 in Staffomatic
    assert h.attendances("1001") == [("WORK", "2024-10-28T08:00:00", "2024-10-28T12:00:00")]
    assert h.attendances("1011") == MIDNIGHT_SPLIT


def test_lost_ledger_rerun_relinks_without_duplicates(h: Harness, tmp_path: Path) -> None:
    text = singer_input([TWO_BREAKS, MIDNIGHT])
    h.run(text)
    h.ledger_url = sqlite_url(tmp_path, "new-ledger.db")
    h.reset_counts()
    h.run(text)
    assert h.writes() == 0
    assert len(h.attendances("1001")) == 5
    links = h.ledger().links("staffomatic", "work_timers")
    assert set(links) == {"1", "2"}
    assert len(links["1"].data["periods"]) == 5
    h.reset_counts()
    h.run(text)
    assert h.writes() == 0


def test_dry_run_records_the_plan_prints_it_and_writes_nothing(
    h: Harness, capsys: pytest.CaptureFixture[str]
) -> None:
    h.run(singer_input([TWO_BREAKS, MIDNIGHT]), dry_run=True)
    assert h.writes() == 0
    assert h.attendances("1001") == []
    ledger = h.ledger()
    run = ledger.runs()[0]
    assert run.dry_run
    assert run.counts == {"work_timers": {"create": 2}}
    assert ledger.links("staffomatic", "work_timers") == {}
    assert "Dry run of target-personio" in capsys.readouterr().err


def test_rejected_write_is_queued_and_succeeds_on_a_later_run(h: Harness) -> None:
    state = h.state()
    blocker = hand_made_period("blocker", "1011", "2024-10-29", "05:00", "07:00")
    state["attendance_periods"].append(blocker)
    h.load(state)
    text = singer_input([MIDNIGHT, TWO_BREAKS])
    h.run(text)
    assert len(h.attendances("1001")) == 5  # the others go on
    retries = h.ledger().retries("staffomatic", "work_timers")
    assert "HTTP 409" in retries["2"].reason
    assert "overlaps attendance period blocker" in retries["2"].reason

    state = h.state()
    state["attendance_periods"] = [p for p in state["attendance_periods"] if p["id"] != "blocker"]
    h.load(state)
    h.run(text)
    assert h.attendances("1011") == MIDNIGHT_SPLIT
    assert h.ledger().retries("staffomatic", "work_timers") == {}


def test_rejected_write_is_given_up_after_retry_days(
    h: Harness, caplog: pytest.LogCaptureFixture
) -> None:
    long = timer(21, ANNA, "2024-10-28 06:00", "2024-10-29 08:00")
    h.run(singer_input([long]))
    assert "21" in h.ledger().retries("staffomatic", "work_timers")
    h.now = h.now + timedelta(days=8)
    caplog.clear()
    h.run(singer_input([]))
    ledger = h.ledger()
    assert ledger.retries("staffomatic", "work_timers") == {}
    given_up = ledger.all_retries(given_up=True)
    assert [r.source_id for r in given_up] == ["21"]
    assert any("Gave up on work_timers 21" in r.getMessage() for r in caplog.records)


@pytest.fixture
def h(harness: Harness) -> Harness:
    return harness
