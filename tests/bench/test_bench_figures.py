"""The benchmark's pure parts: the floor, the budgets, the changes and the report.

No process is started and nothing is timed; ``make bench`` runs the benchmark itself.
"""

from __future__ import annotations

import importlib.util
import json
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

BENCH = Path(__file__).resolve().parents[2] / "bench"


def load(name: str, module_name: str) -> ModuleType:
    spec = importlib.util.spec_from_file_location(module_name, BENCH / f"{name}.py")
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[module_name] = module
    spec.loader.exec_module(module)
    return module


figures = load("figures", "figures")  # the bench modules import it under this name
budgets = load("budgets", "budgets")
changes = load("changes", "changes")
reporting = load("reporting", "reporting")


# ---- the floor -----------------------------------------------------------------------------------


def test_window_floor_lets_the_first_window_through_at_once() -> None:
    assert figures.window_floor(0, 500, 10) == 0
    assert figures.window_floor(500, 500, 10) == 0
    assert figures.window_floor(501, 500, 10) == 10
    assert figures.window_floor(3566, 500, 10) == 70


def test_bucket_floor_spends_the_burst_then_the_refill_rate() -> None:
    assert figures.bucket_floor(10, 10, 10) == 0
    assert figures.bucket_floor(1510, 10, 10) == 150


def test_personio_floor_is_the_slowest_bucket_and_counts_all_methods_of_a_template() -> None:
    counts = {
        "POST /v2/attendance-periods": 1500,
        "GET /v2/attendance-periods": 10,  # same bucket as the POSTs
        "PATCH /v2/attendance-periods/{id}": 5,  # another bucket
        "GET /v1/company/employees": 10,
        "POST /v1/auth": 1,
        "POST /v2/auth/token": 1,
    }
    assert figures.personio_rate_floor(counts) == pytest.approx(150.0)


def test_personio_employee_list_floor_follows_the_per_minute_limit() -> None:
    assert figures.personio_rate_floor({"GET /v1/company/employees": 301}) == 60.0
    assert figures.personio_rate_floor({"GET /v1/company/employees": 31}) == 2.0


def test_latency_floor_reads_in_sequence_and_writes_four_at_a_time() -> None:
    counts = {"GET /v3/{account}/users.json": 10, "POST /v3/{account}/users.json": 400}
    assert figures.latency_floor(counts, 20, 4) == pytest.approx(0.02 * (10 + 100))


def test_pipeline_floor_is_the_larger_of_source_and_destination() -> None:
    source = ("personio", {"GET /v1/company/employees": 10, "GET /v2/absence-periods": 20})
    destination = ("staffomatic", {"POST /v3/{account}/users.json": 3566})
    assert figures.pipeline_floor(source, destination, 20) == 70.0
    # with no rate limit in reach, the latency of the tap's sequential reads is the floor
    slow_source = ("personio", {"GET /v2/absence-periods": 1})
    assert figures.pipeline_floor(slow_source, ("staffomatic", {}), 20) == pytest.approx(0.02)


# ---- requests and records ------------------------------------------------------------------------


def test_collection_names_match_the_sandbox_state() -> None:
    assert figures.collection("/v3/{account}/locations/{location_id}/users/{id}.json") == "users"
    assert figures.collection("/v3/{account}/absences.json") == "absences"
    assert figures.collection("/v2/attendance-periods/{id}") == "attendance_periods"


def test_token_requests_are_not_writes() -> None:
    counts = {"POST /v1/auth": 2, "POST /v2/auth/token": 1, "PUT /v3/a/users/{id}.json": 3}
    assert figures.count_writes(counts) == 3
    assert figures.writes_by_collection(counts) == {"users": 3}


def test_diff_counts_leaves_out_unchanged_endpoints() -> None:
    assert figures.diff_counts(
        {"GET /a": 2, "GET /b": 1}, {"GET /a": 5, "GET /b": 1, "PUT /c": 1}
    ) == {
        "GET /a": 3,
        "PUT /c": 1,
    }


