"""The one base stream of the tap: URL, auth, paging, pacing, retries and errors.

Authentication, pacing, ``Retry-After``, the retries and Staffomatic's error text are THE
Staffomatic policy (:mod:`vendor_http.staffomatic`, shared with target-staffomatic), fed to the
SDK's hooks: ``authenticator``, ``validate_response``, ``backoff_wait_generator`` and
``backoff_max_tries``. Each stream is handed the :class:`~tap_staffomatic.run.RunServices` of its
run; it never looks anything up on the tap.
"""

from __future__ import annotations

import decimal
from collections.abc import Callable, Generator, Iterator, Mapping
from typing import TYPE_CHECKING, Any
from urllib.parse import ParseResult, parse_qsl, urlencode, urljoin, urlsplit, urlunsplit

import requests
from singer_sdk import RESTStream
from singer_sdk.exceptions import FatalAPIError, RetriableAPIError
from singer_sdk.pagination import BaseAPIPaginator, BaseHATEOASPaginator, SinglePagePaginator
from typing_extensions import override
from vendor_http.budget import TAP_NEXT_STEP, RateLimitWaitSpent
from vendor_http.retry import RetriesExhausted, RetryState, never_sent
from vendor_http.staffomatic import PAGE_SIZE, account_url, error_text, failure_facts

if TYPE_CHECKING:
    from singer_sdk import Tap
    from singer_sdk.helpers.types import Context
    from singer_sdk.streams.rest import HTTPRequest, PageContext

    from tap_staffomatic.auth import StaffomaticAuthenticator
    from tap_staffomatic.run import RunServices

REQUEST_TIMEOUT = 60

RequestFunc = Callable[[requests.PreparedRequest, Any], requests.Response]


