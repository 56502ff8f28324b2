"""The benchmark's pure parts: the floor, the budgets, the 1% change and the report.

No process is started and nothing is timed; ``make bench`` runs the benchmark itself.
"""

from __future__ import annotations

import importlib.util
import json
import sys
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


def test_pages_count_at_least_one_per_collection() -> None:
    assert figures.pages({"employees": 1000, "absence_types": 4, "empty": 0}) == 12


# ---- budgets -------------------------------------------------------------------------------------


def test_write_budget_allows_one_write_per_record_plus_a_constant() -> None:
    changes = figures.RecordChanges(created=100)
    assert figures.write_budget("users", 105, changes).passed
    failed = figures.write_budget("users", 106, changes)
    assert not failed.passed
    assert failed.measured == 1.06
    assert failed.limit == 1.05


def test_write_budget_allows_staffomatic_approvals_only_when_told() -> None:
    changes = figures.RecordChanges(created=160, approvals=120)
    assert figures.write_budget("absences", 280, changes, approvals_separate=True).passed
    assert not figures.write_budget("absences", 280, changes).passed


def test_write_budget_without_records_counts_the_writes() -> None:
    budget = figures.write_budget("users", 3, figures.RecordChanges())
    assert budget.passed
    assert budget.measured == 3
    assert "no record written" in budget.name


def test_partial_budget_fails_when_requests_grow_with_the_records() -> None:
    assert figures.partial_budget("p", 60, changed=30, dataset_pages=80).passed
    # one request per record of a 10 000-record dataset is far beyond pages and changes
    assert not figures.partial_budget("p", 10_000, changed=100, dataset_pages=100).passed


def test_floor_budget_applies_only_where_rate_limits_set_the_pace() -> None:
    assert figures.floor_budget("x", wall=10.0, floor=2.0) is None
    assert figures.floor_budget("x", wall=80.0, floor=70.0).passed
    assert not figures.floor_budget("x", wall=120.0, floor=70.0).passed


def run_record(phase: str, **overrides: Any) -> dict[str, Any]:
    run: dict[str, Any] = {
        "phase": phase,
        "pipeline": "personio->staffomatic",
        "tap": "tap-personio",
        "target": "target-staffomatic",
        "wall_s": 80.0,
        "floor_s": 70.0,
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
        "dataset_sizes": {"personio": {"employees": 1000}, "staffomatic": {"users": 1000}},
    }
    return run | overrides


def test_budgets_of_a_good_benchmark_all_pass() -> None:
    runs = [
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
            source_records_changed_before={"employees": 10},
        ),
    ]
    budgets = reporting.budgets_of(runs)
    assert all(b.passed for b in budgets), [b for b in budgets if not b.passed]
    names = [b.name for b in budgets]
    assert "rerun personio->staffomatic: write requests (nothing changed)" in names
    assert "full personio->staffomatic: wall time / rate-limit floor" in names
    assert "partial personio->staffomatic: partial-sync requests" in names
    assert "peak memory of target-staffomatic (MB)" in names
    assert "429s received (all runs)" in names


def test_budgets_of_fail_on_a_rerun_write_a_429_and_a_heavy_process() -> None:
    rerun = run_record(
        "rerun",
        requests={
            "personio": {"writes": 0, "throttled": 1},
            "staffomatic": {"writes": 2, "throttled": 0},
        },
        peak_rss_mb={"tap-personio": 60.0, "target-staffomatic": 301.0},
    )
    failed = {b.name for b in reporting.budgets_of([rerun]) if not b.passed}
    assert failed == {
        "rerun personio->staffomatic: write requests (nothing changed)",
        "peak memory of target-staffomatic (MB)",
        "429s received (all runs)",
    }


# ---- the 1% change -------------------------------------------------------------------------------


def test_every_takes_the_share_spread_over_the_list() -> None:
    items = [{"id": n} for n in range(1000)]
    chosen = changes.every(items, 1.0)
    assert [item["id"] for item in chosen] == list(range(0, 1000, 100))
    assert len(changes.every(items[:10], 1.0)) == 1


def test_change_staffomatic_ends_timers_earlier_and_stamps_them() -> None:
    state: dict[str, Any] = {
        "account": {"time_zone": "Europe/Berlin"},
        "work_timers": [
            {"id": n, "ends_at": "2026-11-24T13:00:00+01:00", "updated_at": "old"}
            for n in range(200)
        ],
    }
    assert changes.change_staffomatic(state, 1.0) == {"work_timers": 2}
    changed = [t for t in state["work_timers"] if t["updated_at"] != "old"]
    assert [t["ends_at"] for t in changed] == ["2026-11-24T12:45:00+01:00"] * 2


def test_change_personio_renames_employees_and_lengthens_absences_by_a_day() -> None:
    state: dict[str, Any] = {
        "company": {"time_zone": "Europe/Berlin"},
        "employees": [
            {
                "id": n,
                "last_modified_at": "old",
                "attributes": {"first_name": "A", "last_name": "B", "preferred_name": "A B"},
            }
            for n in range(100)
        ],
        "absence_periods": [
            {"id": n, "ends_at": {"date_time": "2026-12-31T00:00:00"}, "updated_at": "old"}
            for n in range(200)
        ],
    }
    assert changes.change_personio(state, 1.0) == {"employees": 1, "absence_periods": 2}
    renamed = [e for e in state["employees"] if e["last_modified_at"] != "old"]
    assert [e["attributes"]["preferred_name"] for e in renamed] == ["A B-Renamed"]
    longer = [p for p in state["absence_periods"] if p["updated_at"] != "old"]
    assert [p["ends_at"]["date_time"] for p in longer] == ["2027-01-01T00:00:00"] * 2
    assert all(p["updated_at"].endswith(".000Z") for p in longer)


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
    figure = figures.RunFigures("full", "personio->staffomatic", 80.0, 70.0, 1000, 75, 85, 75, 0)
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
            "employees": 1000,
            "absences_per_employee": 2,
            "timers_per_week": 2,
            "weeks": 1,
            "latency_ms": 20.0,
            "change_percent": 1.0,
        },
        "total_wall_s": 300.0,
        "sandbox_peak_mb": 120.0,
        "runs": [run],
        "figures": [json.loads(json.dumps(figure.__dict__))],
    }


def test_report_names_the_machine_every_run_and_every_budget() -> None:
    results = report_results()
    budgets = [figures.at_most("429s received (all runs)", 0, 0)]
    text = reporting.report(results, budgets, markdown=True)
    assert "2 cores (Test CPU), 4.0 GiB memory, Python 3.11.7" in text
    assert "| full / personio->staffomatic | 80.0 | 70.0 | 1.14 |" in text
    assert "| P GET /v1/company/employees | 10 |" in text
    assert "| 429s received (all runs) | 0.000 | 0.000 | pass |  |" in text
    assert "1 of 1 budgets met." in text


def test_write_puts_the_results_and_the_markdown_report_in_the_folder(tmp_path: Path) -> None:
    results = report_results()
    budgets = [figures.at_most("429s received (all runs)", 0, 0)]
    out = tmp_path / "out"
    reporting.write(out, results, budgets)
    assert json.loads((out / "results.json").read_text(encoding="utf-8")) == results
    markdown = (out / "RESULTS.md").read_text(encoding="utf-8")
    assert markdown == reporting.report(results, budgets, markdown=True)
    assert markdown.startswith("# Benchmark results")