def test_record_changes_counts_created_updated_deleted_and_approvals() -> None:
    before = [{"id": 1, "state": "new"}, {"id": 2, "state": "new"}, {"id": 3, "state": "new"}]
    after = [
        {"id": 1, "state": "approved"},
        {"id": 2, "state": "new"},
        {"id": 4, "state": "approved"},
    ]
    changes = figures.record_changes(before, after)
    assert (changes.created, changes.updated, changes.deleted) == (1, 1, 1)
    assert changes.approvals == 2
    assert changes.written == 3


# ---- budgets -------------------------------------------------------------------------------------


def test_write_budget_allows_one_write_per_record_plus_a_constant() -> None:
    changes = figures.RecordChanges(created=100)
    assert budgets.write_budget("users", 105, changes).passed
    failed = budgets.write_budget("users", 106, changes)
    assert not failed.passed
    assert failed.measured == 1.06
    assert failed.limit == 1.05


def test_write_budget_allows_staffomatic_approvals_only_when_told() -> None:
    changes = figures.RecordChanges(created=160, approvals=120)
    assert budgets.write_budget("absences", 280, changes, approvals_separate=True).passed
    assert not budgets.write_budget("absences", 280, changes).passed


def test_write_budget_without_records_counts_the_writes() -> None:
    budget = budgets.write_budget("users", 3, figures.RecordChanges())
    assert budget.passed
    assert budget.measured == 3
    assert "no record written" in budget.name


def test_partial_budget_is_a_constant_plus_a_fixed_cost_per_change_at_every_size() -> None:
    a, b = budgets.PARTIAL_CONSTANT, budgets.PARTIAL_PER_CHANGE
    assert (a, b) == (40, 5)
    assert budgets.partial_limit(0) == 40
    assert budgets.partial_limit(30) == 190
    assert budgets.partial_budget("p", 190, changed=30).passed
    assert not budgets.partial_budget("p", 191, changed=30).passed
    # main measured 187 requests with nothing changed at 4,000 employees: far over the limit
    failed = budgets.partial_budget("[4000] partial", 187, changed=0)
    assert not failed.passed
    assert failed.note == "187 requests for 0 changed source records; limit 40 + 5 x 0"


def test_floor_budget_allows_a_tenth_over_the_floor_where_rate_limits_set_the_pace() -> None:
    assert budgets.floor_budget("x", wall=10.0, floor=2.0) is None
    assert budgets.floor_budget("x", wall=77.0, floor=70.0).passed
    assert not budgets.floor_budget("x", wall=77.8, floor=70.0).passed


def test_scheduled_budget_allows_three_tenths_over_the_piped_plugins() -> None:
    assert budgets.scheduled_budget("s", 13.0, 10.0).passed
    failed = budgets.scheduled_budget("s", 26.0, 10.0)  # main: 2.6 times
    assert not failed.passed
    assert failed.measured == 2.6
    assert not budgets.scheduled_budget("s", 1.0, 0.0).passed


def test_memory_is_checked_only_at_ten_thousand_employees() -> None:
    runs = [{"peak_rss_mb": {"tap": 60.0, "target": 151.0}}, {"peak_rss_mb": {"target": 90.0}}]
    assert budgets.memory_budgets("[4000]", 4000, runs) == []
    checked = budgets.memory_budgets("[10000]", 10_000, runs)
    assert [(b.name, b.measured, b.passed) for b in checked] == [
        ("[10000] peak memory of tap (MB)", 60.0, True),
        ("[10000] peak memory of target (MB)", 151.0, False),
    ]


def run_record(phase: str, **overrides: Any) -> dict[str, Any]:
    run: dict[str, Any] = {
        "phase": phase,
        "pipeline": "personio->staffomatic",
        "tap": "tap-personio",
        "target": "target-staffomatic",
        "wall_s": 75.0,
        "floor_s": 70.0,
        "wall_to_floor": 75.0 / 70.0,
        "requests": {
            "personio": {"writes": 0, "throttled": 0},
            "staffomatic": {"writes": 75, "throttled": 0},
        },
        "requests_total": 90,
        "write_requests_by_collection": {"users": 75},
        "destination_records": {
            "users": {"created": 50, "updated": 25, "deleted": 0, "approvals": 0},
            "absences": {"created": 0, "updated": 0, "deleted": 0, "approvals": 0},
        },
        "peak_rss_mb": {"tap-personio": 60.0, "target-staffomatic": 80.0},
        "cpu_s": {"tap-personio": 2.0, "target-staffomatic": 5.0},
    }
    return run | overrides