class StaffomaticError(FatalAPIError):
    """A failure a person has to fix; the message says in one sentence what and how."""


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

    def __init__(self, tap: Tap, services: RunServices) -> None:
        self.services = services
        self._missing_ok = False
        super().__init__(tap)

    @property
    @override
    def url_base(self) -> str:
        return account_url(self.config.get("base_url"), self.config["account"])

    @property
    @override
    def authenticator(self) -> StaffomaticAuthenticator:
        return self.services.authenticator

    @property
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
            raise _unexpected(response)
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
        if status in self.services.retry.statuses or status >= 500:
            raise RetriableAPIError(f"Staffomatic answered {status} for {path}", response)
        if status == 404 and self._missing_ok:
            return  # read_one: a record that is gone
        if status >= 400:
            raise StaffomaticError(self._fatal_message(status, path, response))

    def _fatal_message(self, status: int, path: str, response: requests.Response) -> str:
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
                reason = error_text(response).rstrip(".")
                said = f" ({reason})" if reason else ""
                return f"Staffomatic answered {status} for {path}{said}, which the tap cannot fix."

    @override
    def request_decorator(self, func: RequestFunc) -> RequestFunc:
        pacer = self.services.pacer

        def paced(request: requests.PreparedRequest, context: Any) -> requests.Response:
            with pacer.slot():
                return func(request, context)

        retrying = super().request_decorator(paced)
        base_url = self.config.get("base_url")

        def send(request: requests.PreparedRequest, context: Any) -> requests.Response:
            try:
                return retrying(request, context)
            except RateLimitWaitSpent as exc:
                raise StaffomaticError(exc.sentence(TAP_NEXT_STEP)) from None
            except RetriesExhausted as exc:
                if isinstance(exc.error, RetriableAPIError):
                    raise StaffomaticError(
                        f"{exc.error} after {exc.attempts} attempts: Staffomatic is "
                        "unavailable or overloaded, run the tap again later."
                    ) from exc.error
                raise StaffomaticError(
                    f"Cannot reach Staffomatic at {base_url} ({type(exc.error).__name__}) "
                    f"after {exc.attempts} attempts: check `base_url` and the network."
                ) from exc.error

        return send

    @override
    def backoff_max_tries(self) -> int:
        """A bound never reached: :meth:`backoff_wait_generator` decides when to give up."""
        return self.services.retry.most_tries(self.services.budget)

    @override
    def backoff_wait_generator(self) -> Generator[float, Any, None]:
        """THE Staffomatic retries of one request: the policy decides, the run's sleep waits.

        The ``backoff`` library is told 0 s, so no wait goes past the injected sleep. A 429
        past the run's wait budget raises :class:`~vendor_http.budget.RateLimitWaitSpent`.
        """
        state = RetryState(self.services.retry, self.services.budget)
        failure = yield 0.0  # primed by the backoff library
        while True:
            status, hint = failure_facts(failure)
            wait = state.next_wait(status, hint, no_server=never_sent(failure))
            if wait is None:
                raise RetriesExhausted(
                    "GET", self.path or "", state.attempts, status=status, error=failure
                )
            self.logger.warning(
                "Backing off %.2f seconds after %d tries for %s: %s",
                wait,
                state.attempts,
                self.path,
                f"HTTP {status}" if status is not None else type(failure).__name__,
            )
            state.pause(wait, self.services.sleep)
            failure = yield 0.0

    @override
    def backoff_jitter(self, value: float) -> float:
        return value  # the policy adds the jitter itself, and not to a Retry-After

    @override
    def backoff_handler(self, details: Any) -> None:
        """Nothing: :meth:`backoff_wait_generator` logs each retry with its wait and reason."""

    # ---- reading collections that are not streams (look-ups) ----------------------------------

    def read_all(
        self, path: str, params: Mapping[str, str] | None = None, first_page: int = 1
    ) -> Iterator[dict]:
        """Every object of a collection (all pages from ``first_page``), with this stream's
        retries and pacing."""
        paginator = StaffomaticPaginator()
        first = {**(params or {}), "page": first_page, "per_page": PAGE_SIZE}
        while not paginator.finished:
            token = paginator.current_value
            url = token.geturl() if token else f"{self.url_base}{path}"
            response = self._get(url, None if token else first)
            records = self._list(response)
            if not records:
                break
            yield from records
            paginator.advance(response)

    def read_page(
        self, path: str, params: Mapping[str, str] | None = None
    ) -> tuple[list[dict], int | None]:
        """The first page of a collection and its number of pages: the page ``Link
        rel="last"`` names, 1 when the page is not full, None when the server does not say."""
        first = {**(params or {}), "page": 1, "per_page": PAGE_SIZE}
        response = self._get(f"{self.url_base}{path}", first)
        records = self._list(response)
        if len(records) < PAGE_SIZE:
            return records, 1
        last = response.links.get("last", {}).get("url")
        pages = dict(parse_qsl(urlsplit(last).query)).get("page") if last else None
        return records, int(pages) if pages and pages.isdigit() else None

    def read_one(self, path: str) -> dict[str, Any] | None:
        """One object (``/users/7.json``), None when Staffomatic no longer has it (404)."""
        self._missing_ok = True
        try:
            response = self._get(f"{self.url_base}{path}", None)
        finally:
            self._missing_ok = False
        if response.status_code == 404:
            return None
        found = self._json(response)
        if not isinstance(found, dict):
            raise _unexpected(response)
        return found

    def _get(self, url: str, params: Mapping[str, Any] | None) -> requests.Response:
        send = self.request_decorator(self._request)
        request = self.build_prepared_request(
            method="GET", url=url, params=params, headers=self.http_headers
        )
        return send(request, None)

    def _list(self, response: requests.Response) -> list[dict]:
        records = self._json(response)
        if not isinstance(records, list) or not all(isinstance(r, dict) for r in records):
            raise _unexpected(response)
        return records

    def selects(self, field: str) -> bool:
        """Whether the catalog selects this field of the stream (a look-up only it needs is
        not read otherwise)."""
        return bool(self.mask.get(("properties", field), True))

    def lookup(self, path: str) -> list[dict[str, Any]]:
        """A small collection (locations, departments, types), read once per run and shared."""
        cache = self.services.lookups
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


def _unexpected(response: requests.Response) -> StaffomaticError:
    """A body of the wrong shape: most likely ``base_url`` is not the API's address."""
    return StaffomaticError(
        f"Staffomatic sent an unexpected body for {urlsplit(response.url).path}: "
        "check that `base_url` is the Staffomatic API address ending in /v3."
    )
