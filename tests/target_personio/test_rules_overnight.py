"""plan_timer with overnight_periods: night shifts split at local midnight or sent whole, changed
timers reconciling their pieces, and links rebuilt after a lost ledger from either form.

Each plan runs against the in-memory Personio of :mod:`tests.target_personio.plans`, which refuses
overlapping periods as Personio does."""

from __future__ import annotations

from typing import Any

import pytest
from sync_ledger import Link
from target_personio.rules import plan_timer

from tests.target_personio.plans import Book, rows, steps
from tests.target_personio.test_rules_timers import lookups, synced, timer

NIGHT = timer(2, "2024-10-28 22:00", "2024-10-29 06:00")
SPLIT = [
    ("WORK", "2024-10-28T22:00:00", "2024-10-29T00:00:00"),
    ("WORK", "2024-10-29T00:00:00", "2024-10-29T06:00:00"),
]
WHOLE = [("WORK", "2024-10-28T22:00:00", "2024-10-29T06:00:00")]
WITH_BREAK = timer(
    4, "2024-10-28 23:00", "2024-10-29 07:00", ("2024-10-28 23:45", "2024-10-29 00:15")
)
WITH_BREAK_SPLIT = [
    ("WORK", "2024-10-28T23:00:00", "2024-10-28T23:45:00"),
    ("BREAK", "2024-10-28T23:45:00", "2024-10-29T00:00:00"),
    ("BREAK", "2024-10-29T00:00:00", "2024-10-29T00:15:00"),
    ("WORK", "2024-10-29T00:15:00", "2024-10-29T07:00:00"),
]
WITH_BREAK_WHOLE = [
    ("WORK", "2024-10-28T23:00:00", "2024-10-28T23:45:00"),
    ("BREAK", "2024-10-28T23:45:00", "2024-10-29T00:15:00"),
    ("WORK", "2024-10-29T00:15:00", "2024-10-29T07:00:00"),
]
FORMS = {"split": (SPLIT, WITH_BREAK_SPLIT), "whole": (WHOLE, WITH_BREAK_WHOLE)}


def held(book: Book, person: str, periods: list[tuple[str, str, str]]) -> dict[Any, list[str]]:
    """Periods Personio holds (added to the book) as the found index: after a lost ledger."""
    return {
        (person, kind, start, end): [book.add(person, kind, start, end)]
        for kind, start, end in periods
    }


def linked(link: Link | None) -> list[tuple[str, str, str]]:
    assert link is not None
    return [(p["type"], p["start"], p["end"]) for p in link.data["periods"]]


def test_split_is_the_default_and_creates_one_period_per_day() -> None:
    book = Book()
    plan = plan_timer(NIGHT, None, lookups())
    assert plan is not None
    assert steps(plan) == ["create", "create"]
    assert rows(plan) == [("create", "2 periods")]
    link = book.run(plan).link
    assert book.rows("1001") == SPLIT
    assert linked(link) == SPLIT
    again = plan_timer(NIGHT, link, lookups())
    assert again is not None
    assert again.outcome == "unchanged"


@pytest.mark.parametrize("form", ["split", "whole"])
def test_a_break_across_midnight_becomes_the_periods_of_the_form(form: str) -> None:
    book = Book()
    link = synced(book, WITH_BREAK, overnight=form)
    assert book.rows("1001") == FORMS[form][1]
    assert linked(link) == FORMS[form][1]


def test_a_night_shift_that_grows_past_midnight_gets_a_second_piece_and_loses_it_again() -> None:
    book = Book()
    evening = timer(2, "2024-10-28 18:00", "2024-10-28 23:30")
    link = synced(book, evening)
    first = next(iter(book.periods))
    plan = plan_timer(NIGHT, link, lookups())
    assert plan is not None
    assert steps(plan) == ["update", "create"]
    outcome = book.run(plan, link)
    assert not outcome.failed
    assert book.rows("1001") == SPLIT
    assert first in book.periods  # moved, not deleted and created again
    assert linked(outcome.link) == SPLIT
    back = plan_timer(evening, outcome.link, lookups())
    assert back is not None
    assert steps(back) == ["delete", "update"]
    done = book.run(back, outcome.link)
    assert book.rows("1001") == [("WORK", "2024-10-28T18:00:00", "2024-10-28T23:30:00")]
    assert linked(done.link) == book.rows("1001")