def scheduled_record(schedule: str = "partial-sync", **overrides: Any) -> dict[str, Any]:
    record: dict[str, Any] = {
        "schedule": schedule,
        "compared_with": "partial",
        "nothing_changed": False,
        "wall_s": 12.0,
        "cpu_s": 9.0,
        "piped_wall_s": 10.0,
        "piped_cpu_s": 7.0,
        "requests": {"personio": {"throttled": 0}, "staffomatic": {"throttled": 0}},
        "requests_total": 60,
        "writes": 20,
    }
    return record | overrides


def size_record(employees: int, runs: list[dict[str, Any]], **overrides: Any) -> dict[str, Any]:
    size: dict[str, Any] = {
        "employees": employees,
        "runs": runs,
        "scheduled": [scheduled_record()],
        "figures": [],
        "changes": {"partial": {"personio": {"new hire": 1}}},
        "wall_s": 300.0,
        "sandbox_peak_mb": 120.0,
    }
    return size | overrides


def good_runs() -> list[dict[str, Any]]:
    return [
        run_record("full"),
        run_record(
            "rerun",
            requests={
                "personio": {"writes": 0, "throttled": 0},
                "staffomatic": {"writes": 0, "throttled": 0},
            },
        ),
        run_record(
            "partial",
            floor_s=1.0,
            wall_s=3.0,
            requests_total=30,
            write_requests_by_collection={"users": 1},
            destination_records={
                "users": {"created": 0, "updated": 1, "deleted": 0, "approvals": 0}
            },
            source_records_changed_before={"changed employee": 10},
        ),
    ]


def test_budgets_of_a_good_benchmark_all_pass_and_name_each_size() -> None:
    sizes = [size_record(250, good_runs()), size_record(10_000, good_runs())]
    result = budgets.budgets_of(sizes)
    assert all(b.passed for b in result), [b for b in result if not b.passed]
    names = [b.name for b in result]
    assert "[250] rerun personio->staffomatic: write requests (nothing changed)" in names
    assert "[250] full personio->staffomatic: wall time / rate-limit floor" in names
    assert "[250] partial personio->staffomatic: partial-sync requests" in names
    assert "[250] partial-sync: scheduled / piped wall time" in names
    assert "[250] 429s received (all runs)" in names
    assert "[10000] peak memory of target-staffomatic (MB)" in names
    assert not any(name.startswith("[250] peak memory") for name in names)


def test_budgets_of_fail_on_a_rerun_write_a_429_a_slow_schedule_and_a_heavy_process() -> None:
    rerun = run_record(
        "rerun",
        requests={
            "personio": {"writes": 0, "throttled": 1},
            "staffomatic": {"writes": 2, "throttled": 0},
        },
        peak_rss_mb={"tap-personio": 60.0, "target-staffomatic": 151.0},
    )
    daily = scheduled_record(
        "full-sync", compared_with="rerun", nothing_changed=True, wall_s=14.0, writes=1
    )
    size = size_record(10_000, [rerun], scheduled=[daily])
    failed = {b.name for b in budgets.budgets_of([size]) if not b.passed}
    assert failed == {
        "[10000] rerun personio->staffomatic: write requests (nothing changed)",
        "[10000] full-sync: scheduled / piped wall time",
        "[10000] full-sync: write requests (nothing changed)",
        "[10000] peak memory of target-staffomatic (MB)",
        "[10000] 429s received (all runs)",
    }


def test_a_slow_full_sync_fails_its_floor_budget() -> None:
    slow = run_record("full", wall_s=80.0)
    failed = [b for b in budgets.budgets_of([size_record(1000, [slow])]) if not b.passed]
    assert [b.name for b in failed] == [
        "[1000] full personio->staffomatic: wall time / rate-limit floor"
    ]


# ---- the changes ---------------------------------------------------------------------------------


def personio_state(employees: int = 200) -> dict[str, Any]:
    from sandbox.personio.seed import build

    return build("scale", employees=employees, absences_per_employee=2)


