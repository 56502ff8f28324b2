"""The event-driven path (issue 16, ``--events N``): Personio's webhooks drive the sync.

After the other phases of a size, the bench registers the webhook and starts the receiver
(``meltano invoke sync-events register`` and ``serve``, in the bench's Meltano project, against
the same sandbox and ledger, with the production default of 3 s coalescing). Then, one at a
time, it makes N changes in Personio (an absence period already synced, one day longer, through
``/_sandbox/load``, which delivers ``absence-period.updated.timerange``) and measures for each:

- the latency: from the change until the Staffomatic absence linked to the period ends on the new
  day (polled every ``POLL_SECONDS``), so it holds the delivery, the coalescing, Meltano's start
  and the run;
- the requests the event cost: every vendor request from the change until its event is done
  (Personio's log restarts with the load; Staffomatic's is compared before and after).
"""

from __future__ import annotations

import contextlib
import math
import random
import subprocess
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import sync_ledger.events as stored
from changes import day_of, overlaps
from figures import count_writes, diff_counts
from pipeline_run import BIN
from sandbox_process import BenchError, Sandbox, free_port
from scheduled import checked, environment
from sync_ledger import Ledger

TOKEN = "bench-receiver-token-0123456789abcdef"
COMPANY_ID = "314159"  # the sandbox's company
POLL_SECONDS = 0.5
EVENT_TIMEOUT_SECONDS = 300.0


def receiver_env(port: int) -> dict[str, str]:
    return {
        "SYNC_EVENTS_TOKEN": TOKEN,
        "SYNC_EVENTS_COMPANY_ID": COMPANY_ID,
        "SYNC_EVENTS_PORT": str(port),
        "SYNC_EVENTS_URL": f"http://127.0.0.1:{port}/events",
        "SYNC_EVENTS_MELTANO": str(BIN / "meltano"),
    }


@contextlib.contextmanager
def receiver(project: Path, env: dict[str, str], log: Path) -> Iterator[str]:
    """The webhook registered and ``sync-events serve`` running until the block ends."""
    port = free_port()
    env = env | receiver_env(port)
    meltano = [str(BIN / "meltano"), "invoke", "sync-events"]
    checked([*meltano, "register"], project, env, 300, "sync-events register")
    with open(log, "wb") as out:
        process = subprocess.Popen(
            [*meltano, "serve"], cwd=project, env=env, stdout=out, stderr=subprocess.STDOUT
        )
        url = f"http://127.0.0.1:{port}"
        try:
            wait(lambda: _healthy(url), 120, "the receiver did not start (see receiver.log)")
            yield url
        finally:
            process.terminate()
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


def _healthy(url: str) -> bool:
    try:
        return httpx.get(f"{url}/health", timeout=2).status_code == 200
    except httpx.HTTPError:
        return False


def wait(check: Callable[[], Any], timeout: float, message: str) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        found = check()
        if found:
            return found
        time.sleep(POLL_SECONDS)
    raise BenchError(f"Events: {message} within {timeout:.0f} s.")


def pick_period(sb: Sandbox, ledger: Ledger, document: dict[str, Any], n: int) -> dict[str, Any]:
    """A Personio period with a Staffomatic copy that one more day does not make overlap."""
    links = ledger.links("personio", "absence")
    copies = {str(a["id"]) for a in sb.admins["staffomatic"].state()["absences"]}
    periods = document["absence_periods"]
    synced = [p for p in periods if p["id"] in links and links[p["id"]].dest_id in copies]
    random.Random(n).shuffle(synced)
    for period in synced:
        last = day_of(period, "ends_at") + timedelta(days=1)
        if not overlaps(periods, period, day_of(period, "starts_from"), last, skip=period):
            return period
    raise BenchError("Events: no synced absence period could be made one day longer.")


def ends_on(sb: Sandbox, ledger: Ledger, period_id: str, day: str) -> bool:
    link = ledger.links("personio", "absence").get(period_id)
    if link is None:
        return False
    absences = sb.admins["staffomatic"].state()["absences"]
    found = next((a for a in absences if str(a["id"]) == link.dest_id), None)
    return found is not None and str(found.get("ends_at", "")).startswith(day)


def one_change(sb: Sandbox, ledger: Ledger, n: int) -> dict[str, Any]:
    """Change one period in Personio; the latency until Staffomatic shows it, and its requests."""
    document = sb.admins["personio"].state()
    period = pick_period(sb, ledger, document, n)
    end = datetime.fromisoformat(period["ends_at"]["date_time"]) + timedelta(days=1)
    period["ends_at"]["date_time"] = end.isoformat()
    period["updated_at"] = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.000Z")
    done = stored.summary(ledger)["done"]
    staffomatic = sb.admins["staffomatic"].counts()
    started = time.monotonic()
    sb.admins["personio"].load(document)  # delivers the event; Personio's log restarts
    day = end.date().isoformat()
    wait(
        lambda: ends_on(sb, ledger, period["id"], day), EVENT_TIMEOUT_SECONDS, "a change not synced"
    )
    latency = time.monotonic() - started

    def finished() -> bool:
        now = stored.summary(ledger)
        return bool(now["pending"] == 0 and now["done"] > done)

    wait(finished, EVENT_TIMEOUT_SECONDS, "an event not marked done")
    events = stored.summary(ledger)["done"] - done
    requests = {
        "personio": sb.admins["personio"].counts(),
        "staffomatic": diff_counts(staffomatic, sb.admins["staffomatic"].counts()),
    }
    total = sum(sum(counts.values()) for counts in requests.values())
    return {
        "period": period["id"],
        "latency_s": round(latency, 2),
        "events": events,
        "requests": total,
        "writes": sum(count_writes(counts) for counts in requests.values()),
        "by_endpoint": requests,
    }


def p95(values: list[float]) -> float:
    """The 95th percentile by nearest rank (with few samples: the largest)."""
    ordered = sorted(values)
    return ordered[max(0, math.ceil(0.95 * len(ordered)) - 1)]


def measure_events(sb: Sandbox, workdir: Path, project: Path, count: int) -> dict[str, Any]:
    """``count`` changes through the receiver, one at a time; the figures of each, and in all."""
    print(f"  events: {count} changes through the receiver ...", flush=True)
    env = environment(sb, workdir)
    with (
        receiver(project, env, workdir / "receiver.log"),
        Ledger(env["SYNC_LEDGER_URL"]) as ledger,
    ):
        samples = []
        for n in range(count):
            sample = one_change(sb, ledger, n)
            print(
                f"    change {n + 1}: {sample['latency_s']:.1f} s, "
                f"{sample['requests']} requests for {sample['events']} event(s)",
                flush=True,
            )
            samples.append(sample)
    latencies = [s["latency_s"] for s in samples]
    per_event = [s["requests"] / max(1, s["events"]) for s in samples]
    return {
        "changes": count,
        "samples": samples,
        "p95_latency_s": p95(latencies),
        "max_latency_s": max(latencies),
        "requests_per_event": max(per_event),
    }
