"""The base streams: URL, authentication, pacing, retries and error handling for Personio.

Pacing keeps the tap under Personio's limits without waiting for a 429: the v1 employees list
allows 300 requests a minute with bursts of at most 15 a second, all v1 endpoints together 2000 a
minute; v2 endpoints announce their token buckets in ``x-ratelimit-*`` headers, which the tap
follows. A 429 that still comes waits for ``Retry-After`` (at least one second) and is retried, as
are 5xx answers and dropped connections, with exponential backoff.
"""

from __future__ import annotations

import random
import threading
import time
from collections import deque
from collections.abc import Callable, Generator
from datetime import UTC, datetime
from http import HTTPStatus
from typing import TYPE_CHECKING, Any, ClassVar, Literal
from urllib.parse import ParseResult, parse_qsl, urljoin, urlparse

import requests
from singer_sdk import RESTStream
from singer_sdk.exceptions import FatalAPIError, RetriableAPIError
from singer_sdk.pagination import BaseHATEOASPaginator
from typing_extensions import override

from tap_personio.auth import PersonioAuthenticator, _retry_after
from tap_personio.errors import guarded

if TYPE_CHECKING:
    from singer_sdk.helpers.types import Context
    from singer_sdk.streams.rest import HTTPRequest, PageContext

    from tap_personio.tap import TapPersonio

MAX_TRIES = 10
MAX_WAIT_SECONDS = 60.0
V2_PAGE_SIZE = 100

_sleep = time.sleep  # replaced in tests


class RateWindow:
    """At most ``limit`` requests in any ``seconds`` long window (sliding)."""

    def __init__(self, limit: int, seconds: float) -> None:
        self.limit = limit
        self.seconds = seconds
        self.stamps: deque[float] = deque()

    def delay(self, now: float) -> float:
        while self.stamps and self.stamps[0] <= now - self.seconds:
            self.stamps.popleft()
        if len(self.stamps) < self.limit:
            return 0.0
        return self.stamps[0] + self.seconds - now

    def record(self, now: float) -> None:
        self.stamps.append(now)


class Pacer:
    """Client-side rate limiting shared by every stream of one tap run.

    The windows sit a little under Personio's published limits so that clock differences
    between the tap and Personio do not turn into 429s.
    """

    def __init__(self, sleep: Callable[[float], None] | None = None) -> None:
        self.employees_windows = [RateWindow(290, 60.0), RateWindow(14, 1.0)]
        self.v1_windows = [RateWindow(1950, 60.0)]
        self.v2_not_before: dict[str, float] = {}
        self._sleep = sleep
        self._lock = threading.Lock()
        self.waited = 0.0
        self._last = 0.0

    def before(self, api: Literal["v1", "v2"], path: str) -> None:
        """Wait until a request to ``path`` fits the limits, then count it."""
        with self._lock:
            windows = self.v1_windows if api == "v1" else []
            if api == "v1" and path.rstrip("/").endswith("/company/employees"):
                windows = windows + self.employees_windows
            now = max(time.monotonic(), self._last)
            wait = max([w.delay(now) for w in windows] or [0.0])
            if api == "v2":
                wait = max(wait, self.v2_not_before.get(path, 0.0) - now)
            if wait > 0:
                self.waited += wait
                (self._sleep or _sleep)(wait)
                now = max(time.monotonic(), now + wait)
            self._last = now
            for window in windows:
                window.record(now)

    def observe(self, path: str, response: requests.Response) -> None:
        """Follow a v2 token bucket: when it is empty, wait for the refill before the next call."""
        headers = response.headers
        try:
            remaining = float(headers["x-ratelimit-remaining"])
            rate = float(headers["x-ratelimit-replenish-rate"])
            requested = float(headers.get("x-ratelimit-requested-tokens", 1))
        except (KeyError, ValueError):
            return
        if remaining >= requested or rate <= 0:
            return
        with self._lock:
            refill = (requested - remaining) / rate
            self.v2_not_before[path] = time.monotonic() + refill * 1.05