def test_a_split_night_shift_shifted_later_moves_both_pieces_without_overlap() -> None:
    book = Book()
    link = synced(book, NIGHT)
    later = timer(2, "2024-10-28 23:00", "2024-10-29 07:00")
    plan = plan_timer(later, link, lookups())
    assert plan is not None
    assert steps(plan) == ["update", "update"]
    outcome = book.run(plan, link)
    assert not outcome.failed
    assert book.rows("1001") == [
        ("WORK", "2024-10-28T23:00:00", "2024-10-29T00:00:00"),
        ("WORK", "2024-10-29T00:00:00", "2024-10-29T07:00:00"),
    ]
    assert len(book.periods) == 2


@pytest.mark.parametrize(("was", "now"), [("whole", "split"), ("split", "whole")])
def test_changing_the_setting_reconciles_linked_periods_to_the_new_form(was: str, now: str) -> None:
    book = Book()
    link = synced(book, WITH_BREAK, overnight=was)
    plan = plan_timer(WITH_BREAK, link, lookups(overnight=now))
    assert plan is not None
    outcome = book.run(plan, link)
    assert not outcome.failed
    assert book.rows("1001") == FORMS[now][1]
    assert outcome.link is not None
    assert linked(outcome.link) == FORMS[now][1]
    assert {p["id"] for p in outcome.link.data["periods"]} == set(book.periods)


@pytest.mark.parametrize("form", ["split", "whole"])
def test_after_a_lost_ledger_periods_held_in_the_same_form_are_linked_and_nothing_sent(
    form: str,
) -> None:
    book = Book()
    found = held(book, "1001", FORMS[form][1])
    plan = plan_timer(WITH_BREAK, None, lookups(found, overnight=form))
    assert plan is not None
    assert not plan.writes
    assert steps(plan) == ["link"] * len(FORMS[form][1])
    outcome = book.run(plan)
    assert book.rows("1001") == FORMS[form][1]
    assert outcome.link is not None
    assert {p["id"] for p in outcome.link.data["periods"]} == set(book.periods)


@pytest.mark.parametrize(("held_form", "asked"), [("whole", "split"), ("split", "whole")])
def test_after_a_lost_ledger_periods_held_in_the_other_form_are_linked_then_reconciled(
    held_form: str, asked: str
) -> None:
    book = Book()
    found = held(book, "1001", FORMS[held_form][1])
    before = set(book.periods)
    plan = plan_timer(WITH_BREAK, None, lookups(found, overnight=asked))
    assert plan is not None
    links = [op.record_id for op in plan.ops if op.action == "link" and op.record_id]
    assert set(links) == before  # every period Personio holds is linked, none created again
    outcome = book.run(plan)
    assert not outcome.failed
    assert book.rows("1001") == FORMS[asked][1]
    assert outcome.link is not None
    assert linked(outcome.link) == FORMS[asked][1]
    assert {p["id"] for p in outcome.link.data["periods"]} == set(book.periods)
    kept = before & set(book.periods)
    assert len(kept) == min(len(FORMS[held_form][1]), len(FORMS[asked][1]))
    again = plan_timer(WITH_BREAK, outcome.link, lookups(overnight=asked))
    assert again is not None
    assert again.outcome == "unchanged"


def test_a_whole_period_found_for_a_split_timer_is_linked_and_cut_not_created_beside() -> None:
    book = Book()
    found = held(book, "1001", WHOLE)
    (whole_id,) = book.periods
    plan = plan_timer(NIGHT, None, lookups(found))
    assert plan is not None
    assert steps(plan) == ["link", "update", "create"]
    assert rows(plan) == [("update", "2 periods, 1 found in Personio and linked again")]
    outcome = book.run(plan)
    assert outcome.sent == [
        f"PATCH /v2/attendance-periods/{whole_id}",
        "POST /v2/attendance-periods",
    ]
    assert book.rows("1001") == SPLIT


def test_split_pieces_partly_found_link_what_is_there_and_create_the_rest() -> None:
    book = Book()
    found = held(book, "1001", SPLIT[:1])
    plan = plan_timer(NIGHT, None, lookups(found))
    assert plan is not None
    assert steps(plan) == ["link", "create"]
    book.run(plan)
    assert book.rows("1001") == SPLIT
