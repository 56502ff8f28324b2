"""The benchmark's budgets and its report, written as ``results.json`` and ``RESULTS.md``."""

from __future__ import annotations

import contextlib
import json
import os
import platform
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from figures import (
    Budget,
    RecordChanges,
    RunFigures,
    at_most,
    budgets_table,
    floor_budget,
    fmt,
    pages,
    partial_budget,
    runs_table,
    table,
    write_budget,
)


def budgets_of(runs: list[dict[str, Any]]) -> list[Budget]:
    budgets: list[Budget] = []
    for run in runs:
        label = f"{run['phase']} {run['pipeline']}"
        destination = "staffomatic" if run["target"] == "target-staffomatic" else "personio"
        writes = run["write_requests_by_collection"]
        if run["phase"] == "rerun":
            total_writes = sum(r["writes"] for r in run["requests"].values())
            budgets.append(at_most(f"{label}: write requests (nothing changed)", total_writes, 0))
            continue
        for name, record in run["destination_records"].items():
            changes = RecordChanges(**record)
            if changes.written or writes.get(name):
                budgets.append(
                    write_budget(
                        f"{label} {name}",
                        writes.get(name, 0),
                        changes,
                        approvals_separate=destination == "staffomatic" and name == "absences",
                    )
                )
        if run["phase"] == "partial":
            changed = sum(run.get("source_records_changed_before", {}).values())
            dataset_pages = sum(pages(s) for s in run["dataset_sizes"].values())
            budgets.append(partial_budget(label, run["requests_total"], changed, dataset_pages))
        if run["floor_s"]:
            budget = floor_budget(label, run["wall_s"], run["floor_s"])
            if budget is not None:
                budgets.append(budget)
    peaks: dict[str, float] = {}
    for run in runs:
        for name, mb in run["peak_rss_mb"].items():
            peaks[name] = max(peaks.get(name, 0.0), mb)
    budgets += [at_most(f"peak memory of {name} (MB)", mb, 300.0) for name, mb in peaks.items()]
    throttled = sum(r["throttled"] for run in runs for r in run["requests"].values())
    budgets.append(at_most("429s received (all runs)", throttled, 0))
    return budgets


def machine() -> dict[str, Any]:
    memory = cpu = ""
    with contextlib.suppress(OSError):
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                memory = f"{int(line.split()[1]) / 1024 / 1024:.1f} GiB"
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    return {
        "cores": os.cpu_count(),
        "cpu": cpu,
        "memory": memory,
        "python": platform.python_version(),
        "platform": platform.platform(),
        "date": datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
    }


def endpoint_matrix(runs: list[dict[str, Any]], markdown: bool = False) -> str:
    keys = sorted(
        {
            f"{vendor[:1].upper()} {key}"
            for run in runs
            for vendor, r in run["requests"].items()
            for key in r["by_endpoint"]
        }
    )
    headers = ["request (P = Personio, S = Staffomatic)"] + [
        f"{run['phase']} {'P->S' if run['source'] == 'personio' else 'S->P'}"
        if "source" in run
        else run["phase"]
        for run in runs
    ]
    rows = []
    for key in keys:
        letter, request = key.split(" ", 1)
        vendor = "personio" if letter == "P" else "staffomatic"
        rows.append(
            [key]
            + [str(run["requests"][vendor]["by_endpoint"].get(request, 0) or "") for run in runs]
        )
    return table(headers, rows, markdown)


def records_table(runs: list[dict[str, Any]], markdown: bool = False) -> str:
    rows = []
    for run in runs:
        for name, c in run["destination_records"].items():
            writes = run["write_requests_by_collection"].get(name, 0)
            written = c["created"] + c["updated"] + c["deleted"]
            rows.append(
                [
                    f"{run['phase']} {run['pipeline']} {name}",
                    str(c["created"]),
                    str(c["updated"]),
                    str(c["deleted"]),
                    str(c["approvals"]),
                    str(writes),
                    fmt(writes / written, 2) if written else "-",
                ]
            )
    headers = ["destination records", "created", "updated", "deleted", "approved", "writes"]
    return table([*headers, "writes/record"], rows, markdown)


def report(results: dict[str, Any], budgets: list[Budget], markdown: bool) -> str:
    figures = [RunFigures(**f) for f in results["figures"]]
    runs = [run | {"source": run["pipeline"].split("->")[0]} for run in results["runs"]]
    p = results["parameters"]
    m = results["machine"]
    title = "# Benchmark results" if markdown else "Benchmark"
    lines = [
        title,
        "",
        f"Machine: {m['cores']} cores ({m['cpu'] or 'unknown CPU'}), {m['memory']} memory, "
        f"Python {m['python']}, {m['platform']}; {m['date']}.",
        f"Data: scale seed, {p['employees']} employees, {p['absences_per_employee']} absences "
        f"each, {p['timers_per_week']} work timers a week for {p['weeks']} week(s) per linked "
        f"user; {p['latency_ms']:g} ms latency per request, rate limits on; "
        f"{p['change_percent']:g}% of the source records changed before the partial sync.",
        f"Whole benchmark: {results['total_wall_s']:.0f} s; sandbox peak memory "
        f"{results['sandbox_peak_mb']:.0f} MB (its own process).",
        "",
        "Runs" if not markdown else "## Runs",
        "",
        runs_table(figures, markdown),
        "",
        "Destination records and write requests" if not markdown else "## Destination records",
        "",
        records_table(runs, markdown),
        "",
        "Requests by method and endpoint" if not markdown else "## Requests by endpoint",
        "",
        endpoint_matrix(runs, markdown),
        "",
        "Budgets" if not markdown else "## Budgets",
        "",
        budgets_table(budgets, markdown),
        "",
        f"{sum(b.passed for b in budgets)} of {len(budgets)} budgets met.",
    ]
    return "\n".join(lines) + "\n"


def write(out: Path, results: dict[str, Any], budgets: list[Budget]) -> None:
    """``results.json`` and ``RESULTS.md`` in ``out``."""
    out.mkdir(parents=True, exist_ok=True)
    (out / "results.json").write_text(json.dumps(results, indent=2) + "\n", encoding="utf-8")
    (out / "RESULTS.md").write_text(report(results, budgets, markdown=True), encoding="utf-8")