class PersonioStream(RESTStream[Any]):
    """One Personio endpoint: token authentication, pacing, retries and clear errors."""

    api: ClassVar[Literal["v1", "v2"]] = "v1"
    _tap: TapPersonio

    @property
    @override
    def url_base(self) -> str:
        return self._tap.base_url

    @property
    @override
    def authenticator(self) -> PersonioAuthenticator:
        return self._tap.authenticator(self.api)

    @property
    @override
    def http_headers(self) -> dict[str, str]:
        return {"Accept": "application/json"}

    @property
    @override
    def user_agent(self) -> str:
        return "tap-personio"

    @override
    def request_decorator(
        self, func: Callable[..., requests.Response]
    ) -> Callable[..., requests.Response]:
        pacer = self._tap.pacer

        def paced(prepared_request: requests.PreparedRequest, context: Context | None) -> Any:
            pacer.before(self.api, urlparse(prepared_request.url or "").path)
            return func(prepared_request, context)

        return super().request_decorator(paced)

    @override
    def validate_response(self, response: requests.Response) -> None:
        path = urlparse(response.url).path or self.path
        if self.api == "v2":
            self._tap.pacer.observe(path, response)
        status = response.status_code
        if status in (HTTPStatus.UNAUTHORIZED, HTTPStatus.FORBIDDEN):
            rejected = response.request.headers.get("Authorization") if response.request else None
            if self.authenticator.renew(rejected):
                raise ReauthenticationNeeded(self.response_error_message(response), response)
            raise FatalAPIError(
                f"Personio refused access to {path} (HTTP {status}) even with a fresh token: "
                "allow this endpoint's scope for the API credential in Personio "
                "(Settings > Integrations > API credentials) or deselect the stream."
            )
        if status == HTTPStatus.TOO_MANY_REQUESTS or status >= HTTPStatus.INTERNAL_SERVER_ERROR:
            raise RetriableAPIError(self.response_error_message(response), response)
        if status >= HTTPStatus.BAD_REQUEST:
            raise FatalAPIError(
                f"Personio answered {self.response_error_message(response)}; "
                "check the tap's settings (windows, start_date) or report it if they look right."
            )
        self.authenticator.accepted()

    @override
    def response_error_message(self, response: requests.Response) -> str:
        """Status, path and Personio's own message; never the query string or headers."""
        path = urlparse(response.url).path or self.path
        return f"HTTP {response.status_code} for {path}: {vendor_message(response)}"

    @override
    def get_records(self, context: Context | None) -> Generator[dict[str, Any], None, None]:
        records = iter(super().get_records(context))
        while True:
            record = guarded(lambda: next(records, None))
            if record is None:
                return
            yield record

    @override
    def backoff_wait_generator(self) -> Generator[float, Any, None]:
        attempt = 0
        exception = yield 0.0  # primed by the backoff library
        while True:
            attempt += 1
            exception = yield retry_wait(exception, attempt)

    @override
    def backoff_jitter(self, value: float) -> float:
        return value

    @override
    def backoff_handler(self, details: Any) -> None:
        exception = details.get("exception")
        if isinstance(exception, ReauthenticationNeeded):
            self.logger.info("Personio rejected the token for %s; authenticating again", self.path)
            return
        reason = (
            f"HTTP {exception.response.status_code}"
            if isinstance(exception, RetriableAPIError) and exception.response is not None
            else type(exception).__name__
        )
        self.logger.warning(
            "Retrying %s in %.1f s after %s (try %d)",
            self.path,
            details.get("wait", 0.0),
            reason,
            details.get("tries", 0),
        )

    @override
    def backoff_max_tries(self) -> int:
        return MAX_TRIES


class ReauthenticationNeeded(RetriableAPIError):
    """The endpoint rejected the token: retry at once with a new one."""


def retry_wait(exception: BaseException | None, attempt: int) -> float:
    """Seconds to wait before retrying after ``exception`` (the ``attempt``-th failure)."""
    if isinstance(exception, ReauthenticationNeeded):
        return 0.0
    backoff = min(MAX_WAIT_SECONDS, 2.0 ** (attempt - 1)) * (1 + random.random() / 10)
    response = exception.response if isinstance(exception, RetriableAPIError) else None
    if response is not None and response.status_code == HTTPStatus.TOO_MANY_REQUESTS:
        if "Retry-After" in response.headers:
            return min(MAX_WAIT_SECONDS, _retry_after(response, default=1.0))
        try:
            refill = 1.0 / float(response.headers["x-ratelimit-replenish-rate"])
        except (KeyError, ValueError, ZeroDivisionError):
            refill = 1.0
        return min(MAX_WAIT_SECONDS, max(1.0, refill, backoff / 2))
    return backoff


def vendor_message(response: requests.Response) -> str:
    """Personio's error text from a v1 envelope or a v2 problem document, shortened."""
    try:
        body = response.json()
    except ValueError:
        return (response.text or response.reason or "no details")[:300]
    if isinstance(body, dict):
        error = body.get("error")
        if isinstance(error, dict) and error.get("message"):
            return str(error["message"])[:300]
        errors = body.get("errors")
        if isinstance(errors, list) and errors and isinstance(errors[0], dict):
            first = errors[0]
            return str(first.get("detail") or first.get("title") or first)[:300]
        for key in ("error_description", "error", "message", "detail", "title"):
            if body.get(key):
                return str(body[key])[:300]
    return str(body)[:300]


