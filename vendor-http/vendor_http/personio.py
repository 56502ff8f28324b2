"""THE Personio HTTP policy, used by tap-personio and target-personio alike.

- Pacing to the documented limits without waiting for a 429: the v1 employees list allows 300
  requests a minute with bursts of at most 15 a second, all v1 endpoints together 2,000 a minute
  (v1 sends no rate-limit headers, so the windows count our own requests, each from its send
  until its answer, since Personio counts it on arrival: at the documented limits, no 429).
  v2 endpoints announce per-endpoint token buckets in ``x-ratelimit-*`` headers; an empty
  bucket holds its endpoint until it refilled, counted from when the request was SENT.
- Retries (:mod:`vendor_http.retry`) with ``Retry-After`` honoured; v2 sends none on 429, and
  there the pacing's hold covers the refill. 429s are waited for within the run's
  :class:`~vendor_http.budget.RateLimitBudget` (naming :data:`VENDOR`).
- Personio's error text from any of its error shapes, in :func:`error_text`.
- One sentence per problem a person has to act on (:class:`PersonioProblem` and subclasses).

Tokens are in :mod:`vendor_http.personio_auth`.
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from typing import Literal
from urllib.parse import urlsplit

from vendor_http.pacing import Clock, Limit, Pacer, Sleep, Windows
from vendor_http.retry import Reply, RetriesExhausted, RetryPolicy
from vendor_http.retry_after import parse_retry_after

Generation = Literal["v1", "v2"]

DEFAULT_BASE_URL = "https://api.personio.de"
APP_ID_HEADER = "X-Personio-App-ID"
V1_LIMITS = (Limit(2000, 60.0),)
"""All v1 endpoints: 2,000 a minute per IP (documented; the benchmark's floor uses it too)."""
EMPLOYEES_LIMITS = (Limit(300, 60.0), Limit(15, 1.0))
"""``GET /v1/company/employees``: 300 a minute with bursts of at most 15 a second (documented)."""
EMPLOYEES_PATH = "/v1/company/employees"
RETRY = RetryPolicy(max_attempts=6, connect_attempts=3)
"""Personio's retries: 5xx and dropped connections 6 times, 429s within the run's budget."""
MESSAGE_LIMIT = 300
NETWORK_ALLOWANCE_SECONDS = 0.05
"""Added to a v2 refill (never more than the request took): the gateway takes the token when
the request arrives, a little after it was sent, and the next request may travel faster."""


VENDOR = "Personio"


class PersonioProblem(Exception):
    """A problem a person has to act on, stated in one sentence: what is wrong, how to fix it."""


class CredentialRejected(PersonioProblem):
    """Personio's token endpoint refused the client id and secret."""

    def __init__(self, generation: Generation, status: int, reason: str) -> None:
        super().__init__(
            f"Personio rejected the API credential for the {generation} API "
            f"(HTTP {status}: {reason}): check the client_id and client_secret settings "
            "(Personio: Settings > Integrations > API credentials), and that base_url is the "
            "Personio API."
        )
        self.generation = generation
        self.status = status
        self.reason = reason


class Unreachable(PersonioProblem):
    """No answer from Personio at all."""

    def __init__(self, base_url: str, error: BaseException | None) -> None:
        super().__init__(
            f"Cannot reach Personio at {base_url} ({type(error).__name__}): check the base_url "
            "setting and the network connection."
        )


class KeptFailing(PersonioProblem):
    """Personio answered 429 or 5xx to every try."""

    def __init__(self, method: str, path: str, status: int, attempts: int) -> None:
        super().__init__(
            f"Personio kept answering HTTP {status} to {method} {path} after {attempts} "
            "attempts; try again later."
        )
        self.status = status


def gave_up(exc: RetriesExhausted, base_url: str) -> PersonioProblem:
    """The sentence for retries that ran out."""
    if exc.status is None:
        return Unreachable(base_url, exc.error)
    return KeptFailing(exc.method, path_of(exc.url), exc.status, exc.attempts)


def error_text(reply: Reply) -> str:
    """Personio's own words for an error, from a v1 envelope, a v2 problem or an OAuth error."""
    try:
        body = reply.json()
    except ValueError:
        text = (reply.text or "").strip()
        return (text or getattr(reply, "reason_phrase", None) or "no details")[:MESSAGE_LIMIT]
    if isinstance(body, dict):
        errors = body.get("errors")
        if isinstance(errors, list) and errors and isinstance(errors[0], dict):
            parts = [str(errors[0][k]) for k in ("title", "detail") if errors[0].get(k)]
            if parts:
                return ": ".join(parts)[:MESSAGE_LIMIT]
        error = body.get("error")
        if isinstance(error, dict) and error.get("message"):
            return str(error["message"])[:MESSAGE_LIMIT]
        if isinstance(error, str):
            return str(body.get("error_description") or error)[:MESSAGE_LIMIT]
        for key in ("message", "detail", "title"):
            if body.get(key):
                return str(body[key])[:MESSAGE_LIMIT]
    return str(body)[:MESSAGE_LIMIT]


def path_of(url: str) -> str:
    """The path of a URL, never its query (which may hold filters or, once, credentials)."""
    return urlsplit(url).path or "/"


def bucket_key(method: str, url: str) -> str:
    """A v2 rate-limit bucket: method and endpoint, ids left out.

    ``/v2/persons/123/employments/9`` -> ``/v2/persons/{id}/employments/{id}``.
    """
    parts = [p for p in path_of(url).split("/") if p]
    shape = [p if i < 2 or i % 2 else "{id}" for i, p in enumerate(parts)]
    return f"{method.upper()} /{'/'.join(shape)}"


def retry_after(reply: Reply) -> float | None:
    """Personio's wait hint: ``Retry-After`` when it sends one (v1 may; v2 does not)."""
    return parse_retry_after(reply.headers.get("Retry-After"))


class PersonioPacing:
    """Waits before each request until it fits Personio's limits; one per client and run."""

    def __init__(self, *, clock: Clock = time.monotonic, sleep: Sleep = time.sleep) -> None:
        self.pacer = Pacer(clock=clock, sleep=sleep)
        self.v1 = Windows("v1", V1_LIMITS)
        self.employees = Windows("v1-employees", EMPLOYEES_LIMITS)

    @property
    def clock(self) -> Clock:
        return self.pacer.clock

    @property
    def sleep(self) -> Sleep:
        return self.pacer.sleep

    def _v1_windows(self, method: str, path: str) -> list[Windows]:
        windows = [self.v1]
        if method.upper() == "GET" and path.rstrip("/") == EMPLOYEES_PATH:
            windows.append(self.employees)
        return windows

    def before(self, method: str, url: str) -> float:
        """Wait until a request fits, count it, and return when it was sent. A v1 request
        counts until :meth:`after` (its answer), then from its answer."""
        path = path_of(url)
        if path.startswith("/v1/"):
            return self.pacer.send(self._v1_windows(method, path))
        if path.startswith("/v2/"):
            return self.pacer.acquire(key=bucket_key(method, url))
        return self.pacer.acquire()

    def after(self, method: str, url: str, headers: Mapping[str, str], sent: float) -> None:
        """The answer to the request sent at ``sent``: a v1 request counts from now on; a v2
        token bucket that is empty holds its endpoint until it refilled.

        The refill is counted from ``sent`` (when the request left), not from the answer, plus
        at most :data:`NETWORK_ALLOWANCE_SECONDS` for the way to Personio's gateway.
        """
        path = path_of(url)
        if path.startswith("/v1/"):
            self.pacer.answered(self._v1_windows(method, path), sent)
            return
        try:
            remaining = float(headers["x-ratelimit-remaining"])
            rate = float(headers["x-ratelimit-replenish-rate"])
            requested = float(headers.get("x-ratelimit-requested-tokens", 1))
        except (KeyError, ValueError):
            return
        if remaining >= requested or rate <= 0:
            return
        allowance = min(NETWORK_ALLOWANCE_SECONDS, max(0.0, self.clock() - sent))
        refilled = sent + (requested - remaining) / rate + allowance
        self.pacer.hold(bucket_key(method, url), refilled)
