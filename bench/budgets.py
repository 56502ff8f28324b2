"""The budgets of issue 15, checked on the measured runs and printed pass or FAIL.

- Partial sync: requests at most ``PARTIAL_CONSTANT + PARTIAL_PER_CHANGE x changes``, the same two
  numbers at every size (no term grows with the dataset).
- Full sync: wall time at most ``FLOOR_RATIO_LIMIT`` x the floor the documented rate limits allow.
- The scheduled path (``scripts/sync.py`` through Meltano) at most ``SCHEDULED_RATIO_LIMIT`` x the
  wall time of the same plugins piped directly.
- Peak memory of every plugin process at most ``MEMORY_LIMIT_MB`` at ``MEMORY_AT_EMPLOYEES``.
- No 429 received while pacing; the no-change re-run sends no write.
- Write requests per destination record written: one per record plus ``WRITE_CONSTANT`` a run
  (the design's budget, kept).
- Events (issue 16, ``--events``): the 95th percentile of the latency from a change in Personio to
  its write in Staffomatic at most ``EVENT_P95_LIMIT_S``; the requests of one event at most
  ``EVENT_REQUESTS_LIMIT`` at every size, and at the largest size at most
  ``EVENT_GROWTH_TOLERANCE`` more than at the smallest.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import asdict, dataclass
from typing import Any

from figures import RecordChanges, fmt, table

PARTIAL_CONSTANT = 40
"""``a``: requests a partial sync may spend whatever changed: tokens, the one-page look-ups
(types, locations, departments, the account) and the first page of each incremental read."""
PARTIAL_PER_CHANGE = 5
"""``b``: requests one changed source record may cost: a read of its copy, a confirming read
of the source before a delete, and up to three writes (an approved Staffomatic absence that
changed is deleted, created and approved)."""
FLOOR_RATIO_LIMIT = 1.1
FLOOR_BUDGET_MIN_SECONDS = 30.0
"""The full-sync wall-time budget applies to runs whose floor is at least this long: below it,
process start-up (about two seconds per plugin), not the rate limits, sets the pace."""
SCHEDULED_RATIO_LIMIT = 1.3
MEMORY_LIMIT_MB = 150.0
MEMORY_AT_EMPLOYEES = 10_000
WRITE_CONSTANT = 5
"""Writes a run may spend beyond one per destination record (the design's "plus a constant")."""
EVENT_P95_LIMIT_S = 60.0
EVENT_REQUESTS_LIMIT = PARTIAL_CONSTANT + PARTIAL_PER_CHANGE
"""An event-driven run is a partial sync of one changed record: the same constant budget."""
EVENT_GROWTH_TOLERANCE = 2
"""Requests per event the largest size may spend beyond the smallest (token requests vary with
timing, not with the company)."""


@dataclass
class Budget:
    name: str
    measured: float
    limit: float
    passed: bool
    note: str = ""


def at_most(name: str, measured: float, limit: float, note: str = "") -> Budget:
    return Budget(name, round(measured, 3), round(limit, 3), measured <= limit, note)


def write_budget(
    label: str, writes: int, changes: RecordChanges, approvals_separate: bool = False
) -> Budget:
    """Write requests per destination record written <= 1 + ``WRITE_CONSTANT`` per run.

    With ``approvals_separate`` (Staffomatic absences: its API approves only by a second request,
    ``PUT {"do": "approve"}``) each approval is allowed one request more, and the note says so.
    """
    allowed = changes.written + (changes.approvals if approvals_separate else 0) + WRITE_CONSTANT
    note = (
        f"{writes} writes for {changes.written} records"
        + (f" (+{changes.approvals} approvals, a separate PUT)" if approvals_separate else "")
        + f"; allowed {allowed}"
    )
    if changes.written == 0:
        return at_most(f"{label}: write requests (no record written)", writes, WRITE_CONSTANT)
    name = f"{label}: write requests per record written"
    return at_most(name, writes / changes.written, allowed / changes.written, note)


def partial_limit(changed: int) -> int:
    return PARTIAL_CONSTANT + PARTIAL_PER_CHANGE * changed


def partial_budget(label: str, requests: int, changed: int) -> Budget:
    """Partial sync: requests grow with the changes only, never with the dataset."""
    note = (
        f"{requests} requests for {changed} changed source records; limit "
        f"{PARTIAL_CONSTANT} + {PARTIAL_PER_CHANGE} x {changed}"
    )
    return at_most(f"{label}: partial-sync requests", requests, partial_limit(changed), note)


def floor_budget(label: str, wall: float, floor: float) -> Budget | None:
    """Full sync: wall time within ``FLOOR_RATIO_LIMIT`` x the floor, where rate limits pace."""
    if floor < FLOOR_BUDGET_MIN_SECONDS:
        return None
    note = f"wall {wall:.1f} s, floor {floor:.1f} s"
    return at_most(f"{label}: wall time / rate-limit floor", wall / floor, FLOOR_RATIO_LIMIT, note)


def scheduled_budget(label: str, scheduled_wall: float, piped_wall: float) -> Budget:
    """The scheduled path within ``SCHEDULED_RATIO_LIMIT`` x the same plugins piped directly."""
    note = f"through Meltano {scheduled_wall:.1f} s, piped {piped_wall:.1f} s"
    ratio = scheduled_wall / piped_wall if piped_wall > 0 else float("inf")
    return at_most(f"{label}: scheduled / piped wall time", ratio, SCHEDULED_RATIO_LIMIT, note)


def memory_budgets(label: str, employees: int, runs: Iterable[Mapping[str, Any]]) -> list[Budget]:
    """Peak memory of each plugin process, at ``MEMORY_AT_EMPLOYEES`` employees or more only."""
    if employees < MEMORY_AT_EMPLOYEES:
        return []
    peaks: dict[str, float] = {}
    for run in runs:
        for name, mb in run["peak_rss_mb"].items():
            peaks[name] = max(peaks.get(name, 0.0), mb)
    return [
        at_most(f"{label} peak memory of {n} (MB)", mb, MEMORY_LIMIT_MB) for n, mb in peaks.items()
    ]


def run_budgets(label: str, run: Mapping[str, Any]) -> list[Budget]:
    """The budgets of one piped run (``label`` names the size)."""
    name = f"{label} {run['phase']} {run['pipeline']}"
    if run["phase"] == "rerun":
        writes = sum(r["writes"] for r in run["requests"].values())
        return [at_most(f"{name}: write requests (nothing changed)", writes, 0)]
    out: list[Budget] = []
    destination = "staffomatic" if run["target"] == "target-staffomatic" else "personio"
    writes = run["write_requests_by_collection"]
    for collection, record in run["destination_records"].items():
        changes = RecordChanges(**record)
        if changes.written or writes.get(collection):
            separate = destination == "staffomatic" and collection == "absences"
            out.append(
                write_budget(f"{name} {collection}", writes.get(collection, 0), changes, separate)
            )
    if run["phase"] == "partial":
        changed = sum(run.get("source_records_changed_before", {}).values())
        out.append(partial_budget(name, run["requests_total"], changed))
    if run["phase"] == "full":
        budget = floor_budget(name, run["wall_s"], run["floor_s"])
        if budget is not None:
            out.append(budget)
    return out


def budgets_of(sizes: Iterable[Mapping[str, Any]]) -> list[Budget]:
    """Every budget of every size measured (``results.json``'s ``sizes``)."""
    budgets: list[Budget] = []
    for size in sizes:
        label = f"[{size['employees']}]"
        runs = size["runs"]
        for run in runs:
            budgets += run_budgets(label, run)
        for scheduled in size.get("scheduled", []):
            budgets.append(
                scheduled_budget(
                    f"{label} {scheduled['schedule']}",
                    scheduled["wall_s"],
                    scheduled["piped_wall_s"],
                )
            )
            if scheduled.get("nothing_changed"):
                budgets.append(
                    at_most(
                        f"{label} {scheduled['schedule']}: write requests (nothing changed)",
                        scheduled["writes"],
                        0,
                    )
                )
        budgets += memory_budgets(label, size["employees"], runs)
        throttled = sum(
            r["throttled"]
            for run in [*runs, *size.get("scheduled", [])]
            for r in run["requests"].values()
        )
        budgets.append(at_most(f"{label} 429s received (all runs)", throttled, 0))
    return budgets + event_budgets(sizes)


def event_budgets(sizes: Iterable[Mapping[str, Any]]) -> list[Budget]:
    """Latency and requests per event of every size measured with ``--events``."""
    measured = sorted(
        ((s["employees"], s["events"]) for s in sizes if s.get("events")), key=lambda m: m[0]
    )
    out: list[Budget] = []
    for employees, events in measured:
        label = f"[{employees}] events"
        note = f"{events['changes']} changes, slowest {events['max_latency_s']:.1f} s"
        out.append(
            at_most(f"{label}: p95 latency (s)", events["p95_latency_s"], EVENT_P95_LIMIT_S, note)
        )
        out.append(
            at_most(
                f"{label}: requests per event", events["requests_per_event"], EVENT_REQUESTS_LIMIT
            )
        )
    if len(measured) > 1:
        (small, first), (large, last) = measured[0], measured[-1]
        fewest, most = first["requests_per_event"], last["requests_per_event"]
        note = f"{fewest:.0f} at {small} employees, {most:.0f} at {large}"
        growth = most - fewest
        name = "events: requests per event, growth with the company"
        out.append(at_most(name, growth, EVENT_GROWTH_TOLERANCE, note))
    return out


def budgets_as_json(budgets: Iterable[Budget]) -> list[dict[str, Any]]:
    return [asdict(b) for b in budgets]


def budgets_table(budgets: Iterable[Budget], markdown: bool = False) -> str:
    rows = [
        [b.name, fmt(b.measured, 3), fmt(b.limit, 3), "pass" if b.passed else "FAIL", b.note]
        for b in budgets
    ]
    return table(["budget", "measured", "limit", "result", "detail"], rows, markdown)
