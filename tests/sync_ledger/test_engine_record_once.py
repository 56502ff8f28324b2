"""Two recorder rules target-personio relies on: several writes logged as one record action, and
a plan decided as ``fail`` (refused before sending) queued for retry like a refused write."""

from __future__ import annotations

from sync_ledger import Ledger
from sync_ledger.engine import LinkPlan, Op, Plan, Ref
from sync_ledger.engine.apply import Applied
from sync_ledger.engine.record import Recorder


def recorder(ledger: Ledger, *, dry_run: bool = False) -> Recorder:
    return Recorder(ledger, ledger.start_run("target-x", dry_run=dry_run), "staffomatic")


def timer_plan() -> Plan:
    writes = [Op("create", "POST", "/periods", ref=f"p{n}", log=False) for n in range(3)]
    return Plan(
        "work_timers",
        "31",
        ops=[*writes, Op("create", reason="3 periods")],
        dest_slot="p0",
        link=LinkPlan("fp", {"periods": [{"id": Ref(f"p{n}")} for n in range(3)]}),
    )


def test_writes_that_make_one_record_action_are_logged_once(ledger: Ledger) -> None:
    rec = recorder(ledger)
    plan = timer_plan()
    ids: dict[str, int | str] = {"p0": "a", "p1": "b", "p2": "c"}
    rec.record(Applied(plan, done=[(op, None) for op in plan.ops], ids=ids))
    rec.run.finish()
    (row,) = ledger.actions(rec.run.id)
    assert (row.action, row.reason, row.dest_id) == ("create", "3 periods", "a")
    link = ledger.links("staffomatic", "work_timers")["31"]
    assert link.data == {"periods": [{"id": "a"}, {"id": "b"}, {"id": "c"}]}


def test_one_record_action_stopped_halfway_logs_only_the_failure(ledger: Ledger) -> None:
    rec = recorder(ledger)
    plan = timer_plan()
    done = [(plan.ops[0], None)]
    rec.record(Applied(plan, done=done, ids={"p0": "a"}, error=OSError("x"), failed=plan.ops[1]))
    rec.run.finish()
    assert [row.action for row in ledger.actions(rec.run.id)] == ["fail"]
    link = ledger.links("staffomatic", "work_timers")["31"]
    assert (link.fingerprint, link.data) == (None, {"periods": [{"id": "a"}]})


def test_a_plan_decided_as_fail_is_queued_for_retry_but_not_in_a_dry_run(ledger: Ledger) -> None:
    dry = recorder(ledger, dry_run=True)
    dry.record(Plan("work_timers", "32", outcome="fail", reason="not sent: too long"))
    dry.run.finish()
    assert ledger.retries("staffomatic", "work_timers") == {}
    rec = recorder(ledger)
    rec.record(Plan("work_timers", "32", outcome="fail", reason="not sent: too long"))
    rec.run.finish()
    assert ledger.retries("staffomatic", "work_timers")["32"].reason == "not sent: too long"
    assert [row.action for row in ledger.actions(rec.run.id)] == ["fail"]
