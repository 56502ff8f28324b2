"""The httpx client on THE Staffomatic policy: one per run, for every plugin that is not a tap.

target-staffomatic writes through it; target-personio reads one Staffomatic record through it
to confirm a deletion. Authentication, the ``User-Agent``, pacing to Staffomatic's limit,
``Retry-After``, retries and Staffomatic's error text are :mod:`vendor_http.staffomatic` (shared
with tap-staffomatic); this module sends the requests and turns the policy's outcomes into errors:

- 401/403 raise :class:`AuthError` (the run must stop); other 4xx raise :class:`RejectedError`
  (the record failed, the run goes on); retries that ran out raise :class:`UnreachableError`.
- A write whose answer was lost is never sent again blindly: a POST whose connection broke
  after it was sent, or that was answered 500, 502 or 504 (Staffomatic, or a gateway in front of
  it, may have created the record), raises :class:`AnswerLost`, a :class:`RejectedError`; 429
  and 503 say it was not done, and it is sent again. On a lost answer the record fails; the
  next run reads and links what was created (by ``custom_id``, e-mail, or user, type and times)
  or creates it.
- Logs show method, path and status only: never headers, so never credentials.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, replace
from typing import Any

import httpx

from vendor_http import retry, staffomatic
from vendor_http.budget import (
    DEFAULT_RATE_LIMIT_WAIT,
    TARGET_NEXT_STEP,
    RateLimitBudget,
    RateLimitWaitSpent,
)
from vendor_http.staffomatic import PAGE_SIZE, StaffomaticPacer

logger = logging.getLogger("vendor_http.staffomatic_client")
logging.getLogger("httpx").setLevel(logging.WARNING)  # one line per request is too much
logging.getLogger("httpcore").setLevel(logging.INFO)  # its DEBUG lines print every header


GONE_STATUSES = frozenset({404, 410})
"""Answers to a read of one record that say it no longer exists."""


def _sleep(seconds: float) -> None:
    """The client's wait when its constructor is given none (the in-process test kits swap it)."""
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


