"""The one base stream of the tap: URL, auth, paging, pacing, retries and errors."""

from __future__ import annotations

import decimal
import email.utils
import random
import threading
import time
from collections import deque
from collections.abc import Callable, Iterator, Mapping
from datetime import UTC, datetime
from functools import cached_property
from typing import TYPE_CHECKING, Any, cast
from urllib.parse import ParseResult, parse_qsl, urlencode, urljoin, urlsplit, urlunsplit

import requests
from singer_sdk import RESTStream
from singer_sdk.exceptions import FatalAPIError, RetriableAPIError
from singer_sdk.pagination import BaseAPIPaginator, BaseHATEOASPaginator, SinglePagePaginator
from typing_extensions import override

from tap_staffomatic.auth import make_authenticator

if TYPE_CHECKING:
    from singer_sdk.authenticators import APIAuthenticatorBase
    from singer_sdk.helpers.types import Context
    from singer_sdk.streams.rest import HTTPRequest, PageContext

    from tap_staffomatic.tap import TapStaffomatic

PAGE_SIZE = 100
"""Records asked for per page (``per_page``); the official client uses the same."""
MAX_REQUESTS = 450
PACING_SECONDS = 10.0
"""Staffomatic allows 500 requests per 10 seconds per IP; the tap stays at 450."""
MAX_TRIES = 8
"""Attempts per request before a 429, 5xx or network failure stops the run."""
REQUEST_TIMEOUT = 60

RequestFunc = Callable[[requests.PreparedRequest, Any], requests.Response]


class StaffomaticError(FatalAPIError):
    """A failure a person has to fix; the message says in one sentence what and how."""


def api_time(moment: datetime) -> str:
    """A datetime as Staffomatic's ``from``/``until`` filters take it (UTC, ISO 8601)."""
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def parse_time(value: Any) -> datetime | None:
    """An ISO 8601 timestamp with offset from Staffomatic, or None if there is none."""
    if not value:
        return None
    moment = datetime.fromisoformat(str(value))
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


class Pacer:
    """At most ``limit`` requests in any ``seconds`` long window, shared by all streams of a run."""

    def __init__(self, limit: int | None = None, seconds: float | None = None) -> None:
        self.limit = MAX_REQUESTS if limit is None else limit
        self.seconds = PACING_SECONDS if seconds is None else seconds
        self.sent: deque[float] = deque()
        self.lock = threading.Lock()

    def wait(self) -> None:
        """Block until one more request fits into the window, then count it."""
        with self.lock:
            now = time.monotonic()
            while self.sent and self.sent[0] <= now - self.seconds:
                self.sent.popleft()
            if len(self.sent) >= self.limit:
                time.sleep(self.sent[0] + self.seconds - now)
                self.sent.popleft()
            self.sent.append(time.monotonic())


class StaffomaticPaginator(BaseHATEOASPaginator):
    """Follows ``Link: rel="next"`` where the server sends one, else asks for the next page.

    Paging ends at the first empty page (the SDK stops there), or when a ``Link`` header names
    no next page. A next link to another host is not followed: it would receive the credentials.
    """

    def __init__(self) -> None:
        super().__init__()
        self.last_body = b""

    @override
    def get_next_url(self, response: requests.Response) -> str | None:
        if response.content == self.last_body:
            raise StaffomaticError(
                f"Staffomatic sent the same page twice for {urlsplit(response.url).path}: "
                "the server ignores the `page` parameter, so the tap stops instead of looping."
            )
        self.last_body = response.content
        if "Link" in response.headers:
            link = response.links.get("next", {}).get("url")
            if not link:
                return None
            url = urljoin(response.url, link)
            if urlsplit(url)[:2] == urlsplit(response.url)[:2]:
                return url
        parts = urlsplit(response.url)
        query = parse_qsl(parts.query, keep_blank_values=True)
        page = int(dict(query).get("page", "1")) + 1
        query = [(key, value) for key, value in query if key != "page"] + [("page", str(page))]
        return urlunsplit(parts._replace(query=urlencode(query)))


