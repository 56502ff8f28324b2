"""The benchmark (``make bench``): both pipelines against the sandbox's ``scale`` seed.

Starts the sandbox as its own process on free loopback ports with 20 ms latency per request and
the vendors' rate limits on, then runs ``tap-personio | target-staffomatic`` and
``tap-staffomatic | target-personio`` as real processes three times: a full sync, a re-run with
nothing changed, and a partial (incremental) sync after 1% of the source records changed. Prints
the figures and the budgets, writes ``bench/results.json`` and ``bench/RESULTS.md``.
See ``bench/README.md`` for what is measured and how the floor is computed.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from dataclasses import asdict
from datetime import UTC, datetime
from pathlib import Path

from changes import change_personio, change_staffomatic
from figures import budgets_as_json
from phases import Bench, configs_for
from pipeline_run import BIN, PIPELINES
from reporting import budgets_of, machine, report, write
from sandbox.admin import AdminError
from sandbox_process import BenchError, sandbox

HERE = Path(__file__).resolve().parent


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="bench/run.py", description=__doc__.split("\n")[0])
    parser.add_argument("--size", type=int, default=1000, help="employees (default 1000)")
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
        "--out", type=Path, default=HERE, help="where results.json and RESULTS.md go"
    )
    args = parser.parse_args(argv)
    for plugin in ("tap-personio", "tap-staffomatic", "target-staffomatic", "target-personio"):
        if not (BIN / plugin).exists():
            print(
                f"bench: {plugin} is not installed next to {sys.executable}; run `make install`.",
                file=sys.stderr,
            )
            return 2
    scale = {
        "employees": args.size,
        "absences_per_employee": args.absences_per_employee,
        "timers_per_week": args.timers_per_week,
        "weeks": args.weeks,
    }
    started = time.monotonic()
    try:
        with tempfile.TemporaryDirectory(prefix="bench-") as tmp, sandbox(scale, Path(tmp)) as sb:
            workdir = Path(tmp)
            for vendor in sb.urls:
                sb.admins[vendor].faults(latency_ms=args.latency_ms, rate_limits=True)
            bench = Bench(args, sb, workdir, configs_for(sb, workdir))
            print(
                f"Benchmark: {args.size} employees; sandbox at "
                f"{sb.urls['personio']} and {sb.urls['staffomatic']}"
            )
            for phase in ("full", "rerun"):
                for pipeline in PIPELINES:
                    bench.run(phase, pipeline)
            changed = {}
            for vendor, change in (
                ("personio", change_personio),
                ("staffomatic", change_staffomatic),
            ):
                document = sb.admins[vendor].state()
                changed[vendor] = change(document, args.change_percent)
                sb.admins[vendor].load(document)
            for pipeline in PIPELINES:
                bench.run("partial", pipeline, changed[pipeline.source])
            sandbox_peak = sb.peak_mb()
    except (BenchError, AdminError) as error:
        print(f"\nbench: {error}", file=sys.stderr)
        return 1
    budgets = budgets_of(bench.runs)
    results = {
        "generated_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "machine": machine(),
        "parameters": scale
        | {
            "latency_ms": args.latency_ms,
            "change_percent": args.change_percent,
            "cooldown_s": args.cooldown,
        },
        "total_wall_s": round(time.monotonic() - started, 1),
        "sandbox_peak_mb": round(sandbox_peak, 1),
        "runs": bench.runs,
        "figures": [asdict(f) for f in bench.figures],
        "budgets": budgets_as_json(budgets),
        "passed": all(b.passed for b in budgets),
    }
    write(args.out, results, budgets)
    print()
    print(report(results, budgets, markdown=False))
    print(f"Written: {args.out / 'results.json'} and {args.out / 'RESULTS.md'}")
    return 0 if results["passed"] else 1


if __name__ == "__main__":
    sys.exit(main())
