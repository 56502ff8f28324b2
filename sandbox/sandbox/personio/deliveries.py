"""Webhook deliveries of the Personio emulator: a queue worked by one background thread.

A change never waits for its deliveries: the API request that caused an event only queues it.
The thread posts each event to every enabled webhook subscribed to it, as Personio's webhook
reference describes: JSON ``POST``, no redirects followed, acknowledged by a 2xx within
``webhook_ack_seconds`` (3 s). A timeout or a 5xx other than 501 fails the request; each attempt
makes up to ``webhook_fast_attempts`` (2) requests in a row, and a failed attempt is tried again
after each of the ``webhook_retry_delays`` in turn (6 later attempts, 14 requests at most). A
refused connection counts as a failure too (the reference does not say; see the assumption table
in ``sandbox/README.md``); any other answer ends the delivery.

On demand (``state["variants"]``): ``webhook_duplicates`` ``every_event`` delivers each event
twice, ``webhook_order`` ``reversed_pairs`` holds an event until the next one arrives (or
``webhook_reorder_hold_seconds`` passed) and delivers the later one first.

Tests that must not wait drive :meth:`Dispatcher.step` with their own clock instead of the thread.
"""

from __future__ import annotations

import heapq
import ipaddress
import itertools
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlsplit

import httpx

from sandbox.personio.events import Event
from sandbox.personio.records import utc_stamp

USER_AGENT = "Personio-Webhooks (sandbox)"
IDLE_WAIT = 0.25


@dataclass
class Job:
    """One event on its way to one webhook."""

    webhook_id: str
    event: Event
    attempt: int = 1
    """1 for the first attempt, 2 for the first retry, ..."""


@dataclass(frozen=True)
class Policy:
    """How deliveries are made: the values of ``state["settings"]["webhook_*"]`` and switches."""

    ack_seconds: float
    fast_attempts: int
    retry_delays: tuple[float, ...]
    reorder_hold_seconds: float
    duplicates: bool
    reversed_pairs: bool


Post = Callable[[str, dict[str, Any], dict[str, str], float], int]
"""Sends one delivery: URL, JSON body, headers, timeout; the status, or raises httpx errors."""


def http_post(client: httpx.Client) -> Post:
    def post(url: str, body: dict[str, Any], headers: dict[str, str], timeout: float) -> int:
        return client.post(url, json=body, headers=headers, timeout=timeout).status_code

    return post


def retryable(status: int | None) -> bool:
    """Whether an answer (None: timeout or no connection) fails the request: Personio retries."""
    return status is None or (status >= 500 and status != 501)