def test_shares_split_the_percentage_and_give_every_kind_at_least_one() -> None:
    assert changes.shares(1000, ("a", "b", "c"), 1.0) == {"a": 4, "b": 3, "c": 3}
    assert changes.shares(10, ("a", "b"), 1.0) == {"a": 1, "b": 1}
    # kinds that take turns over the statuses get three, one per status
    assert changes.shares(10, ("new absence", "leaver"), 1.0) == {"new absence": 3, "leaver": 1}


def test_change_personio_makes_every_kind_of_change_with_every_status() -> None:
    state = personio_state()
    before = {p["id"]: json.dumps(p) for p in state["absence_periods"]}
    people = len(state["employees"])
    changed = changes.change_personio(state, 1.0, batch=1)
    assert set(changed) == {
        "new hire",
        "changed employee",
        "leaver",
        "new absence (APPROVED)",
        "new absence (PENDING)",
        "new absence (REJECTED)",
        "changed absence dates",
        "changed absence status (to APPROVED)",
        "changed absence status (to PENDING)",
        "changed absence status (to REJECTED)",
        "cancelled absence",
        "deleted absence",
    }
    assert len(state["employees"]) == people + changed["new hire"]
    hires = state["employees"][people:]
    assert all(h["attributes"]["email"].startswith("new.hire.1.") for h in hires)
    leavers = [e for e in state["employees"] if e["attributes"]["status"] == "inactive"]
    assert len(leavers) >= changed["leaver"]
    after = {p["id"]: p for p in state["absence_periods"]}
    assert len(set(before) - set(after)) == changed["deleted absence"]
    cancelled = [p for p in after.values() if p["approval"]["status"] == "CANCELLED"]
    assert len(cancelled) == changed["cancelled absence"]
    touched = [
        p for p in after.values() if p["id"] not in before or json.dumps(p) != before[p["id"]]
    ]
    assert all(p["updated_at"].endswith(".000Z") for p in touched)
    total = sum(v for k, v in changed.items() if "absence" in k and "deleted" not in k)
    assert len(touched) == total


def test_changed_absences_are_not_lined_up_with_the_seeds_statuses() -> None:
    state = personio_state(1000)
    before = {p["id"]: json.dumps(p) for p in state["absence_periods"]}
    statuses = {p["id"]: p["approval"]["status"] for p in state["absence_periods"]}
    changes.change_personio(state, 1.0, batch=1)
    after = {p["id"]: json.dumps(p) for p in state["absence_periods"]}
    picked = [key for key in before if after.get(key) != before[key]]
    # The seed gives statuses by position (a fixed stride picked only approved ones); the
    # periods picked for changes had every status before.
    assert {statuses[key] for key in picked} == {"APPROVED", "PENDING", "REJECTED"}


def test_new_absences_do_not_overlap_the_persons_other_absences() -> None:
    state = personio_state()
    changes.change_personio(state, 1.0, batch=1)
    new = [p for p in state["absence_periods"] if p["comment"] == "Bench batch 1"]
    assert len(new) == 3
    for period in new:
        first, last = changes.day_of(period, "starts_from"), changes.day_of(period, "ends_at")
        others = [p for p in state["absence_periods"] if p is not period]
        assert not changes.overlaps(others, period, first, last)


def test_batches_change_different_records_and_repeat_exactly() -> None:
    one, again = personio_state(), personio_state()
    assert changes.change_personio(one, 1.0, 1) == changes.change_personio(again, 1.0, 1)
    assert one["employees"] == again["employees"]
    changes.change_personio(one, 1.0, 2)
    emails = [e["attributes"]["email"] for e in one["employees"]]
    assert len(emails) == len(set(emails))


def staffomatic_state() -> dict[str, Any]:
    timers = [
        {
            "id": 91001 + n,
            "user_id": 286001 + n,
            "state": "verified",
            "starts_at": "2026-11-24T05:00:00+01:00",
            "ends_at": "2026-11-24T13:00:00+01:00",
            "updated_at": "old",
        }
        for n in range(200)
    ]
    breaks = [{"id": 40001 + n, "work_timer_id": 91001 + n} for n in range(200)]
    return {
        "account": {"time_zone": "Europe/Berlin"},
        "work_timers": timers,
        "break_timers": breaks,
    }


