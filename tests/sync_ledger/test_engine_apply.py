"""The applier: ops in order, ids feeding later ops, dry run, lost answers, 404 on delete."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import pytest
from sync_ledger.engine import AnswerLost, DestId, Op, Plan
from sync_ledger.engine.apply import ABSENT, Applier, Found, Verdict, stop_error


class Refused(Exception):
    def __init__(self, status: int) -> None:
        super().__init__(f"HTTP {status}")
        self.status = status


class Stop(Refused):
    pass


class FakeDestination:
    """Records what was sent; answers are scripted per path."""

    refusals: tuple[type[Exception], ...] = (Refused,)
    stops: tuple[type[Exception], ...] = (Stop,)

    def __init__(self) -> None:
        self.sent: list[tuple[str, str]] = []
        self.script: dict[str, list[Any]] = {}
        self.verdict: Verdict = None
        self.next_id = 100

    def send(self, op: Op, path: str) -> Any:
        self.sent.append((op.method, path))
        queued = self.script.get(path)
        if queued:
            answer = queued.pop(0)
            if isinstance(answer, Exception):
                raise answer
            return answer
        if op.method == "POST":
            self.next_id += 1
            return {"id": self.next_id}
        return {}

    def created_id(self, op: Op, answer: Any) -> DestId | None:
        return answer.get("id") if isinstance(answer, dict) else None

    def status(self, error: Exception) -> int | None:
        return getattr(error, "status", None)

    def find(self, plan: Plan, op: Op, path: str, ids: Mapping[str, DestId]) -> Verdict:
        return self.verdict

    def pretend(self, plan: Plan, op: Op, ids: Mapping[str, DestId], new_id: DestId | None) -> Any:
        return {"id": new_id, "dry": True}


@pytest.fixture
def dest() -> FakeDestination:
    return FakeDestination()


def user_plan(sid: str = "1") -> Plan:
    return Plan(
        "employee",
        sid,
        ops=[
            Op("create", "POST", "/locations/3/users.json", {"email": "x@y.example"}),
            Op("lock", "PUT", "/locations/3/users/{id}.json", {"do": "lock"}),
        ],
    )


def test_a_created_id_feeds_the_later_ops_of_the_plan(dest: FakeDestination) -> None:
    with_applier = Applier(dest)
    (done,) = with_applier.apply([user_plan()])
    with_applier.close()
    assert dest.sent == [
        ("POST", "/locations/3/users.json"),
        ("PUT", "/locations/3/users/101.json"),
    ]
    assert done.dest_id == 101
    assert [op.action for op, _ in done.done] == ["create", "lock"]
    assert done.error is None


def test_plans_run_in_parallel_but_results_keep_their_order(dest: FakeDestination) -> None:
    applier = Applier(dest, workers=3)
    plans = [user_plan(str(i)) for i in range(6)] + [Plan("employee", "u", outcome="unchanged")]
    results = applier.apply(plans)
    applier.close()
    assert [r.plan.source_id for r in results] == [*(str(i) for i in range(6)), "u"]
    assert len(dest.sent) == 12
    assert sorted(r.dest_id for r in results[:6]) == list(range(101, 107))  # type: ignore[type-var]
    assert results[6].done == []


def test_the_dry_run_executes_the_plan_without_sending(dest: FakeDestination) -> None:
    applier = Applier(dest, dry_run=True)
    first, second = applier.apply([user_plan("a"), user_plan("b")])
    applier.close()
    assert dest.sent == []
    assert (first.dest_id, second.dest_id) == (-1, -2)
    assert [op.action for op, _ in first.done] == ["create", "lock"]
    assert first.done[0][1] == {"id": -1, "dry": True}


def test_a_refusal_stops_the_plan_and_names_the_failed_op(dest: FakeDestination) -> None:
    dest.script["/locations/3/users.json"] = [Refused(422)]
    applier = Applier(dest)
    (result,) = applier.apply([user_plan()])
    assert result.done == []
    assert result.failure == "create failed: HTTP 422"
    assert not result.stops_run
    assert stop_error([result]) is None


def test_an_error_that_needs_a_person_ends_the_run_after_the_plan(dest: FakeDestination) -> None:
    dest.script["/locations/3/users/101.json"] = [Stop(401)]
    applier = Applier(dest)
    (result,) = applier.apply([user_plan()])
    assert [op.action for op, _ in result.done] == ["create"]
    assert result.dest_id == 101
    assert isinstance(stop_error([result]), Stop)


def test_a_delete_answered_404_counts_as_done(dest: FakeDestination) -> None:
    dest.script["/absences/7.json"] = [Refused(404)]
    plan = Plan("absence", "9", ops=[Op("delete", "DELETE", "/absences/{id}.json")], ids={"id": 7})
    (result,) = Applier(dest).apply([plan])
    assert result.error is None
    assert [op.action for op, _ in result.done] == ["delete"]


def test_a_lost_create_that_took_place_is_linked_not_sent_again(dest: FakeDestination) -> None:
    dest.script["/locations/3/users.json"] = [AnswerLost("connection reset")]
    dest.verdict = Found(55, {"id": 55})
    (result,) = Applier(dest).apply([user_plan()])
    assert dest.sent == [("POST", "/locations/3/users.json"), ("PUT", "/locations/3/users/55.json")]
    assert [op.action for op, _ in result.done] == ["link", "lock"]
    assert "lost" in result.done[0][0].reason
    assert result.dest_id == 55


def test_a_lost_write_proven_absent_is_sent_once_more(dest: FakeDestination) -> None:
    dest.script["/locations/3/users.json"] = [AnswerLost("timed out")]
    dest.verdict = ABSENT
    (result,) = Applier(dest).apply([user_plan()])
    assert dest.sent.count(("POST", "/locations/3/users.json")) == 2
    assert [op.action for op, _ in result.done] == ["create", "lock"]


def test_a_lost_write_the_read_cannot_settle_fails_the_plan(dest: FakeDestination) -> None:
    dest.script["/locations/3/users.json"] = [AnswerLost("timed out")]
    (result,) = Applier(dest).apply([user_plan()])
    assert dest.sent == [("POST", "/locations/3/users.json")]
    assert isinstance(result.error, AnswerLost)
    assert "could not tell whether it took place" in result.failure
    assert not result.stops_run


def test_several_creates_fill_named_slots_and_a_found_record_is_linked(
    dest: FakeDestination,
) -> None:
    plan = Plan(
        "work_timers",
        "21",
        ops=[
            Op("create", "POST", "/v2/attendance-periods", ref="p0"),
            Op("link", ref="p1", record_id="found-1"),
            Op("create", "POST", "/v2/attendance-periods", ref="p2"),
            Op("update", "PATCH", "/v2/attendance-periods/{p0}"),
        ],
        dest_slot="p0",
    )
    (result,) = Applier(dest).apply([plan])
    assert result.ids == {"p0": 101, "p1": "found-1", "p2": 102}
    assert dest.sent[-1] == ("PATCH", "/v2/attendance-periods/101")
    assert result.dest_id == 101


def test_a_path_naming_an_unfilled_slot_fails_the_plan(dest: FakeDestination) -> None:
    plan = Plan("absence", "1", ops=[Op("approve", "PUT", "/absences/{id}.json")])
    (result,) = Applier(dest).apply([plan])
    assert dest.sent == []
    assert "no op filled" in result.failure
