"""plan_timer and plan_vanished_timers: a timer, look-ups and its link in, a plan out.

Each plan is run against an in-memory Personio (:mod:`tests.target_personio.plans`) that refuses
overlapping periods like Personio does, and the test asserts what Personio holds afterwards and
the link the run leaves."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from sync_ledger import Link
from target_personio.rules import (
    People,
    TimerLookups,
    eligibility,
    plan_timer,
    plan_vanished_timers,
)

from tests.target_personio.plans import Book, rows, steps

BERLIN = ZoneInfo("Europe/Berlin")
NOW = datetime(2024, 10, 30, 12, 0, tzinfo=UTC)
USERS = {"501": ("1001", "anna@x.example"), "502": ("", "ben@x.example"), "590": ("", "")}
EMPLOYEES = [{"id": 1001, "email": "anna@x.example"}, {"id": 1002, "email": "ben@x.example"}]


def at(text: str) -> str:
    return datetime.fromisoformat(text).replace(tzinfo=BERLIN).isoformat()


def timer(
    tid: int, start: str, end: str | None, *breaks: tuple[str, str], **extra: Any
) -> dict[str, Any]:
    return {
        "id": tid,
        "user_id": 501,
        "state": "verified",
        "starts_at": at(start),
        "ends_at": at(end) if end else None,
        "breaks": [{"starts_at": at(s), "ends_at": at(e)} for s, e in breaks],
        **extra,
    }


def lookups(
    found: Mapping[Any, Sequence[str]] | None = None, overnight: str = "split", **when: Any
) -> TimerLookups:
    rules = {
        "now": NOW,
        "settle": timedelta(minutes=60),
        "window_start": NOW - timedelta(days=7),
        "only_verified": True,
        **when,
    }
    return TimerLookups(
        people=People(USERS, EMPLOYEES),
        zone=BERLIN,
        when=eligibility.TimerRules(**rules),
        found=lambda: found or {},
        overnight=overnight,
    )


TWO_BREAKS = timer(
    1,
    "2024-10-29 06:00",
    "2024-10-29 14:00",
    ("2024-10-29 09:00", "2024-10-29 09:15"),
    ("2024-10-29 11:30", "2024-10-29 12:00"),
)
FIVE = [
    ("WORK", "2024-10-29T06:00:00", "2024-10-29T09:00:00"),
    ("BREAK", "2024-10-29T09:00:00", "2024-10-29T09:15:00"),
    ("WORK", "2024-10-29T09:15:00", "2024-10-29T11:30:00"),
    ("BREAK", "2024-10-29T11:30:00", "2024-10-29T12:00:00"),
    ("WORK", "2024-10-29T12:00:00", "2024-10-29T14:00:00"),
]


def synced(
    book: Book, record: dict[str, Any], link: Link | None = None, overnight: str = "split"
) -> Link | None:
    """Plan and run one timer; the link it leaves."""
    plan = plan_timer(record, link, lookups(overnight=overnight))
    assert plan is not None
    return book.run(plan, link).link


def test_a_new_two_break_timer_creates_five_periods_in_timeline_order() -> None:
    book = Book()
    plan = plan_timer(TWO_BREAKS, None, lookups())
    assert plan is not None
    writes = plan.ops[:5]
    assert [(op.action, op.method, op.path) for op in writes] == [
        ("create", "POST", "/v2/attendance-periods")
    ] * 5
    assert all(op.params == {"skip_approval": "true"} for op in writes)
    assert rows(plan) == [("create", "5 periods")]  # one timer, one record action
    outcome = book.run(plan)
    assert book.rows("1001") == FIVE
    link = outcome.link
    assert link is not None
    assert link.fingerprint is not None
    assert link.data["person"] == "1001"
    assert link.data["starts_at"] == "2024-10-29T06:00:00+01:00"
    assert [(p["type"], p["start"], p["end"]) for p in link.data["periods"]] == FIVE
    assert [p["id"] for p in link.data["periods"]] == sorted(book.periods)
    assert link.dest_id == link.data["periods"][0]["id"]


def test_a_shift_across_midnight_is_one_period_of_its_two_days_when_sent_whole() -> None:
    book = Book()
    synced(book, timer(2, "2024-10-28 22:00", "2024-10-29 06:00"), overnight="whole")
    assert book.rows("1001") == [("WORK", "2024-10-28T22:00:00", "2024-10-29T06:00:00")]


def test_a_shift_across_the_dst_change_keeps_its_wall_clock_ends_when_sent_whole() -> None:
    book = Book()
    # 22:00 CEST to 06:00 CET: nine real hours, sent as the local times Personio wants.
    record = timer(3, "2024-10-26 22:00", "2024-10-27 06:00")
    assert record["starts_at"].endswith("+02:00")
    assert record["ends_at"].endswith("+01:00")
    synced(book, record, overnight="whole")
    assert book.rows("1001") == [("WORK", "2024-10-26T22:00:00", "2024-10-27T06:00:00")]


def test_an_unchanged_timer_plans_no_write() -> None:
    book = Book()
    link = synced(book, TWO_BREAKS)
    plan = plan_timer(TWO_BREAKS, link, lookups())
    assert plan is not None
    assert (plan.ops, plan.outcome) == ([], "unchanged")
    assert link is not None
    assert plan.dest_id == link.dest_id


def test_periods_found_in_personio_are_linked_not_created() -> None:
    book = Book()
    existing = [book.add("1001", kind, start, end) for kind, start, end in FIVE[:3]]
    found = {
        ("1001", kind, start, end): [pid]
        for pid, (kind, start, end) in zip(existing, FIVE, strict=False)
    }
    plan = plan_timer(TWO_BREAKS, None, lookups(found))
    assert plan is not None
    assert steps(plan) == ["link"] * 3 + ["create"] * 2
    assert [op.record_id for op in plan.ops[:3]] == existing
    assert not any(op.sends for op in plan.ops[:3])
    assert rows(plan) == [("create", "5 periods, 3 found in Personio and linked again")]
    outcome = book.run(plan)
    assert outcome.sent == ["POST /v2/attendance-periods"] * 2
    assert book.rows("1001") == FIVE
    assert outcome.link is not None
    assert [p["id"] for p in outcome.link.data["periods"][:3]] == existing


def test_a_timer_wholly_found_in_personio_sends_nothing() -> None:
    book = Book()
    existing = book.add("1001", "WORK", "2024-10-28T22:00:00", "2024-10-29T06:00:00")
    found = {("1001", "WORK", "2024-10-28T22:00:00", "2024-10-29T06:00:00"): [existing]}
    night = timer(2, "2024-10-28 22:00", "2024-10-29 06:00")
    plan = plan_timer(night, None, lookups(found, overnight="whole"))
    assert plan is not None
    assert not plan.writes
    assert steps(plan) == ["link"]
    assert rows(plan) == [("link", "1 period, 1 found in Personio and linked again")]
    outcome = book.run(plan)
    assert outcome.link is not None
    assert outcome.link.dest_id == existing


def test_a_found_period_is_linked_once_even_when_two_slots_match_its_key() -> None:
    found = {("1001", "WORK", "2024-10-29T08:00:00", "2024-10-29T12:00:00"): ["f1"]}
    look = lookups(found)
    first = plan_timer(timer(5, "2024-10-29 08:00", "2024-10-29 12:00"), None, look)
    assert first is not None
    assert first.ops[0].record_id == "f1"


def test_a_break_added_later_moves_one_period_and_creates_two() -> None:
    book = Book()
    link = synced(book, timer(30, "2024-10-29 08:00", "2024-10-29 16:00"))
    first_id = next(iter(book.periods))
    changed = timer(
        30, "2024-10-29 08:00", "2024-10-29 16:00", ("2024-10-29 12:00", "2024-10-29 12:30")
    )
    plan = plan_timer(changed, link, lookups())
    assert plan is not None
    assert steps(plan) == ["update", "create", "create"]
    assert rows(plan) == [("update", "3 periods")]
    outcome = book.run(plan, link)
    assert outcome.sent[0] == f"PATCH /v2/attendance-periods/{first_id}"
    assert book.rows("1001") == [
        ("WORK", "2024-10-29T08:00:00", "2024-10-29T12:00:00"),
        ("BREAK", "2024-10-29T12:00:00", "2024-10-29T12:30:00"),
        ("WORK", "2024-10-29T12:30:00", "2024-10-29T16:00:00"),
    ]
    assert outcome.link is not None
    assert [p["start"][11:16] for p in outcome.link.data["periods"]] == ["08:00", "12:00", "12:30"]
    assert {p["id"] for p in outcome.link.data["periods"]} == set(book.periods)
    again = plan_timer(changed, outcome.link, lookups())
    assert again is not None
    assert again.outcome == "unchanged"


def test_breaks_removed_later_delete_the_extra_periods_and_move_the_first() -> None:
    book = Book()
    link = synced(book, TWO_BREAKS)
    plan = plan_timer(timer(1, "2024-10-29 07:00", "2024-10-29 15:00"), link, lookups())
    assert plan is not None
    assert steps(plan) == ["delete"] * 4 + ["update"]
    outcome = book.run(plan, link)
    assert book.rows("1001") == [("WORK", "2024-10-29T07:00:00", "2024-10-29T15:00:00")]
    assert outcome.link is not None
    assert len(outcome.link.data["periods"]) == 1
    assert outcome.link.data["periods"][0]["id"] in book.periods


def shifted(hours: int) -> dict[str, Any]:
    def move(text: str) -> str:
        return (datetime.fromisoformat(text) + timedelta(hours=hours)).strftime("%Y-%m-%d %H:%M")

    return timer(
        1,
        move("2024-10-29 06:00"),
        move("2024-10-29 14:00"),
        (move("2024-10-29 09:00"), move("2024-10-29 09:15")),
        (move("2024-10-29 11:30"), move("2024-10-29 12:00")),
    )


@pytest.mark.parametrize("hours", [1, 3, -1, -3])
def test_a_shifted_timer_moves_every_period_without_one_overlapping_another(hours: int) -> None:
    book = Book()
    link = synced(book, TWO_BREAKS)
    plan = plan_timer(shifted(hours), link, lookups())
    assert plan is not None
    assert steps(plan) == ["update"] * 5
    starts = [op.body["start"]["date_time"] for op in plan.ops if op.sends]
    # later: last-first; earlier: first-first
    assert starts == sorted(starts, reverse=hours > 0)
    outcome = book.run(plan, link)
    assert not outcome.failed
    expected = sorted((kind, _shift(s, hours), _shift(e, hours)) for kind, s, e in FIVE)
    assert sorted(book.rows("1001")) == expected
    assert outcome.link is not None
    assert outcome.link.fingerprint is not None
    assert len(outcome.link.data["periods"]) == 5


def _shift(text: str, hours: int) -> str:
    return (datetime.fromisoformat(text) + timedelta(hours=hours)).isoformat()


def test_a_timer_whose_start_moves_earlier_and_end_later_moves_each_period_in_a_safe_order() -> (
    None
):
    book = Book()
    link = synced(book, TWO_BREAKS)
    wider = timer(
        1,
        "2024-10-29 05:00",
        "2024-10-29 15:00",
        ("2024-10-29 09:00", "2024-10-29 09:15"),
        ("2024-10-29 12:00", "2024-10-29 12:30"),
    )
    plan = plan_timer(wider, link, lookups())
    assert plan is not None
    outcome = book.run(plan, link)
    assert not outcome.failed
    assert book.rows("1001") == [
        ("WORK", "2024-10-29T05:00:00", "2024-10-29T09:00:00"),
        ("BREAK", "2024-10-29T09:00:00", "2024-10-29T09:15:00"),
        ("WORK", "2024-10-29T09:15:00", "2024-10-29T12:00:00"),
        ("BREAK", "2024-10-29T12:00:00", "2024-10-29T12:30:00"),
        ("WORK", "2024-10-29T12:30:00", "2024-10-29T15:00:00"),
    ]


def test_a_plan_stopped_halfway_leaves_a_link_with_each_period_where_it_really_is() -> None:
    book = Book()
    link = synced(book, TWO_BREAKS)
    plan = plan_timer(shifted(1), link, lookups())
    assert plan is not None
    book.refuse = {book.count + 3}  # the third PATCH is refused
    outcome = book.run(plan, link)
    assert outcome.failed
    assert outcome.link is not None
    assert outcome.link.fingerprint is None  # the next run plans again
    recorded = sorted((p["id"], p["start"], p["end"]) for p in outcome.link.data["periods"])
    actual = sorted((pid, p["start"], p["end"]) for pid, p in book.periods.items())
    assert recorded == actual
    book.refuse = set()
    retry = plan_timer(shifted(1), outcome.link, lookups())
    assert retry is not None
    assert steps(retry) == ["update"] * 3
    done = book.run(retry, outcome.link)
    assert not done.failed
    assert sorted(book.rows("1001")) == sorted((k, _shift(s, 1), _shift(e, 1)) for k, s, e in FIVE)


def test_a_new_timer_refused_halfway_links_the_periods_created_so_far() -> None:
    book = Book(refuse={3})
    plan = plan_timer(TWO_BREAKS, None, lookups())
    assert plan is not None
    outcome = book.run(plan)
    assert outcome.failed
    assert outcome.link is not None
    assert outcome.link.fingerprint is None
    assert [p["id"] for p in outcome.link.data["periods"]] == sorted(book.periods)
    retry = plan_timer(TWO_BREAKS, outcome.link, lookups())
    assert retry is not None
    assert steps(retry) == ["create"] * 3
    book.run(retry, outcome.link)
    assert book.rows("1001") == FIVE


def test_a_new_timer_refused_at_once_leaves_no_link() -> None:
    book = Book(refuse={1})
    plan = plan_timer(TWO_BREAKS, None, lookups())
    assert plan is not None
    assert book.run(plan).link is None


def test_a_timer_no_longer_verified_loses_its_periods_and_its_link() -> None:
    book = Book()
    link = synced(book, TWO_BREAKS)
    plan = plan_timer(dict(TWO_BREAKS, state="stopped"), link, lookups())
    assert plan is not None
    assert steps(plan) == ["delete"] * 5
    assert rows(plan) == [("delete", "the timer is not verified")]
    assert plan.drop_link
    assert link is not None
    assert plan.dest_id == link.dest_id
    outcome = book.run(plan, link)
    assert book.periods == {}
    assert outcome.link is None


def test_a_removal_refused_halfway_keeps_the_periods_left_in_the_link() -> None:
    book = Book()
    link = synced(book, TWO_BREAKS)
    book.refuse = {book.count + 3}
    plan = plan_timer(dict(TWO_BREAKS, state="stopped"), link, lookups())
    assert plan is not None
    outcome = book.run(plan, link)
    assert outcome.link is not None
    assert [p["id"] for p in outcome.link.data["periods"]] == sorted(book.periods)
    assert len(book.periods) == 3


def test_a_timer_moved_to_another_person_is_deleted_then_created_for_the_new_one() -> None:
    book = Book()
    link = synced(book, TWO_BREAKS)
    plan = plan_timer(dict(TWO_BREAKS, user_id=502), link, lookups())
    assert plan is not None
    assert steps(plan) == ["delete"] * 5 + ["create"] * 5
    assert rows(plan) == [("delete", "the timer moved to another person"), ("create", "5 periods")]
    outcome = book.run(plan, link)
    assert book.rows("1001") == []
    assert book.rows("1002") == FIVE
    assert outcome.link is not None
    assert outcome.link.data["person"] == "1002"


@pytest.mark.parametrize(
    ("record", "outcome", "words"),
    [
        (timer(10, "2024-10-30 11:00", None, state="running"), "skip", "still running"),
        (
            timer(11, "2024-10-29 15:00", "2024-10-29 17:00", state="stopped"),
            "skip",
            "not verified",
        ),
        (timer(12, "2024-10-30 08:00", "2024-10-30 12:30"), "skip", "settle_minutes"),
        (dict(timer(14, "2024-10-29 08:00", "2024-10-29 12:00"), user_id=590), "skip", "user 590"),
        (
            dict(timer(15, "2024-10-29 08:00", "2024-10-29 12:00"), user_id=999),
            "skip",
            "users stream",
        ),
        ({"id": 16, "ends_at": at("2024-10-29 12:00")}, "skip", "no start"),
        (timer(17, "2024-10-28 06:00", "2024-10-29 08:00"), "fail", "not sent: a WORK period"),
        (timer(18, "2024-10-29 12:00", "2024-10-29 08:00"), "fail", "ends before it starts"),
    ],
)
def test_a_timer_that_cannot_be_sent_is_skipped_or_failed_with_its_reason(
    record: dict[str, Any], outcome: str, words: str
) -> None:
    plan = plan_timer(record, None, lookups())
    assert plan is not None
    assert (plan.outcome, plan.ops) == (outcome, [])
    assert words in plan.reason


def test_a_timer_before_the_window_is_left_alone() -> None:
    old = timer(13, "2024-10-20 08:00", "2024-10-20 12:00")
    assert plan_timer(old, None, lookups()) is None


def test_stopped_timers_are_planned_when_verification_is_not_required() -> None:
    record = timer(11, "2024-10-29 15:00", "2024-10-29 17:00", state="stopped")
    plan = plan_timer(record, None, lookups(only_verified=False))
    assert plan is not None
    assert steps(plan) == ["create"]


def test_skip_approval_false_leaves_periods_for_approval() -> None:
    look = TimerLookups(lookups().people, BERLIN, lookups().when, skip_approval=False)
    plan = plan_timer(TWO_BREAKS, None, look)
    assert plan is not None
    assert {op.params["skip_approval"] for op in plan.ops if op.params} == {"false"}


def test_vanished_timers_inside_the_window_lose_their_periods() -> None:
    book = Book()
    seen = synced(book, timer(1, "2024-10-29 08:00", "2024-10-29 12:00"))
    gone = synced(book, timer(2, "2024-10-28 08:00", "2024-10-28 12:00"))
    assert seen is not None
    assert gone is not None
    old = Link("x", "fp", NOW, dict(gone.data, starts_at="2024-10-01T08:00:00+02:00"))
    undated = Link("y", "fp", NOW, {"periods": [{"id": "y"}]})
    links = {"1": seen, "2": gone, "3": old, "4": undated}
    plans = plan_vanished_timers(links, {"1"}, NOW - timedelta(days=7))
    assert [(p.source_id, p.reason) for p in plans] == [
        ("2", "the timer no longer exists in Staffomatic")
    ]
    book.run(plans[0], gone)
    assert book.rows("1001") == [("WORK", "2024-10-29T08:00:00", "2024-10-29T12:00:00")]


def test_a_link_without_fingerprint_whose_periods_are_right_is_only_marked_done() -> None:
    book = Book()
    link = synced(book, TWO_BREAKS)
    assert link is not None
    unsure = Link(link.dest_id, None, link.updated_at, link.data)
    plan = plan_timer(TWO_BREAKS, unsure, lookups())
    assert plan is not None
    assert (plan.outcome, steps(plan)) == ("unchanged", [])
    outcome = book.run(plan, unsure)
    assert outcome.link is not None
    assert outcome.link.fingerprint == link.fingerprint
    assert outcome.link.data == link.data


def test_a_new_break_whose_periods_personio_holds_already_is_linked() -> None:
    book = Book()
    link = synced(book, timer(30, "2024-10-29 08:00", "2024-10-29 16:00"))
    changed = timer(
        30, "2024-10-29 08:00", "2024-10-29 16:00", ("2024-10-29 12:00", "2024-10-29 12:30")
    )
    # a lost answer: the BREAK was created in Personio, the link never heard of it
    lost = book.add("1001", "BREAK", "2024-10-29T12:00:00", "2024-10-29T12:30:00")
    found = {("1001", "BREAK", "2024-10-29T12:00:00", "2024-10-29T12:30:00"): [lost]}
    plan = plan_timer(changed, link, lookups(found))
    assert plan is not None
    assert steps(plan) == ["update", "create", "link"]
    outcome = book.run(plan, link)
    assert not outcome.failed
    assert len(book.periods) == 3
    assert outcome.link is not None
    assert lost in {p["id"] for p in outcome.link.data["periods"]}