class Dispatcher:
    """The delivery queue and its log; ``webhook(id)`` looks up a webhook's current settings."""

    def __init__(
        self,
        webhook: Callable[[str], dict[str, Any] | None],
        policy: Callable[[], Policy],
        *,
        post: Post | None = None,
        clock: Callable[[], float] = time.monotonic,
        background: bool = True,
    ) -> None:
        self.webhook = webhook
        self.policy = policy
        self.clock = clock
        self.background = background
        self._client: httpx.Client | None = None
        self._post = post
        self._queue: list[tuple[float, int, Job]] = []
        self._held: tuple[float, Job] | None = None
        self._seq = itertools.count()
        self._busy = 0
        self._cond = threading.Condition()
        self._thread: threading.Thread | None = None
        self._closed = False
        self.log: list[dict[str, Any]] = []

    # ---- queueing -------------------------------------------------------------------------------

    def submit(self, jobs: list[Job]) -> None:
        """Queue first attempts (the variants may duplicate or reorder them); returns at once."""
        if not jobs:
            return
        policy = self.policy()
        with self._cond:
            now = self.clock()
            for job in jobs:
                copies = [job, Job(job.webhook_id, job.event)] if policy.duplicates else [job]
                for copy in copies:
                    if policy.reversed_pairs:
                        self._pair(copy, now, policy.reorder_hold_seconds)
                    else:
                        self._push(now, copy)
            self._cond.notify_all()
        self._start()

    def _pair(self, job: Job, now: float, hold: float) -> None:
        if self._held is None:
            self._held = (now + hold, job)
            return
        _, first = self._held
        self._held = None
        self._push(now, job)  # the later event goes first
        self._push(now, first)

    def _push(self, due: float, job: Job) -> None:
        heapq.heappush(self._queue, (due, next(self._seq), job))

    def pending(self) -> int:
        """Deliveries queued, held or being sent."""
        with self._cond:
            return len(self._queue) + (self._held is not None) + self._busy

    def clear(self) -> None:
        """Drop every queued delivery and the log (a reset of the sandbox)."""
        with self._cond:
            self._queue.clear()
            self._held = None
            self.log = []

    def entries(self) -> list[dict[str, Any]]:
        with self._cond:
            return [dict(e) for e in self.log]

    # ---- sending --------------------------------------------------------------------------------

    def step(self, now: float | None = None) -> float | None:
        """Send every delivery due at ``now``; the time the next one is due (None: none)."""
        while True:
            with self._cond:
                moment = self.clock() if now is None else now
                if self._held is not None and self._held[0] <= moment:
                    self._push(self._held[0], self._held[1])
                    self._held = None
                if not self._queue or self._queue[0][0] > moment:
                    nexts = [self._queue[0][0]] if self._queue else []
                    if self._held is not None:
                        nexts.append(self._held[0])
                    return min(nexts) if nexts else None
                _, _, job = heapq.heappop(self._queue)
                self._busy += 1
            try:
                self._attempt(job, moment)
            finally:
                with self._cond:
                    self._busy -= 1
                    self._cond.notify_all()

    def _attempt(self, job: Job, now: float) -> None:
        webhook = self.webhook(job.webhook_id)
        if webhook is None or webhook.get("status") != "ENABLED":
            self._note(job, 0, "dropped: the webhook was deleted or disabled", None)
            return
        if not is_loopback(urlsplit(str(webhook.get("url"))).hostname or ""):
            self._note(job, 0, "not sent: the sandbox delivers to loopback addresses only", None)
            return
        policy = self.policy()
        for request in range(1, max(1, policy.fast_attempts) + 1):
            status, outcome = self._send(webhook, job, policy.ack_seconds)
            self._note(job, request, outcome, status)
            if not retryable(status) or outcome.startswith("not sent"):
                return
        if job.attempt > len(policy.retry_delays):
            self._note(job, 0, "given up", None)
            return
        delay = float(policy.retry_delays[job.attempt - 1])
        with self._cond:
            self._push(now + delay, Job(job.webhook_id, job.event, job.attempt + 1))

    def _send(self, webhook: dict[str, Any], job: Job, timeout: float) -> tuple[int | None, str]:
        headers = {"User-Agent": USER_AGENT, **delivery_headers(webhook)}
        try:
            status = self.post(str(webhook["url"]), job.event.body(), headers, timeout)
        except httpx.TimeoutException:
            return None, "timeout"
        except httpx.InvalidURL as exc:
            return 400, f"not sent: {exc}"
        except httpx.HTTPError as exc:
            return None, f"failed: {type(exc).__name__}"
        return status, str(status)

    @property
    def post(self) -> Post:
        if self._post is None:
            self._client = httpx.Client(follow_redirects=False)
            self._post = http_post(self._client)
        return self._post

    def _note(self, job: Job, request: int, outcome: str, status: int | None) -> None:
        entry = {
            "webhook_id": job.webhook_id,
            **job.event.body(),
            "attempt": job.attempt,
            "request": request,
            "status": status,
            "outcome": outcome,
            "at": utc_stamp(datetime.now(UTC)),
        }
        with self._cond:
            self.log.append(entry)

    # ---- the thread -----------------------------------------------------------------------------

    def _start(self) -> None:
        with self._cond:
            if not self.background or self._closed or self._thread is not None:
                return
            self._thread = threading.Thread(target=self._run, name="personio-webhooks", daemon=True)
            self._thread.start()

    def _run(self) -> None:
        while True:
            due = self.step()
            with self._cond:
                if self._closed:
                    return
                # At most IDLE_WAIT: a job queued between step() and here is not missed.
                wait = IDLE_WAIT if due is None else min(IDLE_WAIT, due - self.clock())
                if wait > 0:
                    self._cond.wait(timeout=wait)
                if self._closed:
                    return

    def close(self) -> None:
        """Stop the thread (deliveries still queued are dropped) and close the HTTP client."""
        with self._cond:
            self._closed = True
            self._cond.notify_all()
        if self._thread is not None:
            self._thread.join(timeout=10)
        if self._client is not None:
            self._client.close()


def delivery_headers(webhook: dict[str, Any]) -> dict[str, str]:
    """What a delivery carries for the webhook's ``auth_type``: the token verbatim in
    ``Authorization`` (TOKEN), the custom headers (CUSTOM), nothing (NONE)."""
    kind = webhook.get("auth_type") or "TOKEN"
    if kind == "TOKEN" and webhook.get("token"):
        return {"Authorization": str(webhook["token"])}
    if kind == "CUSTOM":
        return {str(k): str(v) for k, v in (webhook.get("custom_headers") or {}).items()}
    return {}


def is_loopback(host: str) -> bool:
    """``localhost`` or a loopback address: where the sandbox delivers."""
    try:
        return host == "localhost" or ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False
