"""The benchmark (``make bench``): both pipelines against the sandbox's ``scale`` seed.

For each size, starts the sandbox as its own process on free loopback ports with 20 ms latency
per request and the vendors' rate limits on, then runs ``tap-personio | target-staffomatic`` and
``tap-staffomatic | target-personio`` as real processes: a full sync, a re-run with nothing
changed, the daily schedule through Meltano (``scripts/sync.py daily-full-refresh``, nothing
changed), a partial (incremental) sync after 1% of the source records changed in every way, and the
two-hourly schedule through Meltano after another such change. Prints the figures and the
budgets, writes ``bench/results.json`` and ``bench/RESULTS.md``. See ``bench/README.md``.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from dataclasses import asdict
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from budgets import Budget, budgets_as_json, budgets_of
from changes import change_personio, change_staffomatic
from events import measure_events
from phases import Bench, configs_for
from pipeline_run import BIN, PIPELINES
from reporting import machine, report, write
from sandbox.admin import AdminError
from sandbox_process import BenchError, Sandbox, sandbox
from scheduled import meltano_project

HERE = Path(__file__).resolve().parent


DEFAULT_SIZES = "1000"
ALL_SIZES = "250,1000,4000,10000"


def sizes_of(text: str) -> list[int]:
    try:
        sizes = [int(part) for part in text.split(",") if part.strip()]
    except ValueError:
        raise argparse.ArgumentTypeError(f"sizes must be whole numbers, got {text!r}") from None
    if not sizes or min(sizes) < 1:
        raise argparse.ArgumentTypeError(f"sizes must be at least 1, got {text!r}")
    return sizes


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="bench/run.py", description=__doc__.split("\n")[0])
    parser.add_argument(
        "--sizes",
        type=sizes_of,
        default=sizes_of(DEFAULT_SIZES),
        help=f"employees, one sandbox each (default {DEFAULT_SIZES}; all: {ALL_SIZES})",
    )
    parser.add_argument("--size", type=int, help="one size only (same as --sizes N)")
    parser.add_argument("--absences-per-employee", type=int, default=2)
    parser.add_argument("--timers-per-week", type=int, default=2)
    parser.add_argument("--weeks", type=int, default=1)
    parser.add_argument("--latency-ms", type=float, default=20.0)
    parser.add_argument("--change-percent", type=float, default=1.0)
    parser.add_argument(
        "--cooldown",
        type=float,
        default=11.0,
        help="seconds between runs, so one run's requests leave the vendors' rate windows",
    )
    parser.add_argument("--run-timeout", type=float, default=1800.0)
    parser.add_argument(
        "--no-scheduled",
        action="store_true",
        help="leave out the scheduled path through Meltano (and its budget)",
    )
    parser.add_argument(
        "--events",
        type=int,
        default=0,
        metavar="N",
        help="also N changes through the webhook receiver, one at a time (latency, requests)",
    )
    parser.add_argument(
        "--out", type=Path, default=HERE, help="where results.json and RESULTS.md go"
    )
    args = parser.parse_args(argv)
    if args.size:
        args.sizes = [args.size]
    for plugin in ("tap-personio", "tap-staffomatic", "target-staffomatic", "target-personio"):
        if not (BIN / plugin).exists():
            print(
                f"bench: {plugin} is not installed next to {sys.executable}; run `make install`.",
                file=sys.stderr,
            )
            return 2
    started = time.monotonic()
    sizes: list[dict[str, Any]] = []
    try:
        project = meltano_project()  # also with --no-scheduled: the piped runs' selection
        for size in args.sizes:
            sizes.append(measure(args, size, project))
            if len(sizes) < len(args.sizes):  # the sizes so far, kept should a later one fail
                write(args.out, *results_of(args, sizes, started))
    except (BenchError, AdminError) as error:
        print(f"\nbench: {error}", file=sys.stderr)
        return 1
    results, budgets = results_of(args, sizes, started)
    write(args.out, results, budgets)
    print()
    print(report(results, budgets, markdown=False))
    print(f"Written: {args.out / 'results.json'} and {args.out / 'RESULTS.md'}")
    return 0 if results["passed"] else 1


def results_of(
    args: argparse.Namespace, sizes: list[dict[str, Any]], started: float
) -> tuple[dict[str, Any], list[Budget]]:
    """``results.json``'s document and the budgets, for the sizes measured so far."""
    budgets = budgets_of(sizes)
    results = {
        "generated_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "machine": machine(),
        "parameters": {
            "sizes": [size["employees"] for size in sizes],
            "absences_per_employee": args.absences_per_employee,
            "timers_per_week": args.timers_per_week,
            "weeks": args.weeks,
            "latency_ms": args.latency_ms,
            "change_percent": args.change_percent,
            "cooldown_s": args.cooldown,
            "scheduled": not args.no_scheduled,
            "events": args.events,
        },
        "total_wall_s": round(time.monotonic() - started, 1),
        "sizes": sizes,
        "budgets": budgets_as_json(budgets),
        "passed": all(b.passed for b in budgets),
    }
    return results, budgets


