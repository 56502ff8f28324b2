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
import contextlib
import json
import os
import platform
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from collections.abc import Iterator
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import IO, Any
from zoneinfo import ZoneInfo

from figures import (
    Budget,
    RecordChanges,
    RunFigures,
    at_most,
    budgets_as_json,
    budgets_table,
    count_writes,
    diff_counts,
    floor_budget,
    fmt,
    pages,
    partial_budget,
    pipeline_floor,
    runs_table,
    state_changes,
    table,
    write_budget,
    writes_by_collection,
)
from sandbox.admin import AdminError, Admins
from sync_ledger import Ledger

HERE = Path(__file__).resolve().parent
BIN = Path(sys.executable).parent
HOST = "127.0.0.1"
USER_AGENT = "personio-staffomatic-sync benchmark (bench@example.org)"


class BenchError(Exception):
    """Something stopped the benchmark; the message is one sentence for a person."""


@dataclass(frozen=True)
class Pipeline:
    short: str  # "personio->staffomatic"
    tap: str
    target: str
    source: str  # the tap's vendor
    destination: str  # the target's vendor
    written: tuple[str, ...]  # destination collections the target writes
    reads: dict[str, tuple[str, ...]]  # collections the pipeline lists, per vendor


PIPELINES = (
    Pipeline(
        "personio->staffomatic",
        "tap-personio",
        "target-staffomatic",
        "personio",
        "staffomatic",
        ("users", "absences"),
        {
            "personio": ("employees", "absence_types", "absence_periods", "attendance_periods"),
            "staffomatic": ("users", "absences", "locations", "departments", "absence_types"),
        },
    ),
    Pipeline(
        "staffomatic->personio",
        "tap-staffomatic",
        "target-personio",
        "staffomatic",
        "personio",
        ("attendance_periods", "absence_periods"),
        {
            "staffomatic": (
                "users",
                "absences",
                "work_timers",
                "break_timers",
                "locations",
                "departments",
                "absence_types",
            ),
            "personio": ("employees", "absence_types", "attendance_periods", "absence_periods"),
        },
    ),
)


# ---- the sandbox process -------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind((HOST, 0))
        return int(sock.getsockname()[1])


@dataclass
class Sandbox:
    process: subprocess.Popen[bytes]
    urls: dict[str, str]  # vendor -> base URL of its server (admin under /_sandbox/)
    admins: Admins  # the admin client of each server: admins["personio"], admins["staffomatic"]

    def peak_mb(self) -> float:
        return peak_rss_of_running(self.process.pid)


@contextlib.contextmanager
def sandbox(scale: dict[str, int], workdir: Path) -> Iterator[Sandbox]:
    """``python -m sandbox serve`` with the scale seed, on free ports, in its own process."""
    for _attempt in range(3):
        ports = {"personio": free_port(), "staffomatic": free_port()}
        command = [
            sys.executable,
            "-m",
            "sandbox",
            "serve",
            "--host",
            HOST,
            "--personio-port",
            str(ports["personio"]),
            "--staffomatic-port",
            str(ports["staffomatic"]),
            "--seed",
            "scale",
            *(f"--{key.replace('_', '-')}={value}" for key, value in scale.items()),
        ]
        log = open(workdir / "sandbox.log", "wb")  # noqa: SIM115 (closed below)
        process = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT)
        urls = {vendor: f"http://{HOST}:{port}" for vendor, port in ports.items()}
        admins = Admins(urls["personio"], urls["staffomatic"])
        try:
            if wait_until_up(process, admins, deadline=time.monotonic() + 300):
                yield Sandbox(process, urls, admins)
                return
        finally:
            admins.close()
            if process.poll() is None:
                process.terminate()
                try:
                    process.wait(timeout=10)
                except subprocess.TimeoutExpired:
                    process.kill()
                    process.wait()
            log.close()
    tail = (workdir / "sandbox.log").read_text(errors="replace")[-1500:]
    raise BenchError(f"The sandbox did not start on free loopback ports; its output: {tail}")


def wait_until_up(process: subprocess.Popen[bytes], admins: Admins, deadline: float) -> bool:
    while time.monotonic() < deadline:
        if process.poll() is not None:
            return False  # a port was taken in the meantime: try other ones
        if admins.personio.up() and admins.staffomatic.up():
            return True
        time.sleep(0.2)
    raise BenchError("The sandbox did not answer within 5 minutes of starting.")


