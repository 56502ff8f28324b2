"""The Staffomatic HTTP client: one httpx client per run, paced under the rate limit, with retries.

- Base URL ``{base_url}/{account}``; paths end in ``.json``.
- Basic auth (``email`` + ``password``) or ``Authorization: Bearer <api_token>``.
- ``User-Agent`` (Staffomatic answers 400 without one), JSON content type on writes.
- Pacing: at most ``max_requests`` requests in any ``per_seconds`` window (Staffomatic allows
  500 per 10 s per IP; the default keeps a margin), shared by every thread of the run.
- Retries on 429, 5xx and transport errors with exponential backoff and full jitter; a
  ``Retry-After`` header is honoured (at least 1 s on a 429). A POST is not repeated after the
  connection broke once the request was sent, nor after a 5xx answer (a gateway may answer 502
  or 504 after Staffomatic created the record): it may have been applied, and repeating it
  could create a duplicate. The record fails; the next run links what was created (by
  ``custom_id``, e-mail, or user, type and times) or creates it.
- 401/403 raise :class:`AuthError` (the run must stop); other 4xx raise :class:`RejectedError`
  (the record failed, the run goes on); exhausted retries raise :class:`UnreachableError`.
- Logs show method, path and status only: never headers, so never credentials.
"""

from __future__ import annotations

import logging
import random
import threading
import time
from collections import deque
from collections.abc import Callable
from email.utils import parsedate_to_datetime
from typing import Any

import httpx

logger = logging.getLogger("target_staffomatic.client")
logging.getLogger("httpx").setLevel(logging.WARNING)  # one line per request is too much
logging.getLogger("httpcore").setLevel(logging.INFO)  # its DEBUG lines print every header

RETRY_STATUSES = frozenset({429, 500, 502, 503, 504})
PAGE_SIZE = 100
NOT_SENT = (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout)
"""Transport errors raised before the request reached the server (safe to repeat)."""


def _sleep(seconds: float) -> None:
    """Every wait of the client (tests replace it)."""
    time.sleep(seconds)


class StaffomaticError(Exception):
    """A Staffomatic request failed; the message is one sentence for a person."""


class AuthError(StaffomaticError):
    """The credentials were refused or lack a permission: the run stops."""


class UnreachableError(StaffomaticError):
    """Staffomatic could not be reached or kept failing after every retry: the run stops."""


