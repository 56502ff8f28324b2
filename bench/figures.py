"""The pure parts of the benchmark: request counts, the rate-limit floor and the tables.

Nothing here starts a process or opens a socket; ``bench/run.py`` measures, this module computes
and formats. ``tests/bench/`` tests it.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from vendor_http.pacing import Limit
from vendor_http.personio import EMPLOYEES_LIMITS, V1_LIMITS
from vendor_http.staffomatic import LIMIT as STAFFOMATIC_LIMIT

WRITE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})


def _per(limits: Iterable[Limit], seconds: float) -> int:
    return next(limit.requests for limit in limits if limit.seconds == seconds)


# The documented limits, which the sandbox enforces (sandbox/README.md) and the plugins pace to:
# taken from the shared HTTP policy (vendor_http), so the floor and the pacing cannot disagree.
# Personio documents no v2 numbers: its v2 buckets are the third-party measurement the sandbox
# emulates.
STAFFOMATIC_REQUESTS, STAFFOMATIC_SECONDS = STAFFOMATIC_LIMIT.requests, STAFFOMATIC_LIMIT.seconds
PERSONIO_V1_PER_MINUTE = _per(V1_LIMITS, 60.0)  # 2,000: all v1 endpoints, per client
PERSONIO_EMPLOYEES_PER_MINUTE = _per(EMPLOYEES_LIMITS, 60.0)  # 300: GET /v1/company/employees
PERSONIO_EMPLOYEES_PER_SECOND = _per(EMPLOYEES_LIMITS, 1.0)  # 15
PERSONIO_V1_AUTH_PER_MINUTE = 60
PERSONIO_V2_TOKEN_PER_MINUTE = 150
PERSONIO_V2_RATE, PERSONIO_V2_BURST = 10.0, 10.0  # token bucket per v2 endpoint

WRITE_CONCURRENCY = 4
"""Write requests a target may have in flight (target-staffomatic ``max_parallel_writes``,
target-personio's connection limit). Reads page one after the other."""

PAGE_SIZE = 100


# ---- requests ------------------------------------------------------------------------------------


def diff_counts(before: Mapping[str, int], after: Mapping[str, int]) -> dict[str, int]:
    """``after - before`` per key, leaving out keys that did not change."""
    keys = set(before) | set(after)
    out = {key: after.get(key, 0) - before.get(key, 0) for key in keys}
    return {key: n for key, n in sorted(out.items()) if n}


def split_key(key: str) -> tuple[str, str]:
    """``"GET /v2/absence-periods"`` -> ``("GET", "/v2/absence-periods")``."""
    method, _, path = key.partition(" ")
    return method.upper(), path


def is_auth(path: str) -> bool:
    return "/auth" in path


def is_write(key: str) -> bool:
    """A request that changes a record: POST, PUT, PATCH or DELETE, token requests excluded."""
    method, path = split_key(key)
    return method in WRITE_METHODS and not is_auth(path)


def collection(path: str) -> str:
    """The collection a path template works on, named as in ``/_sandbox/state``.

    ``/v3/{account}/locations/{location_id}/users/{id}.json`` -> ``users``;
    ``/v2/attendance-periods/{id}`` -> ``attendance_periods``.
    """
    parts = [p for p in path.split("/") if p and not p.startswith("{")]
    last = parts[-1] if parts else ""
    return last.removesuffix(".json").replace("-", "_")


def writes_by_collection(by_endpoint: Mapping[str, int]) -> dict[str, int]:
    out: dict[str, int] = {}
    for key, n in by_endpoint.items():
        if is_write(key):
            name = collection(split_key(key)[1])
            out[name] = out.get(name, 0) + n
    return dict(sorted(out.items()))


def count_writes(by_endpoint: Mapping[str, int]) -> int:
    return sum(n for key, n in by_endpoint.items() if is_write(key))


# ---- destination records -------------------------------------------------------------------------


@dataclass
class RecordChanges:
    """Records of one collection created, updated and deleted between two state snapshots."""

    created: int = 0
    updated: int = 0
    deleted: int = 0
    approvals: int = 0  # records that became ``approved`` (a separate PUT in Staffomatic's API)

    @property
    def written(self) -> int:
        return self.created + self.updated + self.deleted


def record_changes(
    before: Iterable[Mapping[str, Any]], after: Iterable[Mapping[str, Any]]
) -> RecordChanges:
    """Compare two versions of a collection by ``id``."""
    old = {str(r["id"]): r for r in before}
    new = {str(r["id"]): r for r in after}
    changes = RecordChanges()
    for key, record in new.items():
        previous = old.get(key)
        if previous is None:
            changes.created += 1
        elif previous != record:
            changes.updated += 1
        if record.get("state") == "approved" and (previous or {}).get("state") != "approved":
            changes.approvals += 1
    changes.deleted = sum(1 for key in old if key not in new)
    return changes


def state_changes(
    before: Mapping[str, Any], after: Mapping[str, Any], collections: Iterable[str]
) -> dict[str, RecordChanges]:
    """``record_changes`` for each named list collection of a ``/_sandbox/state`` document."""
    return {
        name: record_changes(before.get(name) or [], after.get(name) or [])
        for name in collections
        if isinstance(before.get(name, []), list)
    }


# ---- the floor -----------------------------------------------------------------------------------


def window_floor(requests: int, limit: int, seconds: float) -> float:
    """Least time ``requests`` take under "at most ``limit`` in any ``seconds``": the first
    ``limit`` go at once, each further batch of ``limit`` one window later."""
    if requests <= 0:
        return 0.0
    return seconds * (math.ceil(requests / limit) - 1)


def bucket_floor(requests: int, rate: float, burst: float) -> float:
    """Least time ``requests`` take from a token bucket that starts full (``burst``) and refills
    at ``rate`` per second."""
    return max(0.0, requests - burst) / rate


def latency_floor(
    by_endpoint: Mapping[str, int], latency_ms: float, concurrency: int = WRITE_CONCURRENCY
) -> float:
    """Reads one after the other, writes ``concurrency`` at a time, each taking ``latency_ms``."""
    reads = sum(n for key, n in by_endpoint.items() if not is_write(key))
    writes = count_writes(by_endpoint)
    return latency_ms / 1000.0 * (reads + writes / max(1, concurrency))


def staffomatic_rate_floor(by_endpoint: Mapping[str, int]) -> float:
    return window_floor(sum(by_endpoint.values()), STAFFOMATIC_REQUESTS, STAFFOMATIC_SECONDS)


def personio_rate_floor(by_endpoint: Mapping[str, int]) -> float:
    v1 = employees = v1_auth = v2_token = 0
    v2: dict[str, int] = {}
    for key, n in by_endpoint.items():
        method, path = split_key(key)
        if path.startswith("/v1/"):
            v1 += n
            if path == "/v1/auth":
                v1_auth += n
            elif path == "/v1/company/employees" and method == "GET":
                employees += n
        elif path.startswith("/v2/auth/token"):
            v2_token += n
        elif path.startswith("/v2/") and not is_auth(path):
            v2[path] = v2.get(path, 0) + n  # one bucket per path template, whatever the method
    return max(
        [
            window_floor(v1, PERSONIO_V1_PER_MINUTE, 60.0),
            window_floor(employees, PERSONIO_EMPLOYEES_PER_MINUTE, 60.0),
            window_floor(employees, PERSONIO_EMPLOYEES_PER_SECOND, 1.0),
            window_floor(v1_auth, PERSONIO_V1_AUTH_PER_MINUTE, 60.0),
            window_floor(v2_token, PERSONIO_V2_TOKEN_PER_MINUTE, 60.0),
            *(bucket_floor(n, PERSONIO_V2_RATE, PERSONIO_V2_BURST) for n in v2.values()),
        ]
    )


def vendor_floor(
    vendor: str, by_endpoint: Mapping[str, int], latency_ms: float, concurrency: int
) -> float:
    """The least time one vendor's requests of a run take: its rate limits or the latency."""
    rate = (
        staffomatic_rate_floor(by_endpoint)
        if vendor == "staffomatic"
        else personio_rate_floor(by_endpoint)
    )
    return max(rate, latency_floor(by_endpoint, latency_ms, concurrency))


def pipeline_floor(
    source: tuple[str, Mapping[str, int]],
    destination: tuple[str, Mapping[str, int]],
    latency_ms: float,
) -> float:
    """Tap and target run at the same time, each against its own vendor: the larger floor.

    The tap reads one request after the other; the target writes ``WRITE_CONCURRENCY`` at once.
    """
    return max(
        vendor_floor(source[0], source[1], latency_ms, 1),
        vendor_floor(destination[0], destination[1], latency_ms, WRITE_CONCURRENCY),
    )


# ---- the report ----------------------------------------------------------------------------------


@dataclass
class RunFigures:
    """What one pipeline run measured; ``bench/run.py`` fills it in."""

    phase: str
    pipeline: str
    wall_s: float
    floor_s: float
    records_emitted: int
    records_written: int
    requests: int
    writes: int
    throttled: int
    peak_mb: dict[str, float] = field(default_factory=dict)

    @property
    def ratio(self) -> float:
        return self.wall_s / self.floor_s if self.floor_s > 0 else math.inf


def table(headers: list[str], rows: list[list[str]], markdown: bool = False) -> str:
    """A plain aligned table, or a Markdown one."""
    if markdown:
        lines = ["| " + " | ".join(headers) + " |", "|" + "---|" * len(headers)]
        lines += ["| " + " | ".join(row) + " |" for row in rows]
        return "\n".join(lines)
    widths = [
        max(len(h), *(len(r[i]) for r in rows)) if rows else len(h) for i, h in enumerate(headers)
    ]

    def line(cells: list[str]) -> str:
        return "  ".join(
            c.ljust(w) if i == 0 else c.rjust(w)
            for i, (c, w) in enumerate(zip(cells, widths, strict=True))
        ).rstrip()

    return "\n".join([line(headers), *(line(r) for r in rows)])


def fmt(value: float, digits: int = 1) -> str:
    return "inf" if math.isinf(value) else f"{value:.{digits}f}"


def runs_table(runs: Iterable[RunFigures], markdown: bool = False) -> str:
    headers = [
        "phase / pipeline",
        "wall s",
        "floor s",
        "wall/floor",
        "records in",
        "rec/s",
        "written",
        "wr/s",
        "requests",
        "writes",
        "429s",
        "peak MB (tap, target)",
    ]
    rows = []
    for r in runs:
        wall = max(r.wall_s, 1e-9)
        rows.append(
            [
                f"{r.phase} / {r.pipeline}",
                fmt(r.wall_s),
                fmt(r.floor_s),
                fmt(r.ratio, 2),
                str(r.records_emitted),
                fmt(r.records_emitted / wall),
                str(r.records_written),
                fmt(r.records_written / wall),
                str(r.requests),
                str(r.writes),
                str(r.throttled),
                ", ".join(fmt(mb) for mb in r.peak_mb.values()),
            ]
        )
    return table(headers, rows, markdown)


def endpoints_table(by_endpoint: Mapping[str, int], markdown: bool = False) -> str:
    rows = [[key, str(n)] for key, n in sorted(by_endpoint.items())]
    return table(["request", "count"], rows, markdown)