def test_change_staffomatic_adds_changes_and_deletes_timers_in_every_state() -> None:
    state = staffomatic_state()
    changed = changes.change_staffomatic(state, 1.0, batch=1)
    assert changed == {
        "changed timer": 1,
        "deleted timer": 1,
        "new timer (verified)": 1,
        "new timer (stopped)": 1,
        "new timer (running)": 1,
    }
    timers = state["work_timers"]
    assert len(timers) == 202
    earlier = [t for t in timers if t["ends_at"] == "2026-11-24T12:45:00+01:00"]
    assert len(earlier) == 1
    ids = {t["id"] for t in timers}
    assert len(state["break_timers"]) == 199
    assert all(b["work_timer_id"] in ids for b in state["break_timers"])
    new = timers[-3:]
    assert [t["state"] for t in new] == ["verified", "stopped", "running"]
    # Stamped as made now: after the seed's history, inside the next run's look-back.
    stamped = [datetime.fromisoformat(t["updated_at"]) for t in [*earlier, *new]]
    assert all(datetime.now(UTC) - s < timedelta(minutes=5) for s in stamped)
    assert new[2]["ends_at"] is None
    assert new[0]["starts_at"].endswith("T16:00:00+01:00")


# ---- the report ----------------------------------------------------------------------------------


def test_table_aligns_columns_and_renders_markdown() -> None:
    plain = figures.table(["name", "n"], [["a", "1"], ["long name", "100"]])
    assert plain.splitlines() == ["name         n", "a            1", "long name  100"]
    markdown = figures.table(["name", "n"], [["a", "1"]], markdown=True)
    assert markdown.splitlines() == ["| name | n |", "|---|---|", "| a | 1 |"]


def report_results() -> dict[str, Any]:
    run = run_record("full") | {
        "requests": {
            "personio": {"by_endpoint": {"GET /v1/company/employees": 10}, "throttled": 0},
            "staffomatic": {"by_endpoint": {"POST /v3/{account}/users.json": 75}, "throttled": 0},
        }
    }
    partial = run_record("partial", source_records_changed_before={"leaver": 3, "new hire": 4})
    partial["requests"] = run["requests"]
    figure = figures.RunFigures("full", "personio->staffomatic", 75.0, 70.0, 1000, 75, 85, 75, 0)
    return {
        "machine": {
            "cores": 2,
            "cpu": "Test CPU",
            "memory": "4.0 GiB",
            "python": "3.11.7",
            "platform": "Linux",
            "date": "2026-01-01 00:00 UTC",
        },
        "parameters": {
            "sizes": [1000],
            "absences_per_employee": 2,
            "timers_per_week": 2,
            "weeks": 1,
            "latency_ms": 20.0,
            "change_percent": 1.0,
        },
        "total_wall_s": 300.0,
        "sizes": [
            size_record(
                1000,
                [run, partial],
                figures=[json.loads(json.dumps(figure.__dict__))],
                changes={
                    "partial": {"personio": {"leaver": 3, "new hire": 4}},
                    "partial-sync": {"personio": {"leaver": 3, "new hire": 4}},
                },
            )
        ],
    }


def test_report_names_the_machine_the_scaling_every_run_and_every_budget() -> None:
    results = report_results()
    budget = [budgets.at_most("[1000] 429s received (all runs)", 0, 0)]
    text = reporting.report(results, budget, markdown=True)
    assert "2 cores (Test CPU), 4.0 GiB memory, Python 3.11.7" in text
    assert "| 1000 | 75.0 | 1.07 | 90 | 7 | 75 | partial-sync 1.20 |" in text
    assert "## 1000 employees" in text
    assert "| full / personio->staffomatic | 75.0 | 70.0 | 1.07 |" in text
    assert (
        "| scripts/sync.py partial-sync | partial (both pipelines) | 12.0 | 10.0 | 1.20 |" in text
    )
    assert "| personio: new hire | 4 | 4 |" in text
    assert "| P GET /v1/company/employees | 10 | 10 |" in text
    assert "| [1000] 429s received (all runs) | 0.000 | 0.000 | pass |  |" in text
    assert "1 of 1 budgets met." in text


