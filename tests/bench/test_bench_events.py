"""The events phase's pure parts: the percentile and the budgets of ``--events``.

Nothing is started or timed; ``bench/run.py --events N`` runs the phase itself.
"""

from __future__ import annotations

from typing import Any

from tests.bench.test_bench_figures import budgets, load

for _name in ("sandbox_process", "pipeline_run", "scheduled"):
    load(_name, _name)  # imported by bench/events.py under these names
events = load("events", "bench_events")


def size(employees: int, p95: float, requests: float) -> dict[str, Any]:
    measured = {
        "changes": 3,
        "p95_latency_s": p95,
        "max_latency_s": p95,
        "requests_per_event": requests,
    }
    return {"employees": employees, "events": measured}


def test_p95_is_the_nearest_rank_and_the_largest_of_few_samples() -> None:
    assert events.p95([float(n) for n in range(1, 21)]) == 19.0
    assert events.p95([5.0, 70.0, 3.0]) == 70.0


def test_event_budgets_check_latency_and_requests_at_every_size() -> None:
    found = {b.name: b for b in budgets.event_budgets([size(50, 30.0, 21), size(400, 61.0, 50)])}
    assert found["[50] events: p95 latency (s)"].passed
    assert not found["[400] events: p95 latency (s)"].passed
    assert found["[50] events: requests per event"].passed
    assert not found["[400] events: requests per event"].passed
    assert found["[400] events: requests per event"].limit == budgets.EVENT_REQUESTS_LIMIT


def test_requests_per_event_may_not_grow_with_the_company() -> None:
    def growth(small: float, large: float) -> Any:
        measured = budgets.event_budgets([size(1000, 20.0, large), size(50, 20.0, small)])
        return next(b for b in measured if "growth" in b.name)

    assert growth(21, 21).passed
    assert growth(21, 21 + budgets.EVENT_GROWTH_TOLERANCE).passed
    failed = growth(21, 30)  # still under the constant limit, but it grew with the size
    assert not failed.passed
    assert failed.note == "21 at 50 employees, 30 at 1000"


def test_sizes_without_events_have_no_event_budgets() -> None:
    assert budgets.event_budgets([{"employees": 50, "runs": []}]) == []
    single = budgets.event_budgets([size(50, 20.0, 21)])
    assert not any("growth" in b.name for b in single)
