"""What both emulators share: in-memory state, the admin endpoints, request counting, faults.

Each vendor emulator subclasses :class:`Emulator`, lists its routes and says how its errors look.
The admin endpoints (``/_sandbox/...``) are the same on both servers and are not part of either
vendor API:

- ``GET /_sandbox/state``: every collection as JSON (credentials included);
- ``POST /_sandbox/load``: replace all data with a document of the same shape;
- ``POST /_sandbox/reset``: ``{"seed": "demo"}`` or ``{"seed": "scale", "employees": 1000, ...}``;
- ``GET /_sandbox/requests``: counts by method and path template, 429s sent, faults injected;
- ``GET``/``POST /_sandbox/variants``: the switches for unconfirmed vendor behaviour
  (:mod:`sandbox.variants`), also part of the state document as ``variants``;
- ``POST /_sandbox/faults``: latency, latency spikes, 5xx error rate, a burst of 429s,
  invalidated tokens, dropped connections, writes applied but answered by a cut connection or a
  502, rate limits on or off (see :class:`Faults`).
"""

from __future__ import annotations

import asyncio
import copy
import random
import socket
import time
from collections import Counter
from dataclasses import asdict, dataclass, field
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Match, Route
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from sandbox.variants import Choices, VariantError, defaults, settle

ADMIN_PREFIX = "/_sandbox/"
WRITE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})


@dataclass
class Faults:
    """Faults injected into vendor endpoints (never into the admin endpoints).

    Every field can be set through ``POST /_sandbox/faults``; fields left out keep their value,
    ``{"clear": true}`` restores these defaults first.
    """

    latency_ms: float = 0.0
    """Added to every vendor request."""
    spike_rate: float = 0.0
    """Share of requests (0..1) that get ``spike_ms`` more latency."""
    spike_ms: float = 0.0
    error_rate: float = 0.0
    """Share of requests (0..1) answered with a 500, 502 or 503 in the vendor's error shape."""
    burst_429: int = 0
    """The next N vendor requests are answered 429 (counts down)."""
    retry_after: int = 1
    """``Retry-After`` seconds sent with a burst 429 (where the vendor sends that header)."""
    drop_rate: float = 0.0
    """Share of requests whose connection is cut mid-response."""
    drop_next: int = 0
    """The next N vendor requests have their connection cut (counts down)."""
    drop_after_rate: float = 0.0
    """Share of write requests (POST, PUT, PATCH, DELETE) that are applied, but whose answer is
    lost: the connection is cut instead."""
    drop_after_next: int = 0
    """The next N write requests are applied, then their connection is cut (counts down)."""
    error_after_rate: float = 0.0
    """Share of write requests that are applied, then answered 502 in the vendor's error shape
    (a gateway that failed after the server did its work)."""
    error_after_next: int = 0
    """The next N write requests are applied, then answered 502 (counts down)."""
    rate_limits: bool = True
    """The vendor's documented rate limits are enforced."""
    seed: int = 7
    """Seed of the random choices, so a fault pattern repeats."""


@dataclass
class RequestLog:
    by_endpoint: Counter[str] = field(default_factory=Counter)
    throttled: int = 0
    injected_errors: int = 0
    dropped: int = 0
    dropped_after: int = 0

    def as_json(self) -> dict[str, Any]:
        writes = sum(n for key, n in self.by_endpoint.items() if key.split()[0] in WRITE_METHODS)
        return {
            "total": sum(self.by_endpoint.values()),
            "writes": writes,
            "by_endpoint": dict(sorted(self.by_endpoint.items())),
            "throttled": self.throttled,
            "injected_errors": self.injected_errors,
            "dropped": self.dropped,
            "dropped_after": self.dropped_after,
        }


class TokenBucket:
    """A token bucket: ``rate`` tokens per second, at most ``capacity`` stored."""

    def __init__(self, rate: float, capacity: float) -> None:
        self.rate = rate
        self.capacity = capacity
        self.tokens = capacity
        self.stamp = time.monotonic()

    def take(self, n: float = 1.0) -> bool:
        now = time.monotonic()
        self.tokens = min(self.capacity, self.tokens + (now - self.stamp) * self.rate)
        self.stamp = now
        if self.tokens >= n:
            self.tokens -= n
            return True
        return False

    def seconds_until(self, n: float = 1.0) -> float:
        return max(0.0, (n - self.tokens) / self.rate) if self.rate else 60.0


class SlidingWindow:
    """At most ``limit`` events in any ``seconds`` long window."""

    def __init__(self, limit: int, seconds: float) -> None:
        self.limit = limit
        self.seconds = seconds
        self.events: list[float] = []

    def take(self) -> bool:
        now = time.monotonic()
        cutoff = now - self.seconds
        while self.events and self.events[0] <= cutoff:
            self.events.pop(0)
        if len(self.events) >= self.limit:
            return False
        self.events.append(now)
        return True

    def seconds_until(self) -> float:
        if len(self.events) < self.limit:
            return 0.0
        return max(0.0, self.events[0] + self.seconds - time.monotonic())