class StaffomaticStream(RESTStream[ParseResult | None]):
    """A Staffomatic v3 collection (``paginated``) or single object, of one account."""

    primary_keys = ("id",)
    paginated = True
    """False for endpoints that return one object instead of a list."""
    extra_params: Mapping[str, str] = {}
    """Query parameters sent with every page."""

    @property
    @override
    def url_base(self) -> str:
        return f"{self.config['base_url'].rstrip('/')}/{self.config['account'].strip()}"

    @cached_property
    @override
    def authenticator(self) -> APIAuthenticatorBase:
        return make_authenticator(self.config)

    @cached_property
    @override
    def user_agent(self) -> str:
        return str(self.config["user_agent"])

    @property
    @override
    def http_headers(self) -> dict[str, str]:
        return {"Accept": "application/json"}

    @property
    @override
    def timeout(self) -> int:
        return REQUEST_TIMEOUT

    @override
    def get_new_paginator(self) -> BaseAPIPaginator[Any]:
        return StaffomaticPaginator() if self.paginated else SinglePagePaginator()

    @override
    def get_url_params(self, context: Context | None, next_page_token: Any) -> dict[str, Any]:
        if not self.paginated:
            return dict(self.extra_params)
        return {**self.extra_params, "page": 1, "per_page": PAGE_SIZE}

    @override
    def get_http_request(self, *, page: PageContext[ParseResult | None]) -> HTTPRequest:
        request = super().get_http_request(page=page)
        if page.next_page_token:
            # The next page's URL carries every query parameter already.
            request.url = page.next_page_token.geturl()
            request.params = {}
        return request

    @override
    def parse_response(self, response: requests.Response) -> Iterator[dict[str, Any]]:
        body = self._json(response)
        if not self.paginated:
            body = [body]
        if not isinstance(body, list) or not all(isinstance(item, dict) for item in body):
            raise StaffomaticError(
                f"Staffomatic sent an unexpected body for {urlsplit(response.url).path}: "
                "check that `base_url` is the Staffomatic API address ending in /v3."
            )
        yield from body

    @override
    def post_process(
        self, row: dict[str, Any], context: Context | None = None
    ) -> dict[str, Any] | None:
        """Keep the documented fields; newer, undocumented ones are left out quietly."""
        known = self.schema["properties"]
        return {key: value for key, value in row.items() if key in known}

    # ---- errors, retries and pacing -----------------------------------------------------------

    @override
    def validate_response(self, response: requests.Response) -> None:
        status = response.status_code
        path = urlsplit(response.url).path
        if status == 429 or status >= 500:
            raise RetriableAPIError(f"Staffomatic answered {status} for {path}", response)
        if status >= 400:
            raise StaffomaticError(self._fatal_message(status, path))

    def _fatal_message(self, status: int, path: str) -> str:
        account = self.config["account"]
        match status:
            case 400:
                return (
                    f"Staffomatic refused {path} as a bad request (400): check that "
                    "`user_agent` names your integration and a contact e-mail address, "
                    "for example 'Acme HR Sync (it@acme.example)'."
                )
            case 401:
                return (
                    "Staffomatic rejected the credentials (401 Unauthorized): check `email` "
                    f"and `password` (or `api_token`) of a user of account '{account}'."
                )
            case 403:
                return (
                    f"The Staffomatic user may not read {path} (403 Forbidden): use an "
                    f"admin user of account '{account}' (see the tap-staffomatic README)."
                )
            case 404:
                return (
                    f"Staffomatic does not know {path} (404 Not Found): check that `account` "
                    f"('{account}') is your Staffomatic subdomain and that `base_url` ends "
                    "in /v3."
                )
            case _:
                return f"Staffomatic answered {status} for {path}, which the tap cannot fix."

    @cached_property
    def pacer(self) -> Pacer:
        """The pacer of the whole run (one per tap)."""
        return cast("TapStaffomatic", self._tap).pacer

    @override
    def request_decorator(self, func: RequestFunc) -> RequestFunc:
        pacer = self.pacer

        def paced(request: requests.PreparedRequest, context: Any) -> requests.Response:
            pacer.wait()
            return func(request, context)

        retrying = super().request_decorator(paced)
        base_url = self.config["base_url"]

        def send(request: requests.PreparedRequest, context: Any) -> requests.Response:
            try:
                return retrying(request, context)
            except RetriableAPIError as exc:
                raise StaffomaticError(
                    f"{exc} after {MAX_TRIES} attempts: Staffomatic is unavailable or "
                    "overloaded, run the tap again later."
                ) from exc
            except (requests.RequestException, ConnectionError) as exc:
                raise StaffomaticError(
                    f"Cannot reach Staffomatic at {base_url} ({type(exc).__name__}) after "
                    f"{MAX_TRIES} attempts: check `base_url` and the network."
                ) from exc

        return send

    @override
    def backoff_max_tries(self) -> int:
        return MAX_TRIES

    @override
    def backoff_wait_generator(self) -> Iterator[float]:  # type: ignore[override]
        def waits() -> Iterator[float]:
            attempt = 0
            failure = yield  # type: ignore[misc]
            while True:
                attempt += 1
                failure = yield retry_wait(failure, attempt)

        return waits()

    @override
    def backoff_jitter(self, value: float) -> float:
        return value  # retry_wait adds the jitter itself, and not to a Retry-After

    # ---- reading collections that are not streams (look-ups) ----------------------------------

    def read_all(self, path: str, params: Mapping[str, str] | None = None) -> Iterator[dict]:
        """Every object of a collection (all pages), with this stream's retries and pacing."""
        send = self.request_decorator(self._request)
        paginator = StaffomaticPaginator()
        first = {**(params or {}), "page": 1, "per_page": PAGE_SIZE}
        while not paginator.finished:
            token = paginator.current_value
            request = self.build_prepared_request(
                method="GET",
                url=token.geturl() if token else f"{self.url_base}{path}",
                params=None if token else first,
                headers=self.http_headers,
            )
            response = send(request, None)
            records = self._json(response)
            if not isinstance(records, list):
                raise StaffomaticError(
                    f"Staffomatic sent an unexpected body for {path}: check that `base_url` "
                    "is the Staffomatic API address ending in /v3."
                )
            if not records:
                break
            yield from records
            paginator.advance(response)

    def lookup(self, path: str) -> list[dict[str, Any]]:
        """A small collection (locations, departments, types), read once per run and shared."""
        cache = cast("TapStaffomatic", self._tap).lookups
        if path not in cache:
            cache[path] = list(self.read_all(path))
        return cache[path]

    @staticmethod
    def _json(response: requests.Response) -> Any:
        try:
            return response.json(parse_float=decimal.Decimal)
        except ValueError:
            raise StaffomaticError(
                f"Staffomatic sent no JSON for {urlsplit(response.url).path}: check that "
                "`base_url` is the Staffomatic API address ending in /v3."
            ) from None


def retry_wait(failure: Any, attempt: int) -> float:
    """Seconds to wait before the next attempt.

    A ``Retry-After`` header (seconds or an HTTP date) is honoured exactly, and a 429 without
    one waits at least a second; anything else backs off exponentially with jitter.
    """
    response = getattr(failure, "response", None)
    if response is not None:
        retry_after = _retry_after_seconds(response.headers.get("Retry-After"))
        if retry_after is not None:
            return max(1.0, retry_after)
        if response.status_code == 429:
            return 1.0
    return min(60.0, 2.0**attempt) * random.uniform(0.5, 1.0)


def _retry_after_seconds(value: str | None) -> float | None:
    if not value:
        return None
    try:
        return float(value)
    except ValueError:
        pass
    try:
        moment = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return (moment - datetime.now(UTC)).total_seconds()
