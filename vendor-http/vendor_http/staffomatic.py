"""THE Staffomatic HTTP policy, used by tap-staffomatic and target-staffomatic alike.

- The address of an account: ``{base_url}/{account}``, paths ending in ``.json``
  (:func:`account_url`), collections read ``PAGE_SIZE`` records a page.
- Authentication: HTTP Basic with a user's e-mail and password, or an access token sent as
  Bearer (:func:`authorization`). Staffomatic answers 400 to a request without a
  ``User-Agent``, and asks for one naming the integration and a contact e-mail
  (:func:`user_agent`, :func:`names_contact`); writes carry :data:`JSON_CONTENT_TYPE` (else 415).
- Pacing to the documented limit, 500 requests in any 10 seconds per client, each request
  counted until its answer came (:class:`StaffomaticPacer`); Staffomatic sends no rate-limit
  headers to follow.
- Retries (:data:`RETRY`, on :mod:`vendor_http.retry`): 429, 5xx and broken connections, with
  ``Retry-After`` honoured; a 429 without one waits a second, enough for a 10-second window to
  move on. 429s are waited for within the run's budget (a
  :class:`~vendor_http.budget.RateLimitBudget` naming :data:`VENDOR`). :func:`failure_facts`
  reads what a failed try tells the policy.
- Staffomatic's own words for an error (:func:`error_text`): its error bodies are not documented;
  401s come as plain text, 404s as HTML pages, 422s as Rails-style JSON objects. Any of
  ``{"errors": {...}}``, ``{"errors": [...]}``, ``{"error": ...}``, ``{"message": ...}`` or plain
  text gives its reason (the sandbox switch ``error_bodies`` answers in each).
"""

from __future__ import annotations

import base64
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from typing import Any

from pyrate_limiter import RateItem

from vendor_http.pacing import Clock, Limit, Sleep, Windows
from vendor_http.retry import Reply, RetryPolicy
from vendor_http.retry_after import parse_retry_after

DEFAULT_BASE_URL = "https://api.staffomaticapp.com/v3"
PAGE_SIZE = 100
"""Records asked for per page (``per_page``); the official client uses the same."""
LIMIT = Limit(500, 10.0)
"""Staffomatic's documented rate limit: 500 requests in any 10 seconds per client."""
JSON_CONTENT_TYPE = "application/json; charset=utf-8"
MESSAGE_LIMIT = 300


@dataclass(frozen=True)
class StaffomaticRetry(RetryPolicy):
    """The vendor-neutral retries, except that a 429 without ``Retry-After`` waits ``min_wait``.

    Staffomatic's limit is a sliding 10-second window: once a 429 came, the oldest requests
    leave it within seconds, so a bare 429 waits the minimum instead of a growing backoff.
    """

    def wait(self, attempt: int, status: int | None, retry_after: float | None) -> float:
        if status == 429 and retry_after is None:
            return self.min_wait
        return super().wait(attempt, status, retry_after)


RETRY = StaffomaticRetry()
"""5xx and broken connections 6 times (backoff 1, 2, 4, ... s), 429s within the run's budget."""
VENDOR = "Staffomatic"


class MissingCredentials(ValueError):
    """Neither an access token nor an e-mail with its password was given."""

    def __init__(self) -> None:
        super().__init__(
            "Staffomatic credentials are missing: set api_token, or email and password."
        )


def account_url(base_url: str | None, account: str) -> str:
    """The root of one account's API: ``https://api.staffomaticapp.com/v3/acme``."""
    return f"{(base_url or DEFAULT_BASE_URL).rstrip('/')}/{account.strip()}"


def authorization(
    *, email: str | None = None, password: str | None = None, api_token: str | None = None
) -> str:
    """The ``Authorization`` header: ``Bearer`` with a token, else ``Basic`` e-mail:password."""
    if api_token:
        return f"Bearer {api_token}"
    if email and password:
        pair = base64.b64encode(f"{email}:{password}".encode()).decode("ascii")
        return f"Basic {pair}"
    raise MissingCredentials


def user_agent(setting: str | None, *, plugin: str, email: str | None = None) -> str:
    """The ``User-Agent``: the setting, else the plugin named with the API user's e-mail."""
    if setting:
        return setting
    return f"{plugin} ({email})" if email else plugin