class NextLinkPaginator(BaseHATEOASPaginator):
    """v2 cursor paging: follow ``_meta.links.next.href`` (absolute or relative)."""

    def __init__(self, base_url: str) -> None:
        super().__init__()
        self.base_url = base_url

    @override
    def get_next_url(self, response: requests.Response) -> str | None:
        links = (response.json().get("_meta") or {}).get("links") or {}
        href = (links.get("next") or {}).get("href")
        if not href:
            return None
        return urljoin(self.base_url + "/", href)

    @override
    def has_more(self, response: requests.Response) -> bool:
        return bool(response.json().get("_data")) and super().has_more(response)


class PersonioV2Stream(PersonioStream):
    """A v2 list endpoint: ``_data`` records, cursor paging."""

    api = "v2"
    records_jsonpath = "$._data[*]"

    @override
    def get_new_paginator(self) -> NextLinkPaginator:
        return NextLinkPaginator(self.url_base)

    def query(self, context: Context | None) -> dict[str, Any]:
        """The filters of the first page; later pages repeat them with the next cursor."""
        return {"limit": V2_PAGE_SIZE}

    @override
    def get_http_request(self, *, page: PageContext) -> HTTPRequest:
        request = super().get_http_request(page=page)
        params = self.query(page.stream_context)
        token = page.next_page_token
        if isinstance(token, ParseResult):
            params.update(parse_qsl(token.query, keep_blank_values=True))
            request.url = token._replace(query="", fragment="").geturl()
        request.params = params
        return request


def parse_timestamp(value: Any) -> datetime | None:
    """A timezone-aware datetime from an ISO string (naive means UTC), else None."""
    if not isinstance(value, str) or not value:
        return None
    text = value.strip().replace("Z", "+00:00")
    if len(text) > 5 and text[-5] in "+-" and text[-3] != ":" and "T" in text:
        text = f"{text[:-2]}:{text[-2:]}"  # +0100 -> +01:00
    try:
        parsed = datetime.fromisoformat(text)
    except ValueError:
        return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def iso_timestamp(value: Any) -> str | None:
    """An RFC 3339 date-time string for any ISO date-time Personio sends."""
    parsed = parse_timestamp(value)
    return parsed.isoformat() if parsed else None


class WindowedV2Stream(PersonioV2Stream):
    """A v2 period endpoint read within the tap's window, incremental on ``updated_at``.

    Without a bookmark (first run, ``--full-refresh``) the whole window is read and, unless
    ``window_activate_version`` is off, framed by two ACTIVATE_VERSION messages with the same
    version: one before the first record, one after the last. The second one tells a target that
    the window was read completely. Incremental runs re-read ``lookback_minutes`` before the
    bookmark and send no ACTIVATE_VERSION.
    """

    replication_key = "updated_at"
    window_params: ClassVar[tuple[str, str]]
    """Query parameters taking the window's start and end (local times without offset)."""

    def updated_since(self, context: Context | None) -> datetime | None:
        """Bookmark minus ``lookback_minutes``; None when there is no bookmark."""
        bookmark = parse_timestamp(self.get_context_state(context).get("replication_key_value"))
        if bookmark is None:
            return None
        return bookmark - self._tap.lookback

    @override
    def query(self, context: Context | None) -> dict[str, Any]:
        start, end = self._tap.window
        params: dict[str, Any] = {
            "limit": V2_PAGE_SIZE,
            self.window_params[0]: local_text(start),
            self.window_params[1]: local_text(end),
        }
        since = self.updated_since(context)
        if since is not None:
            params["updated_at.gte"] = local_text(since.astimezone(UTC))
        return params

    @override
    def get_records(self, context: Context | None) -> Generator[dict[str, Any], None, None]:
        framed = self.updated_since(context) is None and bool(
            self.config.get("window_activate_version", True)
        )
        if not framed:
            yield from super().get_records(context)
            return
        version = int(time.time() * 1000)
        self._stream_version = version  # records of this read carry the version
        self._write_activate_version_message(version)
        yield from super().get_records(context)
        # Resumed only after the last record was written: the window was read completely.
        self._write_activate_version_message(version)


def local_text(moment: datetime) -> str:
    """``YYYY-MM-DDTHH:MM:SS`` without offset, as v2 filters want them."""
    return moment.strftime("%Y-%m-%dT%H:%M:%S")