class AnswerLost(RejectedError):
    """A write was sent but its answer was lost: it may or may not have been applied.

    Never sent again in the same run: the record fails, and the next run reads Staffomatic to
    find (and link) what the write created before it sends anything again.
    """

    def __init__(self, method: str, path: str, status: int, why: str) -> None:
        super().__init__(
            status,
            f"{why} {method} {path}: it may or may not have been applied, so it is not "
            "repeated now",
        )
        self.method = method
        self.path = path


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
        user_agent: str = "personio-staffomatic-sync",
        timeout: float = 30.0,
        max_connections: int = 8,
        max_requests: int = staffomatic.LIMIT.requests,
        per_seconds: float = staffomatic.LIMIT.seconds,
        max_attempts: int = staffomatic.RETRY.max_attempts,
        backoff_base: float = 0.25,
        backoff_cap: float = 30.0,
        rate_limit_wait: float = DEFAULT_RATE_LIMIT_WAIT,
        transport: httpx.BaseTransport | None = None,
        sleep: Callable[[float], None] | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        try:
            authorization = staffomatic.authorization(
                email=email, password=password, api_token=api_token
            )
        except staffomatic.MissingCredentials as exc:
            raise AuthError(str(exc)) from None
        self.account = account
        self.sleep = sleep or (lambda seconds: _sleep(seconds))
        self.http = httpx.Client(
            base_url=staffomatic.account_url(base_url, account),
            headers={
                "User-Agent": user_agent,
                "Accept": "application/json",
                "Authorization": authorization,
            },
            timeout=httpx.Timeout(timeout, connect=min(timeout, 10.0)),
            limits=httpx.Limits(
                max_connections=max_connections, max_keepalive_connections=max_connections
            ),
            transport=transport,
        )
        self.pacer = StaffomaticPacer(max_requests, per_seconds, clock=clock, sleep=self.sleep)
        self.retry = replace(
            staffomatic.RETRY,
            max_attempts=max_attempts,
            base_seconds=backoff_base,
            max_backoff=backoff_cap,
        )
        """Staffomatic's retries; the target backs off from a shorter first step than the tap,
        since its failed records are retried by the next run anyway."""
        self.budget = RateLimitBudget(rate_limit_wait, vendor=staffomatic.VENDOR, clock=clock)
        """The run's allowance of waiting on 429s, all writers together."""
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
        return self._judge(method, path, self._send(method, path, params=params, json=json))

    def _send(
        self,
        method: str,
        path: str,
        *,
        params: dict[str, Any] | None = None,
        json: Any = None,
        extra: dict[str, str] | None = None,
    ) -> httpx.Response:
        """One request with pacing and retries; the answer, or the error that ends it."""
        headers = {"Content-Type": staffomatic.JSON_CONTENT_TYPE} if json is not None else {}
        headers |= extra or {}

        def send() -> httpx.Response:
            with self.pacer.slot():
                with self._count_lock:
                    self.requests += 1
                return self.http.request(method, path, params=params, json=json, headers=headers)

        def pause(seconds: float) -> None:
            with self._count_lock:
                self.retries += 1
            logger.info("Retrying %s %s in %.1f s", method, path, seconds)
            self.sleep(seconds)

        try:
            response = retry.send_with_retries(
                send,
                method=method,
                url=path,
                policy=self.retry,
                budget=self.budget,
                sleep=pause,
                retry_after=staffomatic.retry_after,
            )
        except retry.AnswerLost as lost:
            if lost.status is None:
                raise AnswerLost(method, path, 0, "the connection broke during") from lost
            raise AnswerLost(method, path, lost.status, f"HTTP {lost.status} to") from None
        except RateLimitWaitSpent as exc:
            raise UnreachableError(exc.sentence(TARGET_NEXT_STEP)) from None
        except retry.RetriesExhausted as exc:
            last = f"HTTP {exc.status}" if exc.status is not None else type(exc.error).__name__
            raise UnreachableError(
                f"Staffomatic did not answer {method} {path} successfully after "
                f"{exc.attempts} attempts (last: {last}): check base_url and the network, "
                "then run again."
            ) from None
        return response

    def _judge(self, method: str, path: str, response: httpx.Response) -> Any:
        """The decoded body of a success, else the error for the answer."""
        status = response.status_code
        logger.debug("%s %s -> %s", method, path, status)
        if status < 400:
            if status == 204 or not response.content:
                return None
            try:
                return response.json()
            except ValueError:
                return None
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
        detail = staffomatic.error_text(response)
        raise RejectedError(status, f"HTTP {status}: {detail}".strip(": "))

    def get(self, path: str, params: dict[str, Any] | None = None) -> Any:
        return self.request("GET", path, params=params)

    def get_one(self, path: str) -> dict[str, Any] | None:
        """One record by its path; None when Staffomatic answers 404 or 410 (it is gone).

        Other refusals raise as :meth:`request` does."""
        try:
            found = self.request("GET", path)
        except RejectedError as exc:
            if exc.status in GONE_STATUSES:
                return None
            raise
        if not isinstance(found, dict):
            raise UnreachableError(
                f"Staffomatic answered GET {path} with something other than one record: check "
                "base_url (it must end in /v3)."
            )
        return found

    def get_all(self, path: str, params: dict[str, Any] | None = None) -> list[dict[str, Any]]:
        """Every record of a list endpoint: pages of ``PAGE_SIZE`` until a short or empty page."""
        return [record for batch in self.pages(path, params) for record in batch]

    def pages(
        self, path: str, params: dict[str, Any] | None = None
    ) -> Iterator[list[dict[str, Any]]]:
        """The pages of a list endpoint one at a time (``PAGE_SIZE`` records each, until a short
        or empty page), so a caller keeps only what it needs of each."""
        page = 1
        while True:
            batch = self.request("GET", path, params=_paged(params, page))
            yield _as_list(path, batch)
            if len(batch) < PAGE_SIZE:
                return
            page += 1

    def revalidate(
        self, path: str, params: dict[str, Any] | None = None, etag: str | None = None
    ) -> Revalidated:
        """One GET sent with ``If-None-Match: etag`` (Staffomatic's documented HTTP caching):
        ``not_modified`` when it answers 304 (the caller's copy is current), else the body and
        its new ``ETag``."""
        extra = {"If-None-Match": etag} if etag else None
        response = self._send("GET", path, params=params, extra=extra)
        if response.status_code == 304 and etag:
            return Revalidated(etag, None, not_modified=True)
        body = self._judge("GET", path, response)
        return Revalidated(response.headers.get("ETag"), body, not_modified=False)

    def revalidate_page(
        self, path: str, page: int, params: dict[str, Any] | None = None, etag: str | None = None
    ) -> Revalidated:
        """:meth:`revalidate` of one page of a list endpoint (a list body, checked)."""
        found = self.revalidate(path, _paged(params, page), etag)
        if not found.not_modified:
            _as_list(path, found.body)
        return found


@dataclass(frozen=True)
class Revalidated:
    """The answer to a conditional GET: the ``ETag`` and body, or ``not_modified`` (304)."""

    etag: str | None
    body: Any
    not_modified: bool


def _paged(params: dict[str, Any] | None, page: int) -> dict[str, Any]:
    return {**(params or {}), "page": page, "per_page": PAGE_SIZE}


def _as_list(path: str, batch: Any) -> list[dict[str, Any]]:
    if not isinstance(batch, list):
        raise UnreachableError(
            f"Staffomatic answered GET {path} with something other than a list: check "
            "base_url (it must end in /v3)."
        )
    return batch