def change(sb: Sandbox, percent: float, batch: int) -> dict[str, dict[str, int]]:
    """Change both servers' source records (every kind, every status); the changes per kind."""
    changed = {}
    for vendor, apply in (("personio", change_personio), ("staffomatic", change_staffomatic)):
        document = sb.admins[vendor].state()
        changed[vendor] = apply(document, percent, batch)
        sb.admins[vendor].load(document)
    return changed


def measure(args: argparse.Namespace, employees: int, project: Path) -> dict[str, Any]:
    """Every phase at one size, on a sandbox and ledger of its own; ``project``: the Meltano
    project of the scheduled path, of the piped runs' selection and of the webhook receiver."""
    scale = {
        "employees": employees,
        "absences_per_employee": args.absences_per_employee,
        "timers_per_week": args.timers_per_week,
        "weeks": args.weeks,
    }
    started = time.monotonic()
    with tempfile.TemporaryDirectory(prefix="bench-") as tmp, sandbox(scale, Path(tmp)) as sb:
        workdir = Path(tmp)
        for vendor in sb.urls:
            sb.admins[vendor].faults(latency_ms=args.latency_ms, rate_limits=True)
        bench = Bench(args, sb, workdir, configs_for(sb, workdir), project)
        print(
            f"Benchmark: {employees} employees; sandbox at {sb.urls['personio']} and "
            f"{sb.urls['staffomatic']}"
        )
        bench.select_as_production()
        for phase in ("full", "rerun"):
            for pipeline in PIPELINES:
                bench.run(phase, pipeline)
        if not args.no_scheduled:
            bench.schedule("daily-full-refresh", compared_with="rerun", nothing_changed=True)
        changes = {"partial": change(sb, args.change_percent, batch=1)}
        for pipeline in PIPELINES:
            bench.run("partial", pipeline, changes["partial"][pipeline.source])
        if not args.no_scheduled:
            changes["incremental-every-2h"] = change(sb, args.change_percent, batch=2)

            def another_batch() -> None:  # for the same pipelines piped, after the schedule
                changes["the same tasks piped"] = change(sb, args.change_percent, batch=3)

            bench.schedule(
                "incremental-every-2h",
                compared_with="partial",
                nothing_changed=False,
                before_piped=another_batch,
            )
        events = None
        if args.events:
            time.sleep(args.cooldown)
            events = measure_events(sb, workdir, project, args.events)
        sandbox_peak = sb.peak_mb()
    return {
        "employees": employees,
        "scale": scale,
        "wall_s": round(time.monotonic() - started, 1),
        "sandbox_peak_mb": round(sandbox_peak, 1),
        "changes": changes,
        "runs": bench.runs,
        "figures": [asdict(f) for f in bench.figures],
        "scheduled": bench.scheduled,
        **({"events": events} if events is not None else {}),
    }


if __name__ == "__main__":
    sys.exit(main())
