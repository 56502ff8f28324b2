"""Plans applied in waves: different people at once, one person's plans in turn."""

from __future__ import annotations

from sync_ledger.engine import LinkPlan, Op, Plan
from target_personio.order import in_waves, people_in


def plan(sid: str, person: str, *, writes: bool = True) -> Plan:
    body = {"person": {"id": person}}
    ops = [Op("create", "POST", "/v2/attendance-periods", body)] if writes else []
    outcome = "" if writes else "unchanged"
    return Plan(
        "work_timers", sid, ops=ops, outcome=outcome, link=LinkPlan("fp", {"person": person})
    )


def test_a_person_s_plans_keep_their_order_in_successive_waves() -> None:
    plans = [plan("1", "a"), plan("2", "b"), plan("3", "a"), plan("4", "c"), plan("5", "a")]
    waves = in_waves(plans, people_in)
    assert [[p.source_id for p in wave] for wave in waves] == [["1", "2", "4"], ["3"], ["5"]]


def test_plans_that_write_nothing_go_in_the_first_wave() -> None:
    plans = [plan("1", "a"), plan("2", "a", writes=False), plan("3", "a")]
    waves = in_waves(plans, people_in)
    assert [[p.source_id for p in wave] for wave in waves] == [["1", "2"], ["3"]]


def test_a_record_moved_to_another_person_waits_for_both_people() -> None:
    moved = plan("2", "b")
    plans = [plan("1", "a"), moved, plan("3", "b")]
    waves = in_waves(plans, lambda p: people_in(p, {"person": "a"} if p is moved else None))
    assert [[p.source_id for p in wave] for wave in waves] == [["1"], ["2"], ["3"]]