def test_write_puts_the_results_and_the_markdown_report_in_the_folder(tmp_path: Path) -> None:
    results = report_results()
    budget = [budgets.at_most("[1000] 429s received (all runs)", 0, 0)]
    out = tmp_path / "out"
    reporting.write(out, results, budget)
    assert json.loads((out / "results.json").read_text(encoding="utf-8")) == results
    markdown = (out / "RESULTS.md").read_text(encoding="utf-8")
    assert markdown == reporting.report(results, budget, markdown=True)
    assert markdown.startswith("# Benchmark results")


# ---- the scheduled path --------------------------------------------------------------------------


def test_the_floor_uses_the_documented_limits_the_plugins_pace_to() -> None:
    assert (figures.STAFFOMATIC_REQUESTS, figures.STAFFOMATIC_SECONDS) == (500, 10.0)
    assert figures.PERSONIO_V1_PER_MINUTE == 2000
    assert figures.PERSONIO_EMPLOYEES_PER_MINUTE == 300
    assert figures.PERSONIO_EMPLOYEES_PER_SECOND == 15


def test_the_tasks_a_schedule_ran_leave_out_the_skipped_one() -> None:
    load("sandbox_process", "sandbox_process")
    scheduled = load("scheduled", "scheduled")
    out = "\n".join(
        [
            "-- sync-all: skipped tap-staffomatic--absences target-personio: Personio leads ...",
            "-- sync-all: tap-personio--employees target-staffomatic",
            "   discovering the catalog of tap-personio--employees (new, ...)",
            "-- sync-all: tap-staffomatic--timers target-personio",
            "All 2 tasks succeeded.",
        ]
    )
    assert scheduled.tasks_run(out, "sync-all") == [
        "tap-personio--employees target-staffomatic",
        "tap-staffomatic--timers target-personio",
    ]
    assert scheduled.tasks_run(out, "other") == []


def test_the_scheduled_table_names_what_the_run_is_compared_with() -> None:
    tasks = [
        "tap-personio--employees target-staffomatic",
        "tap-staffomatic--timers target-personio",
    ]
    assert reporting.piped_runs_of(scheduled_record(tasks=tasks)) == "its 2 tasks incremental"
    full = scheduled_record(compared_with="rerun", tasks=tasks)
    assert reporting.piped_runs_of(full) == "its 2 tasks"
    assert reporting.piped_runs_of(scheduled_record()) == "partial (both pipelines)"  # older


def test_the_union_of_selections_selects_what_either_catalog_selects() -> None:
    load("sandbox_process", "sandbox_process")
    scheduled = load("scheduled", "scheduled")

    def catalog(selected: dict[tuple[str, str | None], bool]) -> dict[str, Any]:
        streams: dict[str, list[dict[str, Any]]] = {}
        for (stream, column), on in selected.items():
            crumb = [] if column is None else ["properties", column]
            streams.setdefault(stream, []).append(
                {"breadcrumb": crumb, "metadata": {"selected": on, "inclusion": "available"}}
            )
        return {"streams": [{"tap_stream_id": k, "metadata": v} for k, v in streams.items()]}

    employees = catalog(
        {("employees", None): True, ("employees", "email"): True, ("absences", None): False}
        | {("absences", "id"): False, ("attendances", None): False}
    )
    absences = catalog(
        {("employees", None): False, ("employees", "email"): False, ("absences", None): True}
        | {("absences", "id"): True, ("attendances", None): False}
    )
    union = scheduled.union_of_selections([employees, absences])

    chosen = {
        (stream["tap_stream_id"], tuple(entry["breadcrumb"]))
        for stream in union["streams"]
        for entry in stream["metadata"]
        if entry["metadata"]["selected"]
    }
    assert chosen == {
        ("employees", ()),
        ("employees", ("properties", "email")),
        ("absences", ()),
        ("absences", ("properties", "id")),
    }
    assert employees["streams"][1]["metadata"][0]["metadata"]["selected"] is False  # a copy
