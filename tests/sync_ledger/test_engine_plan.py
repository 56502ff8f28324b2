"""The plan's data shape: slots, placeholders, link data, and the vocabulary it accepts."""

from __future__ import annotations

import pytest
from sync_ledger import ACTIONS
from sync_ledger.engine import (
    AnswerLost,
    LinkPlan,
    Op,
    Plan,
    Ref,
    UnfilledSlot,
    advance,
    fill_data,
    fill_path,
)
from sync_ledger.engine.vocabulary import LINK, OUTCOMES, WRITE_ACTIONS


def test_the_ledger_accepts_every_action_an_op_or_outcome_records() -> None:
    assert LINK in ACTIONS
    assert set(WRITE_ACTIONS) <= set(ACTIONS)
    assert {"skip", "fail"} <= set(ACTIONS)
    assert set(OUTCOMES) == {"unchanged", "skip", "fail"}


def test_unknown_actions_and_outcomes_are_refused() -> None:
    with pytest.raises(ValueError, match="unknown op action"):
        Op("adopt", "POST", "/x")
    with pytest.raises(ValueError, match="unknown outcome"):
        Plan("employee", "1", outcome="done")


def test_a_create_fills_its_slot_and_feeds_the_paths_of_later_ops() -> None:
    create = Op("create", "POST", "/locations/3/users.json", {"email": "a@b.example"})
    lock = Op("lock", "PUT", "/locations/3/users/{id}.json", {"do": "lock"})
    ids: dict[str, int | str] = {}
    with pytest.raises(UnfilledSlot):
        lock.target(ids)
    advance(ids, create, 77)
    assert lock.target(ids) == "/locations/3/users/77.json"


def test_named_slots_serve_several_created_records_of_one_source_record() -> None:
    ops = [Op("create", "POST", "/v1/attendances", ref=f"p{i}") for i in range(2)]
    ids: dict[str, int | str] = {}
    advance(ids, ops[0], "a1")
    advance(ids, ops[1], "a2")
    assert ids == {"p0": "a1", "p1": "a2"}
    assert fill_path("/v2/attendance-periods/{p1}", ids) == "/v2/attendance-periods/a2"


def test_a_link_op_sends_nothing_and_fills_its_slot_with_the_found_record() -> None:
    found = Op("link", ref="p0", record_id="f9", reason="found in Personio")
    assert not found.sends
    ids: dict[str, int | str] = {}
    advance(ids, found)
    assert ids == {"p0": "f9"}
    plan = Plan("work_timers", "21", ops=[found])
    assert not plan.writes


def test_a_delete_empties_its_slot() -> None:
    ids: dict[str, int | str] = {"old": "x1", "p0": "a1"}
    advance(ids, Op("delete", "DELETE", "/v2/attendance-periods/{old}", drops=("old",)))
    assert ids == {"p0": "a1"}


def test_an_answer_without_id_leaves_the_slot_empty() -> None:
    ids: dict[str, int | str] = {}
    advance(ids, Op("create", "POST", "/x"), None)
    assert ids == {}


def test_link_data_takes_the_ids_of_the_records_that_exist() -> None:
    data = {
        "person": "5",
        "first": Ref("p0"),
        "periods": [
            {"id": Ref("p0"), "start": "08:00"},
            {"id": Ref("p1"), "start": "12:30"},
            {"id": "kept", "start": "13:00"},
        ],
    }
    assert fill_data(data, {"p0": "a1"}) == {
        "person": "5",
        "first": "a1",
        "periods": [{"id": "a1", "start": "08:00"}, {"id": "kept", "start": "13:00"}],
    }
    assert fill_data(data, {})["first"] is None


def test_a_plan_names_its_destination_record_by_a_slot() -> None:
    plan = Plan("employee", "9", link=LinkPlan("fp", {"location_id": 3}))
    assert plan.dest_id is None
    plan.dest_id = 12
    assert plan.ids == {"id": 12}
    timer = Plan("work_timers", "21", ids={"p0": "a1"}, dest_slot="p0")
    assert timer.dest_id == "a1"
    plan.dest_id = None
    assert plan.ids == {}


def test_answer_lost_is_an_exception_the_destination_raises() -> None:
    with pytest.raises(AnswerLost, match="timed out"):
        raise AnswerLost("POST /v1/attendances timed out")