def peak_rss_of_running(pid: int) -> float:
    """``VmHWM`` (peak resident set) of a running process, in MB."""
    with contextlib.suppress(OSError):
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    return 0.0


# ---- one pipeline run ----------------------------------------------------------------------------


@dataclass
class ProcessResult:
    exit_code: int
    peak_mb: float  # VmHWM of this one process, sampled while it ran
    cpu_s: float


@dataclass
class Messages:
    """Singer messages the tap sent, counted on their way to the target."""

    records: Counter[str] = field(default_factory=Counter)
    other: Counter[str] = field(default_factory=Counter)


def relay(source: IO[bytes], sink: IO[bytes], messages: Messages) -> None:
    """Copy the tap's output to the target line by line, counting the messages."""
    try:
        for line in source:
            with contextlib.suppress(ValueError):
                message = json.loads(line)
                if message.get("type") == "RECORD":
                    messages.records[message.get("stream", "?")] += 1
                else:
                    messages.other[str(message.get("type"))] += 1
            sink.write(line)
    except BrokenPipeError:
        pass  # the target stopped early; its exit code tells why
    finally:
        with contextlib.suppress(BrokenPipeError):
            sink.close()


def wait_for(
    processes: dict[str, subprocess.Popen[bytes]], timeout: float
) -> dict[str, ProcessResult]:
    """Wait for the processes, sampling each one's ``VmHWM`` every 20 ms while it runs.

    ``VmHWM`` belongs to the process's own address space, so it is per process. (The
    ``ru_maxrss`` of ``wait4`` is not: Linux carries the parent's peak over into a child it
    spawns.) ``os.wait4`` on each pid gives that process's own CPU time.
    """
    results: dict[str, ProcessResult] = {}
    peaks = dict.fromkeys(processes, 0.0)
    deadline = time.monotonic() + timeout
    killed = False
    while len(results) < len(processes):
        for name, process in processes.items():
            if name in results:
                continue
            peaks[name] = max(peaks[name], peak_rss_of_running(process.pid))
            pid, status, usage = os.wait4(process.pid, os.WNOHANG)
            if pid:
                process.returncode = os.waitstatus_to_exitcode(status)
                results[name] = ProcessResult(
                    process.returncode, peaks[name], usage.ru_utime + usage.ru_stime
                )
        if not killed and time.monotonic() > deadline:
            for process in processes.values():
                if process.returncode is None:
                    process.kill()
            killed = True
        time.sleep(0.02)
    if killed:
        raise BenchError(f"A pipeline run took longer than {timeout:.0f} s and was stopped.")
    return results


def run_pipeline(
    pipeline: Pipeline,
    configs: dict[str, Path],
    state: Path | None,
    workdir: Path,
    tag: str,
    timeout: float,
) -> tuple[float, dict[str, ProcessResult], Messages, dict[str, Any] | None]:
    """``tap | target`` as two processes; wall time, per-process results, messages, last state."""
    logs = {name: workdir / f"{tag}-{name}.log" for name in (pipeline.tap, pipeline.target)}
    out = workdir / f"{tag}-{pipeline.target}.out"
    tap_command = [str(BIN / pipeline.tap), "--config", str(configs[pipeline.tap])]
    if state is not None:
        tap_command += ["--state", str(state)]
    messages = Messages()
    with (
        open(logs[pipeline.tap], "wb") as tap_log,
        open(logs[pipeline.target], "wb") as target_log,
        open(out, "wb") as target_out,
    ):
        started = time.monotonic()
        tap = subprocess.Popen(tap_command, stdout=subprocess.PIPE, stderr=tap_log)
        target = subprocess.Popen(
            [str(BIN / pipeline.target), "--config", str(configs[pipeline.target])],
            stdin=subprocess.PIPE,
            stdout=target_out,
            stderr=target_log,
        )
        assert tap.stdout is not None
        assert target.stdin is not None
        thread = threading.Thread(target=relay, args=(tap.stdout, target.stdin, messages))
        thread.start()
        try:
            results = wait_for({pipeline.tap: tap, pipeline.target: target}, timeout)
        finally:
            thread.join(timeout=30)
            tap.stdout.close()
        wall = time.monotonic() - started
    for name, result in results.items():
        if result.exit_code != 0:
            tail = "\n".join(logs[name].read_text(errors="replace").splitlines()[-15:])
            raise BenchError(f"{name} ended with exit code {result.exit_code} ({tag}):\n{tail}")
    lines = [line for line in out.read_text().splitlines() if line.strip()]
    last_state = json.loads(lines[-1]) if lines else None
    return wall, results, messages, last_state