def names_contact(agent: str) -> bool:
    """Whether a ``User-Agent`` carries the contact e-mail address Staffomatic asks for."""
    return "@" in agent


def retry_after(reply: Reply) -> float | None:
    """Staffomatic's wait hint: its ``Retry-After`` header, in seconds or as an HTTP date."""
    return parse_retry_after(reply.headers.get("Retry-After"))


def failure_facts(failure: BaseException) -> tuple[int | None, float | None]:
    """The status and ``Retry-After`` of a failed try; (None, None) for a broken connection.

    ``failure`` is an exception that carries the answer as ``response`` (as the SDK's
    ``RetriableAPIError`` does), or any connection error.
    """
    response = getattr(failure, "response", None)
    if response is None:
        return None, None
    return response.status_code, retry_after(response)


def retry_wait(failure: BaseException, attempt: int) -> float:
    """Seconds :data:`RETRY` waits after the ``attempt``-th try ended in ``failure``."""
    return RETRY.wait(attempt, *failure_facts(failure))


def error_text(reply: Reply) -> str:
    """Staffomatic's reason for an error: from a JSON body, else the first line of the text."""
    try:
        body = reply.json()
    except ValueError:
        lines = (reply.text or "").strip().splitlines()
        return lines[0][:200] if lines else ""
    if isinstance(body, dict):
        for key in ("errors", "error", "message"):
            if key in body:
                return _reason(body[key])[:MESSAGE_LIMIT]
    return str(body)[:MESSAGE_LIMIT]


def _reason(value: Any) -> str:
    """``{"email": ["is invalid"]}`` -> ``email is invalid``; ``["Email is invalid", ...]`` ->
    the sentences joined by ``; ``; anything else as text."""
    if isinstance(value, list):
        return "; ".join(_reason(item) for item in value)
    if not isinstance(value, dict):
        return str(value)
    return "; ".join(
        f"{field} {', '.join(map(str, problem)) if isinstance(problem, list) else problem}"
        for field, problem in value.items()
    )


class StaffomaticPacer:
    """At most ``limit`` requests in any ``seconds`` long window; one per client and run.

    Without arguments it paces to :data:`LIMIT`, shared by every stream or thread of a run.
    Staffomatic counts a request when it arrives, some time between its send and its answer, so
    a request sent through :meth:`slot` counts from its send until its answer and then again
    from the answer: the window of the client is never ahead of Staffomatic's, whatever the
    latency, and pacing at the documented limit draws no 429. (The vendor-neutral
    :class:`~vendor_http.pacing.Pacer` counts from the send only.)
    """

    def __init__(
        self,
        limit: int | None = None,
        seconds: float | None = None,
        *,
        clock: Clock = time.monotonic,
        sleep: Sleep = time.sleep,
    ) -> None:
        self.limit = Limit(limit or LIMIT.requests, seconds or LIMIT.seconds)
        self.clock = clock
        self.sleep = sleep
        self.waited = 0.0
        """Seconds spent waiting so far."""
        self._window = Windows("staffomatic", [self.limit])
        self._last = float("-inf")
        self._lock = threading.Lock()

    def wait(self) -> None:
        """Block until one more request fits the window, then count it from now."""
        self._take()

    @contextmanager
    def slot(self) -> Iterator[None]:
        """Send one request in the block: it waits until it fits, and counts until its answer."""
        item = self._take()
        try:
            yield
        finally:
            self._count_from_answer(item)

    def _take(self) -> RateItem:
        floor = float("-inf")  # a clock that moves only when slept (tests) still moves on
        while True:
            with self._lock:
                now = max(self.clock(), self._last, floor)
                item, wait = self._window.take(round(now * 1000))
                if item is not None:
                    self._last = now
                    return item
                self.waited += wait
            self.sleep(wait)  # outside the lock: answers that come meanwhile are counted
            floor = now + wait

    def _count_from_answer(self, item: RateItem) -> None:
        with self._lock:
            now = self._last = max(self.clock(), self._last)
            with suppress(ValueError):  # an answer slower than the window: it left already
                self._window.give_back(item)
            self._window.take(round(now * 1000))
