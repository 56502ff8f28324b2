"""plan_absence and plan_vanished_absences: an absence, look-ups and its link in, a plan out."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import UTC, date, datetime
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from sync_ledger import Link
from target_personio import mapping
from target_personio.rules import AbsenceLookups, AbsenceTypes, People, plan_absence
from target_personio.rules.absences import (
    APPROVED_AGAIN,
    CHANGED_APPROVED,
    LEFT_PENDING,
    PENDING_AGAIN,
    AbsenceWindow,
    plan_vanished_absences,
)

from tests.target_personio.plans import rows, steps

BERLIN = ZoneInfo("Europe/Berlin")
NOW = datetime(2024, 10, 30, 12, 0, tzinfo=UTC)
USERS = {"501": ("1001", "anna@x.example"), "502": ("1002", "")}
EMPLOYEES = [{"id": 1001}, {"id": 1002}]
PERSONIO_TYPES = [{"id": "t-vac", "name": "Vacation"}, {"id": "t-train", "name": "Training"}]
STAFFOMATIC_TYPES = {"71": "Vacation", "73": "training", "74": "Sabbatical"}


def at(text: str) -> str:
    return datetime.fromisoformat(text).replace(tzinfo=BERLIN).isoformat()


def absence(
    aid: int, start: str, end: str, state: str = "approved", **extra: Any
) -> dict[str, Any]:
    return {
        "id": aid,
        "user_id": 501,
        "absence_type_id": 71,
        "absence_type_name": "Vacation",
        "starts_at": at(start),
        "ends_at": at(end),
        "all_day": True,
        "state": state,
        **extra,
    }


def lookups(
    found: Mapping[tuple[str, ...], Sequence[str]] | None = None,
    type_map: Mapping[str, str] | None = None,
    start_date: date | None = None,
    **settings: Any,
) -> AbsenceLookups:
    return AbsenceLookups(
        people=People(USERS, EMPLOYEES),
        types=AbsenceTypes(PERSONIO_TYPES, STAFFOMATIC_TYPES, type_map),
        zone=BERLIN,
        window=AbsenceWindow.around(date(2024, 10, 30), 60, 365, start_date),
        found=lambda: found or {},
        **settings,
    )


VACATION = absence(1, "2024-11-04 00:00", "2024-11-06 23:59")
BODY = {
    "person": {"id": "1001"},
    "absence_type": {"id": "t-vac"},
    "starts_from": {"date_time": "2024-11-04T00:00:00", "type": "FIRST_HALF"},
    "ends_at": {"date_time": "2024-11-06T00:00:00", "type": "SECOND_HALF"},
}


def link_of(plan: Any, dest: str = "p-1") -> Link:
    return Link(dest, plan.link.fingerprint, NOW, dict(plan.link.data))


def test_an_approved_absence_is_created_approved() -> None:
    plan = plan_absence(VACATION, None, lookups())
    assert plan is not None
    [op] = plan.ops
    assert (op.action, op.method, op.path) == ("create", "POST", "/v2/absence-periods")
    assert op.body == BODY
    assert op.params == {"skip_approval": "true"}
    assert plan.link is not None
    assert plan.link.data == {
        "person": "1001",
        "approved": True,
        "starts": "2024-11-04T00:00:00",
        "ends": "2024-11-06T00:00:00",
    }


def test_an_absence_found_in_personio_is_linked_not_created() -> None:
    key = (
        "1001",
        "t-vac",
        "2024-11-04T00:00:00",
        "FIRST_HALF",
        "2024-11-06T00:00:00",
        "SECOND_HALF",
    )
    plan = plan_absence(VACATION, None, lookups({key: ["p-9"]}))
    assert plan is not None
    [op] = plan.ops
    assert (op.action, op.sends, op.record_id) == ("link", False, "p-9")
    assert "found in Personio" in op.reason


def test_an_unchanged_absence_plans_no_write() -> None:
    first = plan_absence(VACATION, None, lookups())
    assert first is not None
    plan = plan_absence(VACATION, link_of(first), lookups())
    assert plan is not None
    assert (plan.ops, plan.outcome, plan.dest_id) == ([], "unchanged", "p-1")


def test_a_changed_approved_absence_is_deleted_and_created_again_approved() -> None:
    # Personio documents skip_approval on create only: no PATCH could keep it approved
    first = plan_absence(VACATION, None, lookups())
    assert first is not None
    longer = dict(VACATION, ends_at=at("2024-11-08 23:59"))
    plan = plan_absence(longer, link_of(first), lookups())
    assert plan is not None
    assert plan.ids == {"old": "p-1"}
    assert [(op.method, op.target(plan.ids), op.params) for op in plan.ops if op.sends] == [
        ("DELETE", "/v2/absence-periods/p-1", None),
        ("POST", "/v2/absence-periods", {"skip_approval": "true"}),
    ]
    assert plan.ops[1].body["ends_at"]["date_time"] == "2024-11-08T00:00:00"
    assert rows(plan) == [("update", CHANGED_APPROVED)]
    assert plan.link is not None
    assert plan.link.data["ends"] == "2024-11-08T00:00:00"


def test_a_changed_pending_absence_is_patched_in_place_without_person_or_skip_approval() -> None:
    pending = dict(VACATION, state="new")
    first = plan_absence(pending, None, lookups(only_approved=False))
    assert first is not None
    longer = dict(pending, ends_at=at("2024-11-08 23:59"))
    plan = plan_absence(longer, link_of(first), lookups(only_approved=False))
    assert plan is not None
    [op] = plan.ops
    assert (op.action, op.method, op.target(plan.ids), op.params) == (
        "update",
        "PATCH",
        "/v2/absence-periods/p-1",
        None,  # skip_approval is not documented on this PATCH
    )
    assert "person" not in op.body
    assert op.body["ends_at"]["date_time"] == "2024-11-08T00:00:00"
    assert rows(plan) == [("update", "")]


def test_a_changed_absence_with_skip_approval_off_is_patched_and_may_need_approval_again() -> None:
    look = lookups(skip_approval=False)
    first = plan_absence(VACATION, None, look)
    assert first is not None
    assert first.ops[0].params == {"skip_approval": "false"}
    longer = dict(VACATION, ends_at=at("2024-11-08 23:59"))
    plan = plan_absence(longer, link_of(first), look)
    assert plan is not None
    [op] = plan.ops
    assert (op.method, op.params) == ("PATCH", None)
    assert rows(plan) == [("update", PENDING_AGAIN)]


def test_a_changed_approved_absence_personio_holds_already_in_its_new_form_is_linked() -> None:
    # The run stopped after the create took effect: the link still names the deleted period.
    first = plan_absence(VACATION, None, lookups())
    assert first is not None
    longer = dict(VACATION, ends_at=at("2024-11-08 23:59"))
    body = dict(BODY, ends_at={"date_time": "2024-11-08T00:00:00", "type": "SECOND_HALF"})
    found = {mapping.absence_key(body): ["p-2"]}
    plan = plan_absence(longer, link_of(first), lookups(found))
    assert plan is not None
    assert steps(plan) == ["delete", "link"]
    assert [op.record_id for op in plan.ops if op.action == "link"] == ["p-2"]


def test_a_pending_absence_approved_later_is_deleted_and_created_again_approved() -> None:
    pending = dict(VACATION, state="new")
    first = plan_absence(pending, None, lookups(only_approved=False))
    assert first is not None
    assert first.ops[0].params == {"skip_approval": "false"}
    plan = plan_absence(VACATION, link_of(first), lookups(only_approved=False))
    assert plan is not None
    assert plan.ids == {"old": "p-1"}
    assert [(op.method, op.path, op.params) for op in plan.ops if op.sends] == [
        ("DELETE", "/v2/absence-periods/{old}", None),
        ("POST", "/v2/absence-periods", {"skip_approval": "true"}),
    ]
    assert plan.ops[1].body == BODY
    assert not any(op.method == "PATCH" for op in plan.ops)  # no undocumented approval call
    assert rows(plan) == [("approve", APPROVED_AGAIN)]
    assert "deleted and created again" in APPROVED_AGAIN
    assert plan.link is not None
    assert plan.link.data["approved"] is True


def test_an_approval_whose_new_period_personio_holds_already_links_it() -> None:
    # The run stopped after the create took effect: the link still names the deleted period.
    pending = dict(VACATION, state="new")
    first = plan_absence(pending, None, lookups(only_approved=False))
    assert first is not None
    found = {mapping.absence_key(BODY): ["p-2"]}
    plan = plan_absence(VACATION, link_of(first), lookups(found, only_approved=False))
    assert plan is not None
    assert steps(plan) == ["delete", "link"]
    assert [op.record_id for op in plan.ops if op.action == "link"] == ["p-2"]
    assert [op.method for op in plan.ops if op.sends] == ["DELETE"]


def test_an_approval_with_skip_approval_off_is_left_pending_and_says_so() -> None:
    pending = dict(VACATION, state="new")
    look = lookups(only_approved=False, skip_approval=False)
    first = plan_absence(pending, None, look)
    assert first is not None
    plan = plan_absence(VACATION, link_of(first), look)
    assert plan is not None
    [op] = plan.ops
    assert (op.action, op.method, op.params) == ("update", "PATCH", None)
    assert rows(plan) == [("update", LEFT_PENDING)]


def test_an_absence_moved_to_another_person_is_deleted_and_created_again() -> None:
    first = plan_absence(VACATION, None, lookups())
    assert first is not None
    plan = plan_absence(dict(VACATION, user_id=502), link_of(first), lookups())
    assert plan is not None
    assert [(op.action, op.method) for op in plan.ops[:2]] == [
        ("delete", "DELETE"),
        ("create", "POST"),
    ]
    assert rows(plan) == [("update", "the absence moved to another person")]
    assert plan.ops[0].target(plan.ids) == "/v2/absence-periods/p-1"
    assert plan.ops[1].body["person"] == {"id": "1002"}


def test_a_declined_absence_loses_its_period_and_its_link() -> None:
    first = plan_absence(VACATION, None, lookups())
    assert first is not None
    plan = plan_absence(dict(VACATION, state="declined"), link_of(first), lookups())
    assert plan is not None
    assert steps(plan) == ["delete"]
    assert rows(plan) == [("delete", "the absence was declined")]
    op = plan.ops[0]
    assert (op.action, op.target(plan.ids)) == ("delete", "/v2/absence-periods/p-1")
    assert plan.drop_link
    assert plan.reason == "the absence was declined"
    assert plan.dest_id == "p-1"


@pytest.mark.parametrize(
    ("record", "words"),
    [
        (dict(VACATION, state="declined"), "declined"),
        (dict(VACATION, state="new"), "the absence is new, not approved"),
        (dict(VACATION, state=None), "without state"),
        (dict(VACATION, user_id=999), "user 999 is not in the users stream"),
        (dict(VACATION, starts_at=None), "no start or no end"),
        (dict(VACATION, starts_at="2024-11-04T00:00:00"), "has no offset"),
    ],
)
def test_an_absence_that_is_not_sent_is_skipped_with_its_reason(
    record: dict[str, Any], words: str
) -> None:
    plan = plan_absence(record, None, lookups())
    assert plan is not None
    assert (plan.outcome, plan.ops) == ("skip", [])
    assert words in plan.reason


def test_an_absence_ending_before_it_starts_fails_and_is_queued() -> None:
    record = dict(VACATION, starts_at=at("2024-11-06 00:00"), ends_at=at("2024-11-04 00:00"))
    plan = plan_absence(record, None, lookups())
    assert plan is not None
    assert plan.outcome == "fail"
    assert plan.reason == "not sent: the absence ends before it starts"


def test_an_absence_type_without_counterpart_is_held_back_by_name() -> None:
    record = dict(VACATION, absence_type_id=74, absence_type_name="Sabbatical")
    plan = plan_absence(record, None, lookups())
    assert plan is not None
    assert (plan.outcome, plan.held_back) == ("skip", "Sabbatical")
    assert plan.reason == "absence type 'Sabbatical' not in Personio"


def test_absence_types_match_by_name_case_insensitively_by_id_and_through_the_map() -> None:
    course = dict(VACATION, absence_type_id=73, absence_type_name=None)
    plan = plan_absence(course, None, lookups())
    assert plan is not None
    assert plan.ops[0].body["absence_type"] == {"id": "t-train"}
    mapped = dict(VACATION, absence_type_id=74, absence_type_name="Sabbatical")
    plan = plan_absence(mapped, None, lookups(type_map={"sabbatical ": "Vacation"}))
    assert plan is not None
    assert plan.ops[0].body["absence_type"] == {"id": "t-vac"}
    plan = plan_absence(mapped, None, lookups(type_map={"74": "t-train"}))
    assert plan is not None
    assert plan.ops[0].body["absence_type"] == {"id": "t-train"}


def test_absences_outside_the_window_or_before_start_date_are_left_alone() -> None:
    old = absence(7, "2024-08-01 00:00", "2024-08-02 23:59")
    far = absence(8, "2025-11-01 00:00", "2025-11-02 23:59")
    for record in (old, far):  # nothing is written; the run log says why (issue 12)
        plan = plan_absence(record, None, lookups())
        assert plan is not None
        assert (plan.outcome, plan.ops) == ("skip", [])
        assert plan.reason.startswith("the absence lies outside the sync window (")
    early = absence(9, "2024-10-01 00:00", "2024-10-02 23:59")
    inside = plan_absence(early, None, lookups())
    assert inside is not None
    assert inside.ops
    before_start = plan_absence(early, None, lookups(start_date=date(2024, 10, 15)))
    assert before_start is not None
    assert (before_start.outcome, before_start.ops) == ("skip", [])


def test_a_part_day_absence_across_midnight_in_local_time_keeps_its_days() -> None:
    night = absence(10, "2024-11-07 22:00", "2024-11-08 02:00", all_day=False)
    plan = plan_absence(night, None, lookups())
    assert plan is not None
    body = plan.ops[0].body
    assert (body["starts_from"]["date_time"], body["starts_from"]["type"]) == (
        "2024-11-07T00:00:00",
        "SECOND_HALF",
    )
    assert (body["ends_at"]["date_time"], body["ends_at"]["type"]) == (
        "2024-11-08T00:00:00",
        "FIRST_HALF",
    )


def test_vanished_absences_inside_the_window_lose_their_periods() -> None:
    inside = Link("p-1", "fp", NOW, {"starts": "2024-11-04T00:00:00", "ends": "2024-11-06"})
    before = Link("p-2", "fp", NOW, {"starts": "2024-07-01T00:00:00", "ends": "2024-07-02"})
    links = {"1": inside, "2": before, "3": inside}
    window = AbsenceWindow.around(date(2024, 10, 30), 60, 365)
    plans = plan_vanished_absences(links, {"3"}, window)
    assert [(p.source_id, p.reason) for p in plans] == [
        ("1", "the absence no longer exists in Staffomatic")
    ]
    assert plans[0].ops[0].target(plans[0].ids) == "/v2/absence-periods/p-1"
    assert plans[0].drop_link