# ---- the 1% change before the partial sync -------------------------------------------------------


def every(items: list[dict[str, Any]], percent: float, offset: int = 0) -> list[dict[str, Any]]:
    """``percent`` % of ``items``, spread evenly (at least one when there are any)."""
    if not items:
        return []
    step = max(1, round(100 / percent))
    return items[offset % step :: step][: max(1, round(len(items) * percent / 100))]


def change_personio(state: dict[str, Any], percent: float) -> dict[str, int]:
    """Rename ``percent`` % of the employees and lengthen as many % of the absence periods by a
    day, stamping them as changed now (as Personio would)."""
    zone = ZoneInfo(state["company"]["time_zone"])
    now = datetime.now(zone).replace(microsecond=0)
    employees = every(state["employees"], percent)
    for employee in employees:
        attributes = employee["attributes"]
        attributes["last_name"] += "-Renamed"
        attributes["preferred_name"] = f"{attributes['first_name']} {attributes['last_name']}"
        employee["last_modified_at"] = now.isoformat()
    periods = every(state["absence_periods"], percent, offset=round(50 / percent))
    stamp = now.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.000Z")
    for period in periods:
        end = datetime.fromisoformat(period["ends_at"]["date_time"]) + timedelta(days=1)
        period["ends_at"]["date_time"] = end.isoformat()
        period["updated_at"] = stamp
    return {"employees": len(employees), "absence_periods": len(periods)}


def change_staffomatic(state: dict[str, Any], percent: float) -> dict[str, int]:
    """End ``percent`` % of the work timers 15 minutes earlier, stamped as changed now."""
    zone = ZoneInfo(state["account"]["time_zone"])
    now = datetime.now(zone).replace(microsecond=0).isoformat()
    timers = every([t for t in state["work_timers"] if t.get("ends_at")], percent)
    for timer in timers:
        timer["ends_at"] = (
            datetime.fromisoformat(timer["ends_at"]) - timedelta(minutes=15)
        ).isoformat()
        timer["updated_at"] = now
    return {"work_timers": len(timers)}


# ---- the benchmark -------------------------------------------------------------------------------


def configs_for(sb: Sandbox, workdir: Path) -> dict[str, Path]:
    ledger = f"sqlite:///{workdir / 'sync-ledger.db'}"
    personio = {
        "client_id": "demo-client-id",
        "client_secret": "demo-client-secret",
        "base_url": sb.urls["personio"],
    }
    staffomatic = {
        "account": "demo",
        "api_token": "demo-api-token",
        "base_url": f"{sb.urls['staffomatic']}/v3",
        "user_agent": USER_AGENT,
    }
    configs = {
        "tap-personio": personio,
        "target-staffomatic": staffomatic
        | {"ledger_url": ledger, "absence_source": "personio", "max_parallel_writes": 4},
        "tap-staffomatic": staffomatic,
        "target-personio": personio | {"ledger_url": ledger, "absence_source": "personio"},
    }
    paths = {}
    for name, config in configs.items():
        paths[name] = workdir / f"{name}.json"
        paths[name].write_text(json.dumps(config), encoding="utf-8")
    return paths


def snapshot(sb: Sandbox) -> dict[str, dict[str, Any]]:
    return {
        vendor: {
            "requests": sb.admins[vendor].requests(),
            "state": sb.admins[vendor].state(),
        }
        for vendor in sb.urls
    }


def sizes(state: dict[str, Any], names: tuple[str, ...]) -> dict[str, int]:
    return {name: len(state.get(name) or []) for name in names}


