"""One ``tap | target`` run as two real processes: wall time, per-process peak memory and CPU,
and the Singer messages counted on their way from the tap to the target.
"""

from __future__ import annotations

import contextlib
import json
import os
import subprocess
import sys
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

from sandbox_process import BenchError, peak_rss_of_running

BIN = Path(sys.executable).parent


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
    catalog: Path | None = None,
    installs: dict[str, Path] | None = None,
) -> tuple[float, dict[str, ProcessResult], Messages, dict[str, Any] | None]:
    """``tap | target`` as two processes; wall time, per-process results, messages, last state.
    With ``catalog`` the tap reads what it selects (as Meltano runs it), else every stream;
    ``installs``: the executable of each plugin (default: the ones next to this Python)."""
    logs = {name: workdir / f"{tag}-{name}.log" for name in (pipeline.tap, pipeline.target)}
    out = workdir / f"{tag}-{pipeline.target}.out"
    executable = {name: BIN / name for name in (pipeline.tap, pipeline.target)} | (installs or {})
    tap_command = [str(executable[pipeline.tap]), "--config", str(configs[pipeline.tap])]
    if state is not None:
        tap_command += ["--state", str(state)]
    if catalog is not None:
        tap_command += ["--catalog", str(catalog)]
    messages = Messages()
    with (
        open(logs[pipeline.tap], "wb") as tap_log,
        open(logs[pipeline.target], "wb") as target_log,
        open(out, "wb") as target_out,
    ):
        started = time.monotonic()
        tap = subprocess.Popen(tap_command, stdout=subprocess.PIPE, stderr=tap_log)
        target = subprocess.Popen(
            [str(executable[pipeline.target]), "--config", str(configs[pipeline.target])],
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
