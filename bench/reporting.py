"""The benchmark's budgets and its report, written as ``results.json`` and ``RESULTS.md``."""

from __future__ import annotations

import contextlib
import json
import os
import platform
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from budgets import Budget, budgets_table, partial_limit
from figures import RunFigures, fmt, runs_table, table


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


def scaling_table(sizes: list[dict[str, Any]], markdown: bool = False) -> str:
    """One row per size: what grows with the company and what should not."""
    rows = []
    for size in sizes:
        full = [r for r in size["runs"] if r["phase"] == "full"]
        partial = [r for r in size["runs"] if r["phase"] == "partial"]
        changed = [sum(r.get("source_records_changed_before", {}).values()) for r in partial]
        peaks: dict[str, float] = {}
        cpu: dict[str, float] = {}
        for run in size["runs"]:
            for name, mb in run["peak_rss_mb"].items():
                peaks[name] = max(peaks.get(name, 0.0), mb)
            for name, seconds in run["cpu_s"].items():
                cpu[name] = cpu.get(name, 0.0) + seconds
        ratios = {s["schedule"]: s["wall_s"] / s["piped_wall_s"] for s in size["scheduled"]}
        rows.append(
            [
                str(size["employees"]),
                " / ".join(fmt(r["wall_s"]) for r in full),
                " / ".join(fmt(r["wall_to_floor"] or 0, 2) for r in full),
                " / ".join(str(r["requests_total"]) for r in partial),
                " / ".join(str(n) for n in changed),
                " / ".join(str(partial_limit(n)) for n in changed),
                " / ".join(f"{name} {fmt(ratio, 2)}" for name, ratio in ratios.items()) or "-",
                ", ".join(f"{name} {fmt(mb, 0)}" for name, mb in sorted(peaks.items())),
                ", ".join(f"{name} {fmt(sec, 1)}" for name, sec in sorted(cpu.items())),
            ]
        )
    headers = [
        "employees",
        "full wall s (P->S / S->P)",
        "full wall/floor",
        "partial requests",
        "changed records",
        "partial limit",
        "scheduled / piped",
        "peak MB per plugin",
        "CPU s per plugin (all runs)",
    ]
    return table(headers, rows, markdown)


def piped_runs_of(scheduled: dict[str, Any]) -> str:
    """What the scheduled run is compared with: the tasks it ran, piped (older results: the
    two whole-tap pipelines of a phase)."""
    if "tasks" in scheduled:
        incremental = " incremental" if scheduled["compared_with"] == "partial" else ""
        return f"its {len(scheduled['tasks'])} tasks{incremental}"
    return f"{scheduled['compared_with']} (both pipelines)"


def scheduled_table(scheduled: list[dict[str, Any]], markdown: bool = False) -> str:
    rows = [
        [
            f"scripts/sync.py {s['schedule']}",
            piped_runs_of(s),
            fmt(s["wall_s"]),
            fmt(s["piped_wall_s"]),
            fmt(s["wall_s"] / s["piped_wall_s"] if s["piped_wall_s"] else float("inf"), 2),
            fmt(s["cpu_s"]),
            fmt(s["piped_cpu_s"]),
            str(s["requests_total"]),
            str(s["writes"]),
        ]
        for s in scheduled
    ]
    headers = ["through Meltano", "piped runs", "wall s", "piped wall s", "ratio", "CPU s"]
    return table([*headers, "piped CPU s", "requests", "writes"], rows, markdown)


def changes_table(changes: dict[str, dict[str, dict[str, int]]], markdown: bool = False) -> str:
    kinds = sorted({(v, k) for batch in changes.values() for v, c in batch.items() for k in c})
    rows = [
        [f"{vendor}: {kind}", *(str(changes[b].get(vendor, {}).get(kind, 0)) for b in changes)]
        for vendor, kind in kinds
    ]
    return table(["source records changed", *(f"before {b}" for b in changes)], rows, markdown)


def size_report(size: dict[str, Any], markdown: bool) -> list[str]:
    figures = [RunFigures(**f) for f in size["figures"]]
    runs = [run | {"source": run["pipeline"].split("->")[0]} for run in size["runs"]]
    heading = f"## {size['employees']} employees" if markdown else f"{size['employees']} employees"
    sub = "### " if markdown else ""
    lines = [
        heading,
        "",
        f"{size['wall_s']:.0f} s; sandbox peak memory {size['sandbox_peak_mb']:.0f} MB (its own "
        "process).",
        "",
        f"{sub}Runs",
        "",
        runs_table(figures, markdown),
        "",
    ]
    if size["scheduled"]:
        lines += [
            f"{sub}The scheduled path through Meltano beside the same plugins piped directly",
            "",
            scheduled_table(size["scheduled"], markdown),
            "",
        ]
    lines += [
        f"{sub}Changes made to the source records",
        "",
        changes_table(size["changes"], markdown),
        "",
        f"{sub}Destination records and write requests",
        "",
        records_table(runs, markdown),
        "",
        f"{sub}Requests by method and endpoint",
        "",
        endpoint_matrix(runs, markdown),
        "",
    ]
    return lines


def report(results: dict[str, Any], budgets: list[Budget], markdown: bool) -> str:
    p = results["parameters"]
    m = results["machine"]
    title = "# Benchmark results" if markdown else "Benchmark"
    lines = [
        title,
        "",
        f"Machine: {m['cores']} cores ({m['cpu'] or 'unknown CPU'}), {m['memory']} memory, "
        f"Python {m['python']}, {m['platform']}; {m['date']}.",
        f"Data: scale seed at {', '.join(str(n) for n in p['sizes'])} employees, "
        f"{p['absences_per_employee']} absences each, {p['timers_per_week']} work timers a week "
        f"for {p['weeks']} week(s) per linked user; {p['latency_ms']:g} ms latency per request, "
        f"rate limits on; {p['change_percent']:g}% of the source records changed (every kind "
        "of change, every status) before each partial sync.",
        f"Whole benchmark: {results['total_wall_s']:.0f} s.",
        "",
        "## Scaling" if markdown else "Scaling",
        "",
        scaling_table(results["sizes"], markdown),
        "",
    ]
    for size in results["sizes"]:
        lines += size_report(size, markdown)
    lines += [
        "## Budgets" if markdown else "Budgets",
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
