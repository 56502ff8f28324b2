"""The base streams: URL, authentication, pacing, retries and error handling for Personio.

The rules are THE Personio policy of :mod:`vendor_http.personio` (shared with target-personio),
fed into the SDK's hooks: every request waits in ``request_decorator`` until it fits Personio's
limits, and reports its answer's rate-limit headers with the moment it was sent;
``validate_response`` sorts answers into a renewed token, a retry (429, 5xx) and a fatal error;
``backoff_wait_generator`` asks the shared retry policy how long to wait and when to give up.

Streams get what they need (:class:`Personio`, :class:`Window`) as constructor arguments, never
from the Tap object.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Generator, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from http import HTTPStatus
from typing import TYPE_CHECKING, Any, ClassVar
from urllib.parse import ParseResult, parse_qsl, urljoin

import requests
from singer_sdk import RESTStream, Tap
from singer_sdk.exceptions import FatalAPIError, RetriableAPIError
from singer_sdk.pagination import BaseHATEOASPaginator
from typing_extensions import override
from vendor_http.budget import RateLimitBudget
from vendor_http.personio import (
    Generation,
    PersonioPacing,
    error_text,
    path_of,
    retry_after,
)
from vendor_http.retry import RetryPolicy, RetryState, never_sent
from vendor_http.timeutil import local_text, parse_timestamp

from tap_personio.auth import PersonioAuthenticator
from tap_personio.errors import guarded

if TYPE_CHECKING:
    from singer_sdk.helpers.types import Context
    from singer_sdk.streams.rest import HTTPRequest, PageContext

V2_PAGE_SIZE = 100


@dataclass(frozen=True)
class Personio:
    """What every stream of a run shares: where Personio is and its HTTP policy."""

    base_url: str
    pacing: PersonioPacing
    retry: RetryPolicy
    budget: RateLimitBudget
    """The run's allowance of waiting on 429s, shared by every request."""
    authenticators: Mapping[Generation, PersonioAuthenticator]


@dataclass(frozen=True)
class Window:
    """The period absences and attendances are read for, and the incremental look-back."""

    start: datetime
    end: datetime
    lookback: timedelta


class PersonioStream(RESTStream[Any]):
    """One Personio endpoint: token authentication, pacing, retries and clear errors."""

    api: ClassVar[Generation] = "v1"

    def __init__(self, tap: Tap, personio: Personio, **kwargs: Any) -> None:
        self.personio = personio
        super().__init__(tap, **kwargs)

    @property
    @override
    def url_base(self) -> str:
        return self.personio.base_url

    @property
    @override
    def authenticator(self) -> PersonioAuthenticator:
        return self.personio.authenticators[self.api]

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
        pacing = self.personio.pacing

        def paced(prepared_request: requests.PreparedRequest, context: Context | None) -> Any:
            method, url = prepared_request.method or "GET", prepared_request.url or ""
            sent = pacing.before(method, url)
            try:
                response = func(prepared_request, context)
            except RetriableAPIError as exc:
                if exc.response is not None:
                    pacing.after(method, url, exc.response.headers, sent)
                raise
            pacing.after(method, url, response.headers, sent)
            return response

        return super().request_decorator(paced)

    @override
    def validate_response(self, response: requests.Response) -> None:
        path = path_of(response.url) if response.url else self.path
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
        if status in self.personio.retry.statuses:
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
        path = path_of(response.url) if response.url else self.path
        return f"HTTP {response.status_code} for {path}: {error_text(response)}"

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
        """The shared retry policy decides; the policy's sleep waits (backoff is told 0 s).

        Ending the generator makes ``backoff`` give up and raise the last error; a 429 past the
        run's wait budget raises :class:`~vendor_http.budget.RateLimitWaitSpent` from here.
        """
        state = RetryState(self.personio.retry, self.personio.budget)
        exception = yield 0.0  # primed by the backoff library
        while True:
            if isinstance(exception, ReauthenticationNeeded):
                self.logger.info(
                    "Personio rejected the token for %s; authenticating again", self.path
                )
                exception = yield 0.0
                continue
            response = exception.response if isinstance(exception, RetriableAPIError) else None
            if response is not None:
                wait = state.next_wait(response.status_code, retry_after(response))
                reason = f"HTTP {response.status_code}"
            else:
                wait = state.next_wait(None, None, no_server=never_sent(exception))
                reason = type(exception).__name__
            if wait is None:
                return
            self.logger.warning(
                "Retrying %s in %.1f s after %s (try %d)", self.path, wait, reason, state.attempts
            )
            state.pause(wait, self.personio.pacing.sleep)
            exception = yield 0.0

    @override
    def backoff_jitter(self, value: float) -> float:
        return value  # the shared policy adds its own jitter

    @override
    def backoff_handler(self, details: Any) -> None:
        """Nothing: ``backoff_wait_generator`` logs each retry with its wait and reason."""

    @override
    def backoff_max_tries(self) -> int:
        return self.personio.retry.most_tries(self.personio.budget)


class ReauthenticationNeeded(RetriableAPIError):
    """The endpoint rejected the token: retry at once with a new one."""


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


class WindowedV2Stream(PersonioV2Stream):
    """A v2 period endpoint read within the tap's window, incremental on ``updated_at``.

    Without a bookmark (first run, ``--full-refresh``) the whole window is read and, when
    ``window_activate_version`` is on (it is off by default: SQL loaders would take the window
    for the whole table), framed by two ACTIVATE_VERSION messages with the same version: one
    before the first record, one after the last. The second one tells a target that the window
    was read completely. Incremental runs re-read ``lookback_minutes`` before the bookmark and
    send no ACTIVATE_VERSION.
    """

    replication_key = "updated_at"
    window_params: ClassVar[tuple[str, str]]
    """Query parameters taking the window's start and end (local times without offset)."""

    def __init__(self, tap: Tap, personio: Personio, window: Window, **kwargs: Any) -> None:
        self.window = window
        super().__init__(tap, personio, **kwargs)

    def updated_since(self, context: Context | None) -> datetime | None:
        """Bookmark minus ``lookback_minutes``; None when there is no bookmark."""
        bookmark = parse_timestamp(self.get_context_state(context).get("replication_key_value"))
        if bookmark is None:
            return None
        return bookmark - self.window.lookback

    @override
    def query(self, context: Context | None) -> dict[str, Any]:
        params: dict[str, Any] = {
            "limit": V2_PAGE_SIZE,
            self.window_params[0]: local_text(self.window.start),
            self.window_params[1]: local_text(self.window.end),
        }
        since = self.updated_since(context)
        if since is not None:
            params["updated_at.gte"] = local_text(since.astimezone(UTC))
        return params

    @override
    def get_records(self, context: Context | None) -> Generator[dict[str, Any], None, None]:
        framed = self.updated_since(context) is None and bool(
            self.config.get("window_activate_version", False)
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
