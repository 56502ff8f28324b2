"""The ASGI app: ``POST /events`` takes Personio's deliveries, ``GET /health`` says it runs.

A delivery is checked in this order, and refused at the first check it fails, before anything
is stored: the request rate (503 with Retry-After, so Personio delivers it again), the declared
size (413), the token in ``Authorization`` (401, compared in constant time), the size actually
read (413), a JSON body (400), the company (403). An event the sync does not need is
acknowledged and dropped (202); one it needs is stored in the ledger and acknowledged (200) at
once: the sync runs later, in the worker. When the ledger cannot store it the answer is 503, so
Personio delivers it again.

Personio's body carries no event or delivery id; a repeated delivery (a retry after a timeout, a
duplicate) repeats the same body. So the event is stored under a hash of the body's required
fields (:func:`delivery_key`) and a repeat is acknowledged (200) without a second row. Two
events of one record with the same name and the same ``occurred_at`` would also be stored once;
that is safe: the run reads the record as Personio holds it when the run starts.

Logs name the event and the record id; never a header, a body or the token.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import time
from collections.abc import Callable
from typing import Any

import sync_ledger.events as stored
from sqlalchemy.exc import SQLAlchemyError
from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route
from sync_ledger import Ledger

from sync_events.areas import area_of
from sync_events.settings import Settings

logger = logging.getLogger("sync_events")


class TooLarge(Exception):
    """The body is larger than ``max_body_bytes``."""


class RateLimit:
    """A token bucket over every request: ``rate`` a second, bursts of ``rate``."""

    def __init__(self, rate: float, clock: Callable[[], float] = time.monotonic) -> None:
        self.rate, self.clock = rate, clock
        self.tokens, self.at = rate, clock()

    def allow(self) -> bool:
        now = self.clock()
        self.tokens = min(self.rate, self.tokens + (now - self.at) * self.rate)
        self.at = now
        if self.tokens < 1:
            return False
        self.tokens -= 1
        return True


def authentic(presented: str | None, token: str) -> bool:
    """Whether ``Authorization`` holds the token (as Personio sends it, or after ``Bearer``),
    compared in constant time."""
    value = (presented or "").strip()
    if value[:7].lower() == "bearer ":
        value = value[7:].strip()
    return hmac.compare_digest(value.encode(), token.encode())


async def read_bounded(request: Request, limit: int) -> bytes:
    """The body, or :class:`TooLarge` as soon as more than ``limit`` bytes arrived."""
    declared = request.headers.get("content-length")
    if declared is not None and declared.isdigit() and int(declared) > limit:
        raise TooLarge
    body = bytearray()
    async for chunk in request.stream():
        body += chunk
        if len(body) > limit:
            raise TooLarge
    return bytes(body)


def delivery_key(body: dict[str, Any]) -> str | None:
    """A hash of the delivery's required fields: equal for a repeated delivery of one event.
    None without an ``occurred_at`` (the event is then stored every time it comes: never lost)."""
    occurred = body.get("occurred_at")
    if not isinstance(occurred, str) or not occurred.strip():
        return None
    fields = [str(body.get("company_id")), body.get("event_name"), occurred, body.get("payload")]
    canonical = json.dumps(fields, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(canonical.encode()).hexdigest()


def _answer(status: int, message: str, **extra: Any) -> JSONResponse:
    return JSONResponse({"message": message, **extra}, status_code=status)


def create_app(
    settings: Settings,
    ledger: Ledger,
    *,
    on_stored: Callable[[], None] = lambda: None,
    lifespan: Callable[[Starlette], Any] | None = None,
) -> Starlette:
    """The receiver's app; ``on_stored`` is called after each stored event (wakes the worker)."""
    limit = RateLimit(settings.max_requests_per_second)

    async def receive(request: Request) -> Response:
        if not limit.allow():  # 503, not 429: Personio delivers again after a 5xx
            answer = _answer(503, "too many requests; deliver it again")
            answer.headers["Retry-After"] = "1"
            return answer
        declared = request.headers.get("content-length")
        if declared is not None and declared.isdigit() and int(declared) > settings.max_body_bytes:
            return _answer(413, "body too large")
        if not authentic(request.headers.get("authorization"), settings.token):
            logger.warning("refused a delivery from %s: wrong or missing token", _peer(request))
            return _answer(401, "wrong or missing token")
        try:
            body = json.loads(await read_bounded(request, settings.max_body_bytes))
        except TooLarge:
            return _answer(413, "body too large")
        except ValueError:
            return _answer(400, "the body is not JSON")
        if not isinstance(body, dict):
            return _answer(400, "the body is not a JSON object")
        if str(body.get("company_id")) != settings.company_id:
            logger.warning("refused a delivery for another company")
            return _answer(403, "this receiver serves another company")
        name, payload = body.get("event_name"), body.get("payload")
        area = area_of(name) if isinstance(name, str) else None
        if area is None:
            return _answer(202, "event not needed by the sync; dropped")
        record_id = area.record_id(str(name), payload if isinstance(payload, dict) else {})
        if record_id is None:
            return _answer(400, "the payload names no record id")
        key = delivery_key(body)
        try:
            event_id = await run_in_threadpool(
                lambda: stored.store(ledger, str(name), area.name, record_id, key=key)
            )
        except stored.Duplicate:
            logger.info("%s %s delivered again; stored already", name, record_id)
            return _answer(200, "stored already")
        except SQLAlchemyError as exc:
            logger.error("cannot store %s %s: %s", name, record_id, type(exc).__name__)
            return _answer(503, "cannot store the event now; deliver it again")
        logger.info("stored %s %s (event %s)", name, record_id, event_id)
        on_stored()
        return _answer(200, "stored", event=event_id)

    async def health(request: Request) -> Response:
        try:
            pending = len(await run_in_threadpool(stored.pending, ledger))
        except SQLAlchemyError:
            return _answer(503, "the ledger cannot be read")
        return JSONResponse({"status": "ok", "pending": pending})

    return Starlette(
        routes=[
            Route("/events", receive, methods=["POST"]),
            Route("/health", health, methods=["GET"]),
        ],
        lifespan=lifespan,
    )


def _peer(request: Request) -> str:
    return request.client.host if request.client else "unknown"
