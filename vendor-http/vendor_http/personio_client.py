"""The httpx client on THE Personio policy: one per run, for every plugin that is not a tap.

target-personio writes through it (:class:`target_personio.client.PersonioClient` adds the
period endpoints); target-staffomatic reads one Personio absence period through it to confirm a
deletion. Authentication, the token cache, pacing to Personio's limits, ``Retry-After``,
retries and Personio's error text are :mod:`vendor_http.personio` and
:mod:`vendor_http.personio_auth` (shared with tap-personio); this module sends the requests and
turns the policy's outcomes into two errors: :class:`RunStopped` (a person has to act) and
:class:`Rejected` (Personio refused one record; the run goes on). A write whose answer was lost
raises :class:`AnswerLost`, a :class:`Rejected`.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterator
from dataclasses import replace
from typing import Any

import httpx

from vendor_http import retry
from vendor_http.budget import (
    DEFAULT_RATE_LIMIT_WAIT,
    TARGET_NEXT_STEP,
    RateLimitBudget,
    RateLimitWaitSpent,
)
from vendor_http.personio import (
    APP_ID_HEADER,
    RETRY,
    VENDOR,
    CredentialRejected,
    Generation,
    PersonioPacing,
    PersonioProblem,
    error_text,
    gave_up,
    path_of,
    retry_after,
)
from vendor_http.personio_auth import Tokens

LOGGER = logging.getLogger("vendor_http.personio_client")
# httpcore's DEBUG lines print response headers, and Personio sends tokens in them.
logging.getLogger("httpcore").setLevel(logging.INFO)

AUTH_STATUSES = frozenset({401, 403})
EMPLOYEES_PAGE = 100
"""The maximum page size of the v1 employees list since January 2025."""

GONE_STATUSES = frozenset({404, 410})
"""Answers to a read of one record that say it no longer exists."""


def _sleep(seconds: float) -> None:
    """The client's wait when its constructor is given none (the in-process test kits swap it)."""
    time.sleep(seconds)


class RunStopped(Exception):
    """A problem that needs a person (credentials, settings, Personio unreachable).

    The message is one sentence: what is wrong and how to fix it.
    """


class Rejected(Exception):
    """Personio refused one record (validation, conflict, unknown id); the run goes on."""

    def __init__(self, status: int, reason: str) -> None:
        super().__init__(f"HTTP {status}: {reason}")
        self.status = status
        self.reason = reason


class AnswerLost(Rejected):
    """A write left but its answer never came: read Personio to learn whether it happened.

    It is a :class:`Rejected` so the record is failed for this run and retried by the next,
    which finds (and links) what the write created; it is never sent again blindly.
    """

    def __init__(self, lost: retry.AnswerLost) -> None:
        super().__init__(0, str(lost))
        self.args = (str(lost),)
        self.method = lost.method
        self.url = lost.url


