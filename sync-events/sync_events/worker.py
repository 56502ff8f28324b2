"""The worker: coalesces the stored events of each area, runs that area's sync for exactly the
records they name, and marks them done only after the run succeeded.

An area runs once its events have been quiet for ``coalesce_seconds`` (or its oldest waited ten
times that long), so a burst of events for one record (created, then approved) costs one run.
Duplicates and reordered deliveries name the same ids: the run reads what Personio holds now.
A failed run leaves its events pending, tried again after ``retry_seconds`` times their
attempts; after ``max_attempts`` they are ``failed`` (the daily full sync reconciles them).
Events arriving during a run wait for the next one. Employees run before absences (an absence
needs its employee's user).
"""

from __future__ import annotations

import json
import logging
import os
import subprocess
import threading
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

import sync_ledger.events as stored
from sync_ledger import Ledger

from sync_events.areas import AREAS, Area
from sync_events.settings import Settings

logger = logging.getLogger("sync_events.worker")
ONLY_IDS_VARIABLE = "TAP_PERSONIO_ONLY_IDS"
RUN_TIMEOUT_SECONDS = 1800
HIDDEN = ("SYNC_EVENTS_TOKEN",)
"""Left out of the environment of the runs: the plugins never see the receiver's token."""


@dataclass(frozen=True)
class Outcome:
    ok: bool
    reason: str = ""


Runner = Callable[[Area, list[str]], Outcome]


def due(
    events: list[stored.StoredEvent], now: datetime, coalesce: float
) -> dict[str, list[stored.StoredEvent]]:
    """The events of each area whose run is due now: the area is quiet (no event for
    ``coalesce`` seconds) or its oldest event waited ten times that; retries whose time came."""
    quiet, longest = timedelta(seconds=coalesce), timedelta(seconds=coalesce * 10)
    ready: dict[str, list[stored.StoredEvent]] = {}
    for name in AREAS:
        mine = [e for e in events if e.area == name]
        waiting = [e for e in mine if e.next_try_at <= now]
        if not waiting:
            continue
        newest = max(e.received_at for e in mine)
        oldest = min(e.received_at for e in waiting)
        if now - newest >= quiet or now - oldest >= longest:
            ready[name] = waiting
    return ready


class Worker:
    """Runs in a thread of the receiver; :meth:`wake` after an event was stored."""

    def __init__(
        self, settings: Settings, ledger: Ledger, runner: Runner, *, poll: float = 0.5
    ) -> None:
        self.settings, self.ledger, self.runner, self.poll = settings, ledger, runner, poll
        self._stop = threading.Event()
        self._wake = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        self._thread = threading.Thread(target=self._loop, name="sync-events-worker", daemon=True)
        self._thread.start()

    def wake(self) -> None:
        self._wake.set()

    def stop(self, timeout: float = 10.0) -> None:
        self._stop.set()
        self._wake.set()
        terminate = getattr(self.runner, "terminate", None)
        if terminate is not None:
            terminate()
        if self._thread is not None:
            self._thread.join(timeout)

    def _loop(self) -> None:
        while not self._stop.is_set():
            try:
                self.once()
            except Exception as exc:  # the ledger unreachable: try again, keep serving
                logger.error("the worker could not read the ledger: %s", type(exc).__name__)
            self._wake.wait(self.poll)
            self._wake.clear()

    def once(self) -> int:
        """Run every area that is due; how many runs were made."""
        ready = due(
            stored.pending(self.ledger), self.ledger.clock(), self.settings.coalesce_seconds
        )
        for name, events in ready.items():
            if self._stop.is_set():
                break
            ids = sorted({e.record_id for e in events})
            logger.info("syncing %s %s (%d event(s))", name, ", ".join(ids), len(events))
            outcome = self.runner(AREAS[name], ids)
            if self._stop.is_set() and not outcome.ok:
                break  # stopped mid-run: the events stay pending as they were
            if outcome.ok:
                stored.finish(self.ledger, [e.id for e in events])
            else:
                logger.warning("the %s run failed: %s", name, outcome.reason)
                stored.failed_try(
                    self.ledger,
                    [e.id for e in events],
                    outcome.reason,
                    max_attempts=self.settings.max_attempts,
                    backoff=self.settings.retry_seconds,
                )
        return len(ready)


class MeltanoRunner:
    """Runs ``meltano run --no-state-update <extractor> <loader>`` in the project, with
    tap-personio's ``only_ids`` naming the records (bookmarks of the scheduled runs untouched)."""

    def __init__(self, settings: Settings, project: Path | None = None) -> None:
        self.settings = settings
        self.root = project or Path(os.environ.get("MELTANO_PROJECT_ROOT") or Path.cwd())
        self._running: subprocess.Popen[str] | None = None

    def __call__(self, area: Area, ids: list[str]) -> Outcome:
        env = {k: v for k, v in os.environ.items() if k not in HIDDEN}
        env[ONLY_IDS_VARIABLE] = json.dumps({area.only_ids_key: ids})
        command = [self.settings.meltano, "run", "--no-state-update", area.extractor, area.loader]
        try:
            with subprocess.Popen(
                command,
                cwd=self.root,
                env=env,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.PIPE,
                text=True,
            ) as self._running:
                _, stderr = self._running.communicate(timeout=RUN_TIMEOUT_SECONDS)
                code = self._running.returncode
        except (OSError, subprocess.TimeoutExpired) as exc:
            return Outcome(False, f"meltano could not run ({type(exc).__name__})")
        finally:
            self._running = None
        if code == 0:
            return Outcome(True)
        lines = [line for line in stderr.splitlines() if line.strip()]
        return Outcome(False, f"meltano exited {code}: {(lines or ['-'])[-1][-300:]}")

    def terminate(self) -> None:
        """Stop the run in flight (its events stay pending and run again after a restart)."""
        running = self._running
        if running is not None:
            running.terminate()