class RejectedError(StaffomaticError):
    """Staffomatic refused one write (4xx): the record fails, the others go on."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status


class Pacer:
    """At most ``limit`` calls in any ``seconds`` long window, across threads."""

    def __init__(
        self,
        limit: int,
        seconds: float,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.limit = limit
        self.seconds = seconds
        self.clock = clock
        self.sleep = sleep
        self.stamps: deque[float] = deque()
        self.lock = threading.Lock()

    def wait(self) -> None:
        while True:
            with self.lock:
                now = self.clock()
                while self.stamps and self.stamps[0] <= now - self.seconds:
                    self.stamps.popleft()
                if len(self.stamps) < self.limit:
                    self.stamps.append(now)
                    return
                pause = self.stamps[0] + self.seconds - now
            self.sleep(max(pause, 0.001))


def retry_after(response: httpx.Response) -> float | None:
    """Seconds from a ``Retry-After`` header (seconds or an HTTP date), else None."""
    value = response.headers.get("Retry-After")
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        moment = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(0.0, moment.timestamp() - time.time())


def _detail(response: httpx.Response) -> str:
    """A short reason from an error body (JSON errors or the first line of text)."""
    try:
        body = response.json()
    except ValueError:
        text = response.text.strip().splitlines()
        return text[0][:200] if text else ""
    if isinstance(body, dict):
        for key in ("errors", "error", "message"):
            if key in body:
                value = body[key]
                if isinstance(value, dict):
                    return "; ".join(
                        f"{k} {', '.join(map(str, v)) if isinstance(v, list) else v}"
                        for k, v in value.items()
                    )[:300]
                return str(value)[:300]
    return str(body)[:300]


class StaffomaticClient:
    """Requests to one Staffomatic account. Thread-safe; close it (or use ``with``) at the end."""

    def __init__(
        self,
        base_url: str,
        account: str,
        *,
        email: str | None = None,
        password: str | None = None,
        api_token: str | None = None,
        user_agent: str = "target-staffomatic",
        timeout: float = 30.0,
        max_connections: int = 8,
        max_requests: int = 450,
        per_seconds: float = 10.0,
        max_attempts: int = 6,
        backoff_base: float = 0.5,
        backoff_cap: float = 30.0,
        transport: httpx.BaseTransport | None = None,
        sleep: Callable[[float], None] | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        sleep = sleep or _sleep
        if api_token:
            auth: dict[str, Any] = {"headers": {"Authorization": f"Bearer {api_token}"}}
        elif email and password:
            auth = {"auth": httpx.BasicAuth(email, password)}
        else:
            raise AuthError(
                "Staffomatic credentials are missing: set api_token, or email and password."
            )
        headers = {
            "User-Agent": user_agent,
            "Accept": "application/json",
            **auth.pop("headers", {}),
        }
        self.account = account
        self.http = httpx.Client(
            base_url=f"{base_url.rstrip('/')}/{account}",
            headers=headers,
            timeout=httpx.Timeout(timeout, connect=min(timeout, 10.0)),
            limits=httpx.Limits(
                max_connections=max_connections, max_keepalive_connections=max_connections
            ),
            transport=transport,
            **auth,
        )
        self.pacer = Pacer(max_requests, per_seconds, clock=clock, sleep=sleep)
        self.max_attempts = max_attempts
        self.backoff_base = backoff_base
        self.backoff_cap = backoff_cap
        self.sleep = sleep
        self.requests = 0
        self.retries = 0
        self._count_lock = threading.Lock()

    def close(self) -> None:
        self.http.close()

    def __enter__(self) -> StaffomaticClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # ---- requests -----------------------------------------------------------------------------

    def request(
        self,
        method: str,
        path: str,
        *,
        params: dict[str, Any] | None = None,
        json: Any = None,
    ) -> Any:
        """Send one request with pacing and retries; returns the decoded JSON body (or None)."""
        headers = {"Content-Type": "application/json; charset=utf-8"} if json is not None else {}
        last = ""
        for attempt in range(1, self.max_attempts + 1):
            self.pacer.wait()
            with self._count_lock:
                self.requests += 1
            try:
                response = self.http.request(
                    method, path, params=params, json=json, headers=headers
                )
            except httpx.TransportError as exc:
                sent = not isinstance(exc, NOT_SENT)
                if method == "POST" and sent:
                    raise RejectedError(
                        0,
                        f"the connection broke during {method} {path}; it may or may not have "
                        "been applied, so it is not repeated now",
                    ) from None
                last = f"{type(exc).__name__}"
                self._pause(attempt, None, path, last)
                continue
            status = response.status_code
            logger.debug("%s %s -> %s", method, path, status)
            if status < 400:
                if status == 204 or not response.content:
                    return None
                try:
                    return response.json()
                except ValueError:
                    return None
            if status in RETRY_STATUSES and method == "POST" and status != 429:
                raise RejectedError(
                    status,
                    f"HTTP {status} to {method} {path}: it may or may not have been applied, so "
                    "it is not repeated now",
                )
            if status in RETRY_STATUSES:
                last = f"HTTP {status}"
                wait = retry_after(response)
                if status == 429:
                    wait = max(wait or 0.0, 1.0)
                self._pause(attempt, wait, path, last)
                continue
            if status == 401:
                raise AuthError(
                    f"Staffomatic refused the credentials for account '{self.account}' (401): "
                    "check api_token, or email and password, and the account setting."
                )
            if status == 403:
                raise AuthError(
                    f"Staffomatic forbade {method} {path} (403): the API user of account "
                    f"'{self.account}' needs admin rights for the sync."
                )
            raise RejectedError(status, f"HTTP {status}: {_detail(response)}".strip(": "))
        raise UnreachableError(
            f"Staffomatic did not answer {method} {path} successfully after "
            f"{self.max_attempts} attempts (last: {last}): check base_url and the network, "
            "then run again."
        )

    def _pause(self, attempt: int, wait: float | None, path: str, why: str) -> None:
        if attempt >= self.max_attempts:
            return
        with self._count_lock:
            self.retries += 1
        backoff = random.uniform(0, min(self.backoff_cap, self.backoff_base * 2 ** (attempt - 1)))
        delay = max(wait, backoff) if wait is not None else backoff
        logger.info("Retrying %s in %.1f s after %s (attempt %d)", path, delay, why, attempt)
        self.sleep(delay)

    def get(self, path: str, params: dict[str, Any] | None = None) -> Any:
        return self.request("GET", path, params=params)

    def get_all(self, path: str, params: dict[str, Any] | None = None) -> list[dict[str, Any]]:
        """Every record of a list endpoint: pages of ``PAGE_SIZE`` until a short or empty page."""
        found: list[dict[str, Any]] = []
        page = 1
        while True:
            batch = self.request(
                "GET", path, params={**(params or {}), "page": page, "per_page": PAGE_SIZE}
            )
            if not isinstance(batch, list):
                raise UnreachableError(
                    f"Staffomatic answered GET {path} with something other than a list: check "
                    "base_url (it must end in /v3)."
                )
            found.extend(batch)
            if len(batch) < PAGE_SIZE:
                return found
            page += 1