class PersonioClient:
    """Talks to one Personio company with one API credential."""

    def __init__(
        self,
        base_url: str,
        client_id: str,
        client_secret: str,
        app_id: str,
        *,
        timeout: float = 30.0,
        max_attempts: int = RETRY.max_attempts,
        rate_limit_wait: float = DEFAULT_RATE_LIMIT_WAIT,
        transport: httpx.BaseTransport | None = None,
        sleep: Callable[[float], None] | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self.retry = replace(RETRY, max_attempts=max_attempts)
        self.pacing = PersonioPacing(clock=clock, sleep=sleep or (lambda seconds: _sleep(seconds)))
        self.budget = RateLimitBudget(rate_limit_wait, vendor=VENDOR, clock=clock)
        """The run's allowance of waiting on 429s (``rate_limit_wait_seconds``)."""
        self.http = httpx.Client(
            base_url=self.base_url,
            timeout=httpx.Timeout(timeout, connect=10.0),
            limits=httpx.Limits(max_connections=4, max_keepalive_connections=4),
            headers={APP_ID_HEADER: app_id, "Accept": "application/json"},
            transport=transport,
        )
        self.tokens = Tokens(
            base_url=self.base_url,
            client_id=client_id,
            client_secret=client_secret,
            app_id=app_id,
            post=self.http.post,
            pacing=self.pacing,
            budget=self.budget,
            retry=self.retry,
        )

    def close(self) -> None:
        self.http.close()

    # ---- sending -------------------------------------------------------------------------------

    def _token(self, api: Generation) -> str:
        try:
            return self.tokens.token(api)
        except CredentialRejected as exc:
            raise RunStopped(
                f"Personio refused the API credential (HTTP {exc.status}: {exc.reason}); "
                "check the client_id and client_secret settings."
            ) from None
        except PersonioProblem as exc:
            raise RunStopped(str(exc)) from None
        except RateLimitWaitSpent as exc:
            raise RunStopped(exc.sentence(TARGET_NEXT_STEP)) from None

    def _send(
        self, method: str, url: str, *, idempotent: bool | None = None, **kwargs: Any
    ) -> httpx.Response:
        """One request, paced and retried by the Personio policy."""

        def once() -> httpx.Response:
            sent = self.pacing.before(method, url)
            response = self.http.request(method, url, **kwargs)
            self.pacing.after(method, url, response.headers, sent)
            LOGGER.debug("%s %s -> %s", method, path_of(url), response.status_code)
            return response

        try:
            return retry.send_with_retries(
                once,
                method=method,
                url=path_of(url),
                policy=self.retry,
                budget=self.budget,
                sleep=self.pacing.sleep,
                retry_after=retry_after,
                idempotent=idempotent,
            )
        except retry.RetriesExhausted as exc:
            raise RunStopped(str(gave_up(exc, self.base_url))) from None
        except RateLimitWaitSpent as exc:
            raise RunStopped(exc.sentence(TARGET_NEXT_STEP)) from None
        except retry.AnswerLost as exc:
            raise AnswerLost(exc) from exc

    def request(
        self,
        method: str,
        url: str,
        *,
        api: Generation = "v2",
        idempotent: bool | None = None,
        **kwargs: Any,
    ) -> httpx.Response:
        """An authenticated request; a new token is fetched once on 401 or 403.

        ``idempotent`` says whether sending it twice does no harm (default: by the method).
        """
        while True:
            token = self._token(api)
            headers = {"Authorization": f"Bearer {token}"}
            response = self._send(method, url, headers=headers, idempotent=idempotent, **kwargs)
            if response.status_code not in AUTH_STATUSES:
                self.tokens.accepted(api)
                return response
            if not self.tokens.reject(api, token):
                raise RunStopped(
                    f"Personio refused access to {method} {path_of(url)} "
                    f"(HTTP {response.status_code}: {error_text(response)}); give the API "
                    "credential the attendance and absence scopes and read access to employees."
                )

    # ---- reading -------------------------------------------------------------------------------

    def employees(self, start: int = 0) -> Iterator[dict[str, Any]]:
        """Every employee of the v1 list (pages of 100), attributes unwrapped to plain values;
        ``start``: the offset of the first (a multiple of 100, to skip pages read before)."""
        offset = start
        while True:
            rows, last_page = self.employees_page(offset)
            yield from rows
            if len(rows) < EMPLOYEES_PAGE or offset // EMPLOYEES_PAGE >= last_page:
                return
            offset += EMPLOYEES_PAGE

    def employees_page(
        self, offset: int = 0, params: dict[str, Any] | None = None
    ) -> tuple[list[dict[str, Any]], int]:
        """One page of 100 of the v1 employees list (``params``: filters such as ``email``):
        its employees, unwrapped to plain values, and the number of its last page (from 0)."""
        response = self.request(
            "GET",
            "/v1/company/employees",
            api="v1",
            params={**(params or {}), "limit": EMPLOYEES_PAGE, "offset": offset},
        )
        self._raise_for_read(response)
        body = response.json()
        meta = body.get("metadata") or {}
        rows = [plain_employee(row) for row in body.get("data") or []]
        return rows, int(meta.get("total_pages") or 0) - 1

    def employee(self, employee_id: str) -> dict[str, Any] | None:
        """One employee by its v1 id, unwrapped to plain values; None when Personio answers
        404 or 410 (there is none)."""
        response = self.request("GET", f"/v1/company/employees/{employee_id}", api="v1")
        if response.status_code in GONE_STATUSES:
            return None
        self._raise_for_read(response)
        return plain_employee(response.json().get("data") or {})

    def list_v2(self, path: str, params: dict[str, Any] | None = None) -> Iterator[dict[str, Any]]:
        """Every item of a v2 list, following ``_meta.links.next.href``."""
        for page in self.pages_v2(path, params):
            yield from page

    def pages_v2(
        self, path: str, params: dict[str, Any] | None = None
    ) -> Iterator[list[dict[str, Any]]]:
        """The pages of a v2 list (100 items each), one request each, following
        ``_meta.links.next.href``."""
        url: str | None = path
        query: dict[str, Any] | None = {"limit": 100, **(params or {})}
        while url:
            response = self.request("GET", url, params=query)
            self._raise_for_read(response)
            body = response.json()
            yield list(body.get("_data") or [])
            href = (((body.get("_meta") or {}).get("links") or {}).get("next") or {}).get("href")
            url, query = (str(href), None) if href else (None, None)

    def get_one(self, path: str) -> dict[str, Any] | None:
        """One v2 record by its path; None when Personio answers 404 or 410 (it is gone).

        Any other refusal raises :class:`Rejected`; credentials and retries that ran out raise
        :class:`RunStopped`, as :meth:`request` does."""
        response = self.request("GET", path)
        if response.status_code in GONE_STATUSES:
            return None
        if response.status_code >= 400:
            raise Rejected(response.status_code, error_text(response))
        try:
            body = response.json()
        except ValueError:
            body = None
        item = body.get("_data", body) if isinstance(body, dict) else None
        if not isinstance(item, dict):
            raise Rejected(response.status_code, "Personio answered without the record")
        return item

    def _raise_for_read(self, response: httpx.Response) -> None:
        if response.status_code >= 400:
            raise RunStopped(
                f"Personio refused to list {path_of(str(response.request.url))} "
                f"(HTTP {response.status_code}: {error_text(response)}); check the settings."
            )


def plain_employee(row: dict[str, Any]) -> dict[str, Any]:
    """A v1 employee with each attribute's value in place of its ``{label, value, ...}``."""
    attributes = row.get("attributes") or {}
    return {
        key: value.get("value") if isinstance(value, dict) else value
        for key, value in attributes.items()
    }