class SandboxError(Exception):
    """Raised by admin endpoints for a bad admin request (answered 400 with the message)."""


class Emulator:
    """One vendor server: state, vendor routes, admin routes, faults and counting."""

    name = "vendor"
    variants: Choices = {}
    """Switches for unconfirmed vendor behaviour: name -> values, the default first."""

    def __init__(self, seed: str = "empty", **params: Any) -> None:
        self.faults = Faults()
        self.log = RequestLog()
        self.rng = random.Random(self.faults.seed)
        self.state: dict[str, Any] = {}
        self.reset(seed, **params)

    # ---- to be provided by each vendor -------------------------------------------------------

    def routes(self) -> list[Route]:
        """The vendor API's routes."""
        raise NotImplementedError

    def seed_state(self, seed: str, **params: Any) -> dict[str, Any]:
        """A fresh state document for the named seed."""
        raise NotImplementedError

    def check_state(self, state: dict[str, Any]) -> None:
        """Raise :class:`SandboxError` if ``state`` is not a valid state document."""

    def error_response(self, status: int, message: str, request: Request) -> Response:
        """The vendor's error body for ``status`` (used for injected faults)."""
        return JSONResponse({"error": message}, status_code=status)

    def throttle(self, request: Request, template: str) -> Response | None:
        """The vendor's 429 when a rate limit is exceeded, else None."""
        return None

    def invalidate_tokens(self) -> None:
        """Make every token issued so far invalid (clients must authenticate again)."""

    def on_reset(self) -> None:
        """Called after the state was replaced (reset or load): clear caches, buckets, tokens."""

    def admin_routes(self) -> list[Route]:
        """The vendor's own admin endpoints (under ``/_sandbox/``), beside the shared ones."""
        return []

    def close(self) -> None:
        """Stop what the emulator runs in the background (the server is shutting down)."""

    # ---- state ----------------------------------------------------------------------------------

    def reset(self, seed: str, **params: Any) -> None:
        self.state = self._with_variants(self.seed_state(seed, **params))
        self.log = RequestLog()
        self.on_reset()

    def load(self, document: dict[str, Any]) -> None:
        self.check_state(document)
        self.state = self._with_variants(copy.deepcopy(document))
        self.log = RequestLog()
        self.on_reset()

    def variant(self, name: str) -> str:
        """The value of the switch ``name`` in the current state (its default if not set)."""
        return str(self.state.get("variants", {}).get(name, self.variants[name][0]))

    def _with_variants(self, state: dict[str, Any]) -> dict[str, Any]:
        """``state`` with every switch set (defaults for those it leaves out)."""
        if self.variants:
            try:
                given = state.get("variants", {})
                state["variants"] = settle(self.variants, defaults(self.variants), given)
            except VariantError as exc:
                raise SandboxError(str(exc)) from None
        return state

    # ---- the application ------------------------------------------------------------------------

    def app(self) -> ASGIApp:
        admin = [
            Route("/_sandbox/state", self._admin_state, methods=["GET"]),
            Route("/_sandbox/load", self._admin_load, methods=["POST"]),
            Route("/_sandbox/reset", self._admin_reset, methods=["POST"]),
            Route("/_sandbox/requests", self._admin_requests, methods=["GET"]),
            Route("/_sandbox/faults", self._admin_faults, methods=["GET", "POST"]),
            Route("/_sandbox/variants", self._admin_variants, methods=["GET", "POST"]),
            *self.admin_routes(),
        ]
        vendor_routes = self.routes()
        inner = Starlette(routes=admin + vendor_routes)
        emulator = self

        async def app(scope: Scope, receive: Receive, send: Send) -> None:
            if scope["type"] != "http" or scope["path"].startswith(ADMIN_PREFIX):
                await inner(scope, receive, send)
                return
            await emulator._vendor_call(inner, vendor_routes, scope, receive, send)

        return app

    async def _vendor_call(
        self, inner: Starlette, routes: list[Route], scope: Scope, receive: Receive, send: Send
    ) -> None:
        method = scope["method"]
        template = scope["path"]
        for route in routes:
            match, _ = route.matches(scope)
            if match is Match.FULL:
                template = route.path
                break
        self.log.by_endpoint[f"{method} {template}"] += 1
        request = Request(scope, receive)
        faults = self.faults
        delay = faults.latency_ms
        if faults.spike_rate and self.rng.random() < faults.spike_rate:
            delay += faults.spike_ms
        if delay:
            await asyncio.sleep(delay / 1000)
        if faults.drop_next > 0 or (faults.drop_rate and self.rng.random() < faults.drop_rate):
            faults.drop_next = max(0, faults.drop_next - 1)
            self.log.dropped += 1
            await _drop_connection(send)
            return
        response: Response | None = None
        if faults.burst_429 > 0:
            faults.burst_429 -= 1
            response = self.too_many_requests(request, faults.retry_after)
        elif faults.error_rate and self.rng.random() < faults.error_rate:
            self.log.injected_errors += 1
            status = self.rng.choice((500, 502, 503))
            response = self.error_response(status, "Injected fault: please retry later", request)
        elif faults.rate_limits:
            response = self.throttle(request, template)
        if response is not None:
            if response.status_code == 429:
                self.log.throttled += 1
            await response(scope, receive, send)
            return
        after = self._after_fault() if method in WRITE_METHODS else None
        if after is None:
            await inner(scope, receive, send)
            return

        async def discard(message: Message) -> None:
            return None

        await inner(scope, receive, discard)  # the write is applied, its answer is lost
        if after == "drop":
            await _drop_connection(send)
        else:
            response = self.error_response(502, "Bad gateway: please retry later", request)
            await response(scope, receive, send)

    def _after_fault(self) -> str | None:
        """``"drop"`` or ``"error"`` when this write's answer is to be lost after it is applied."""
        faults = self.faults
        if faults.drop_after_next > 0 or (
            faults.drop_after_rate and self.rng.random() < faults.drop_after_rate
        ):
            faults.drop_after_next = max(0, faults.drop_after_next - 1)
            self.log.dropped_after += 1
            return "drop"
        if faults.error_after_next > 0 or (
            faults.error_after_rate and self.rng.random() < faults.error_after_rate
        ):
            faults.error_after_next = max(0, faults.error_after_next - 1)
            self.log.injected_errors += 1
            return "error"
        return None

    def too_many_requests(self, request: Request, retry_after: float | None) -> Response:
        """The vendor's 429; ``retry_after`` seconds go into ``Retry-After`` where sent."""
        response = self.error_response(429, "Too Many Requests", request)
        if retry_after is not None:
            response.headers["Retry-After"] = str(max(1, round(retry_after)))
        return response

    # ---- admin endpoints ------------------------------------------------------------------------

    async def _admin_state(self, request: Request) -> Response:
        return JSONResponse(self.state)

    async def _admin_load(self, request: Request) -> Response:
        try:
            document = await request.json()
            if not isinstance(document, dict):
                raise SandboxError("the body must be a JSON object as returned by /_sandbox/state")
            self.load(document)
        except (ValueError, SandboxError) as exc:
            return JSONResponse({"error": f"cannot load this state: {exc}"}, status_code=400)
        return JSONResponse({"loaded": {k: _size(v) for k, v in self.state.items()}})

    async def _admin_reset(self, request: Request) -> Response:
        try:
            body = await request.json() if await request.body() else {}
            params = dict(body)
            seed = str(params.pop("seed", "demo"))
            self.reset(seed, **params)
        except (ValueError, TypeError, SandboxError) as exc:
            return JSONResponse({"error": f"cannot reset: {exc}"}, status_code=400)
        return JSONResponse({"seed": seed, "loaded": {k: _size(v) for k, v in self.state.items()}})

    async def _admin_requests(self, request: Request) -> Response:
        return JSONResponse(self.log.as_json())

    async def _admin_faults(self, request: Request) -> Response:
        if request.method == "POST":
            try:
                body = await request.json()
                if body.pop("clear", False):
                    self.faults = Faults()
                if body.pop("invalidate_tokens", False):
                    self.invalidate_tokens()
                known = set(asdict(self.faults))
                unknown = set(body) - known
                if unknown:
                    raise SandboxError(
                        f"unknown fault settings {sorted(unknown)}; known: {sorted(known)}"
                    )
                for key, value in body.items():
                    setattr(self.faults, key, type(getattr(self.faults, key))(value))
                self.rng = random.Random(self.faults.seed)
            except (ValueError, TypeError, AttributeError, SandboxError) as exc:
                return JSONResponse({"error": f"cannot set faults: {exc}"}, status_code=400)
        return JSONResponse(asdict(self.faults))

    async def _admin_variants(self, request: Request) -> Response:
        current = self.state.get("variants", {})
        if request.method == "POST":
            try:
                body = await request.json()
                if isinstance(body, dict) and body.pop("reset", False):
                    current = defaults(self.variants)
                current = settle(self.variants, current, body)
            except ValueError as exc:  # VariantError included
                return JSONResponse({"error": f"cannot set variants: {exc}"}, status_code=400)
            if self.variants:
                self.state["variants"] = current
        return JSONResponse(current)


def bind(host: str, port: int) -> socket.socket:
    """A listening socket on ``host:port`` (port 0 picks a free one)."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((host, port))
    sock.listen(128)
    sock.set_inheritable(True)
    return sock


def _size(value: Any) -> int:
    return len(value) if isinstance(value, list | dict) else 1


async def _drop_connection(send: Send) -> None:
    """Start a response and stop half-way: the server closes the connection on the client."""
    start: Message = {
        "type": "http.response.start",
        "status": 200,
        "headers": [(b"content-type", b"application/json"), (b"content-length", b"1000")],
    }
    await send(start)
    await send({"type": "http.response.body", "body": b'{"partial": ', "more_body": True})