@dataclass
class Bench:
    args: argparse.Namespace
    sb: Sandbox
    workdir: Path
    configs: dict[str, Path]
    runs: list[dict[str, Any]] = field(default_factory=list)
    figures: list[RunFigures] = field(default_factory=list)
    states: dict[str, Path] = field(default_factory=dict)

    def run(self, phase: str, pipeline: Pipeline, changed: dict[str, int] | None = None) -> None:
        if self.runs:
            time.sleep(self.args.cooldown)  # let the last run's requests leave the rate windows
        state = self.states.get(pipeline.short) if phase == "partial" else None
        before = snapshot(self.sb)
        tag = f"{phase}-{pipeline.short.replace('->', '-to-')}"
        print(f"  {phase:8} {pipeline.tap} | {pipeline.target} ...", end=" ", flush=True)
        wall, processes, messages, last_state = run_pipeline(
            pipeline, self.configs, state, self.workdir, tag, self.args.run_timeout
        )
        after = snapshot(self.sb)
        print(f"{wall:.1f} s")
        if phase == "full" and last_state is not None:
            self.states[pipeline.short] = self.workdir / f"state-{tag}.json"
            self.states[pipeline.short].write_text(json.dumps(last_state), encoding="utf-8")

        requests = {}
        for vendor in self.sb.urls:
            b, a = before[vendor]["requests"], after[vendor]["requests"]
            by_endpoint = diff_counts(b["by_endpoint"], a["by_endpoint"])
            requests[vendor] = {
                "by_endpoint": by_endpoint,
                "total": sum(by_endpoint.values()),
                "writes": count_writes(by_endpoint),
                "throttled": a["throttled"] - b["throttled"],
                "injected_errors": a["injected_errors"] - b["injected_errors"],
                "dropped": a["dropped"] - b["dropped"],
            }
        destination = requests[pipeline.destination]["by_endpoint"]
        changes = state_changes(
            before[pipeline.destination]["state"],
            after[pipeline.destination]["state"],
            pipeline.written,
        )
        source_changes = state_changes(
            before[pipeline.source]["state"],
            after[pipeline.source]["state"],
            pipeline.reads[pipeline.source],
        )
        floor = pipeline_floor(
            (pipeline.source, requests[pipeline.source]["by_endpoint"]),
            (pipeline.destination, destination),
            self.args.latency_ms,
        )
        written = sum(c.written for c in changes.values())
        emitted = sum(messages.records.values())
        total_requests = sum(r["total"] for r in requests.values())
        run = {
            "phase": phase,
            "pipeline": pipeline.short,
            "tap": pipeline.tap,
            "target": pipeline.target,
            "incremental": state is not None,
            "wall_s": round(wall, 2),
            "floor_s": round(floor, 2),
            "wall_to_floor": round(wall / floor, 3) if floor else None,
            "records_emitted": dict(sorted(messages.records.items())),
            "records_emitted_total": emitted,
            "records_emitted_per_s": round(emitted / wall, 1),
            "other_messages": dict(sorted(messages.other.items())),
            "destination_records": {name: asdict(c) for name, c in changes.items()},
            "records_written": written,
            "records_written_per_s": round(written / wall, 1),
            "source_records_changed_by_the_run": sum(c.written for c in source_changes.values()),
            "requests": requests,
            "requests_total": total_requests,
            "write_requests_by_collection": writes_by_collection(destination),
            "peak_rss_mb": {name: round(p.peak_mb, 1) for name, p in processes.items()},
            "cpu_s": {name: round(p.cpu_s, 2) for name, p in processes.items()},
            "ledger_counts": self.ledger_counts(pipeline.target),
            "dataset_sizes": {
                vendor: sizes(before[vendor]["state"], names)
                for vendor, names in pipeline.reads.items()
            },
        }
        if changed is not None:
            run["source_records_changed_before"] = changed
        self.runs.append(run)
        self.figures.append(
            RunFigures(
                phase,
                pipeline.short,
                wall,
                floor,
                emitted,
                written,
                total_requests,
                sum(r["writes"] for r in requests.values()),
                sum(r["throttled"] for r in requests.values()),
                run["peak_rss_mb"],
            )
        )

    def ledger_counts(self, target: str) -> dict[str, dict[str, int]]:
        with Ledger(f"sqlite:///{self.workdir / 'sync-ledger.db'}") as ledger:
            runs = ledger.runs(target=target, limit=1)
            return ledger.counts(runs[0].id) if runs else {}


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
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "results.json").write_text(json.dumps(results, indent=2) + "\n", encoding="utf-8")
    (args.out / "RESULTS.md").write_text(report(results, budgets, markdown=True), encoding="utf-8")
    print()
    print(report(results, budgets, markdown=False))
    print(f"Written: {args.out / 'results.json'} and {args.out / 'RESULTS.md'}")
    return 0 if results["passed"] else 1


if __name__ == "__main__":
    sys.exit(main())
