"""The recorder: run log, links, retry queue and the summary, which is the report of the run."""

from __future__ import annotations

from sync_ledger import Ledger
from sync_ledger.engine import LinkPlan, Op, Plan, Ref
from sync_ledger.engine.apply import Applied
from sync_ledger.engine.record import Recorder


def recorder(ledger: Ledger, *, dry_run: bool = False) -> Recorder:
    return Recorder(ledger, ledger.start_run("target-x", dry_run=dry_run), "personio")


def created(sid: str, dest: int, *, link: LinkPlan | None = None) -> Applied:
    plan = Plan("employee", sid, ops=[Op("create", "POST", "/users")], reason="new employee")
    plan.link = link or LinkPlan("fp1", {"location_id": 3})
    return Applied(plan, done=[(plan.ops[0], {"id": dest})], ids={"id": dest})


def test_done_ops_are_logged_and_the_link_saved(ledger: Ledger) -> None:
    rec = recorder(ledger)
    rec.record(created("1", 11))
    rec.run.finish()
    (row,) = ledger.actions(rec.run.id)
    assert (row.action, row.reason, row.dest_id) == ("create", "new employee", "11")
    link = ledger.links("personio", "employee")["1"]
    assert (link.dest_id, link.fingerprint, link.data) == ("11", "fp1", {"location_id": 3})


def test_a_failure_is_logged_queued_and_a_later_success_clears_it(ledger: Ledger) -> None:
    rec = recorder(ledger)
    plan = Plan("employee", "2", ops=[Op("create", "POST", "/users")])
    rec.record(Applied(plan, error=RuntimeError("HTTP 422"), failed=plan.ops[0]))
    rec.run.finish()
    assert ledger.retries("personio", "employee")["2"].reason == "create failed: HTTP 422"
    assert ledger.links("personio", "employee") == {}

    again = recorder(ledger)
    again.record(created("2", 12))
    again.run.finish()
    assert ledger.retries("personio", "employee") == {}


def test_a_plan_that_failed_halfway_keeps_its_link_without_fingerprint(ledger: Ledger) -> None:
    rec = recorder(ledger)
    plan = Plan(
        "work_timers",
        "21",
        ops=[
            Op("create", "POST", "/periods", ref="p0"),
            Op("create", "POST", "/periods", ref="p1"),
        ],
        dest_slot="p0",
        link=LinkPlan("fp", {"periods": [{"id": Ref("p0")}, {"id": Ref("p1")}]}),
    )
    rec.record(
        Applied(
            plan,
            done=[(plan.ops[0], None)],
            ids={"p0": "a"},
            error=OSError("x"),
            failed=plan.ops[1],
        )
    )
    link = ledger.links("personio", "work_timers")["21"]
    assert (link.dest_id, link.fingerprint, link.data) == ("a", None, {"periods": [{"id": "a"}]})


def test_a_found_record_is_recorded_as_link(ledger: Ledger) -> None:
    rec = recorder(ledger)
    plan = Plan("work_timers", "22", ops=[Op("link", ref="p0", record_id="f1")], dest_slot="p0")
    rec.record(Applied(plan, done=[(plan.ops[0], None)], ids={"p0": "f1"}))
    rec.run.finish()
    assert rec.run.id is not None
    assert ledger.counts(rec.run.id) == {"work_timers": {"link": 1}}


def test_a_dropped_link_is_removed_and_a_dry_run_saves_nothing(ledger: Ledger) -> None:
    rec = recorder(ledger)
    rec.record(created("3", 13))
    gone = Plan("employee", "3", ops=[Op("delete", "DELETE", "/users/{id}")], drop_link=True)
    rec.record(Applied(gone, done=[(gone.ops[0], None)], ids={"id": 13}))
    assert ledger.links("personio", "employee") == {}

    dry = recorder(ledger, dry_run=True)
    dry.record(created("4", -1))
    dry.record(Applied(Plan("employee", "5", ops=[Op("create", "POST", "/u")]), error=OSError()))
    assert ledger.links("personio", "employee") == {}
    assert ledger.retries("personio", "employee") == {}


def test_the_summary_is_the_report_of_the_run_with_unchanged_and_held_back(
    ledger: Ledger,
) -> None:
    rec = recorder(ledger, dry_run=True)
    rec.record(created("1", -1))
    rec.record(Plan("employee", "2", outcome="unchanged"))
    rec.record(Plan("absence", "7", outcome="skip", reason="type 'X' missing", held_back="X"))
    rec.record(Plan("absence", "8", outcome="skip", reason="employee 9 has no linked user"))
    rec.notes.append("gave up retrying employee 5")
    rec.run.finish()
    text = rec.summary(lambda name, n: f"type '{name}': {n} absence(s) held back")
    lines = text.splitlines()
    assert lines[0] == f"Dry run of target-x (nothing written), run {rec.run.id}"
    assert "  dry run   yes" in lines
    header = next(line for line in lines if line.startswith("entity "))
    assert header.split() == [
        "entity",
        "create",
        "update",
        "approve",
        "delete",
        "skip",
        "fail",
        "unchanged",
    ]
    assert next(line for line in lines if line.startswith("employee ")).split()[1:] == [
        "1",
        "0",
        "0",
        "0",
        "0",
        "0",
        "1",
    ]
    assert "Skips (1)" in lines
    assert text.count("'X'") == 1
    assert "type 'X': 1 absence(s) held back" in lines
    assert lines[-1] == "gave up retrying employee 5"


def test_the_summary_lists_at_most_its_limit_of_problems(ledger: Ledger) -> None:
    rec = recorder(ledger)
    for i in range(35):
        rec.record(Plan("absence", str(i), outcome="skip", reason="no user"))
    rec.run.finish()
    text = rec.summary()
    assert "... and 5 more: see `sync-ledger report`" in text
    assert f"target-x run {rec.run.id}" in text
