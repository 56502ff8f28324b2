"""The Personio HTTP client: v2 attendance and absence periods, v1 employees for the look-up.

One ``httpx.Client`` per run. Authentication, the token cache, pacing to Personio's limits,
``Retry-After``, retries and Personio's error text are THE Personio policy of
:mod:`vendor_http.personio` (shared with tap-personio); this module adds the endpoints the target
uses and turns the policy's outcomes into the target's two errors: :class:`RunStopped` (a person
has to act) and :class:`Rejected` (Personio refused one record; the run goes on).

A create whose answer was lost (the connection broke, or a gateway answered 500, 502 or 504
after Personio may have done it) is never sent again blindly: :meth:`PersonioClient.create`
reads the periods of that person at that time and returns the id of the one it finds; only when
the read proves there is none is it sent again. A second lost answer ends as
:class:`AnswerLost`, a rejection: the record fails this run and the next run links it.
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

LOGGER = logging.getLogger("target_personio.client")
# httpcore's DEBUG lines print response headers, and Personio sends tokens in them.
logging.getLogger("httpcore").setLevel(logging.INFO)

AUTH_STATUSES = frozenset({401, 403})
EMPLOYEES_PAGE = 100
"""The maximum page size of the v1 employees list since January 2025."""

ATTENDANCE = "attendance-periods"
ABSENCE = "absence-periods"


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
        sleep: Callable[[float], None] = time.sleep,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self.retry = replace(RETRY, max_attempts=max_attempts)
        self.pacing = PersonioPacing(clock=clock, sleep=sleep)
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

    def employees(self) -> Iterator[dict[str, Any]]:
        """Every employee of the v1 list (pages of 100), attributes unwrapped to plain values."""
        offset = 0
        while True:
            response = self.request(
                "GET",
                "/v1/company/employees",
                api="v1",
                params={"limit": EMPLOYEES_PAGE, "offset": offset},
            )
            self._raise_for_read(response)
            body = response.json()
            rows = body.get("data") or []
            for row in rows:
                attributes = row.get("attributes") or {}
                yield {
                    key: value.get("value") if isinstance(value, dict) else value
                    for key, value in attributes.items()
                }
            meta = body.get("metadata") or {}
            last_page = int(meta.get("total_pages") or 0) - 1
            if len(rows) < EMPLOYEES_PAGE or int(meta.get("current_page") or 0) >= last_page:
                return
            offset += EMPLOYEES_PAGE

    def list_v2(self, path: str, params: dict[str, Any] | None = None) -> Iterator[dict[str, Any]]:
        """Every item of a v2 list, following ``_meta.links.next.href``."""
        url: str | None = path
        query: dict[str, Any] | None = {"limit": 100, **(params or {})}
        while url:
            response = self.request("GET", url, params=query)
            self._raise_for_read(response)
            body = response.json()
            yield from body.get("_data") or []
            href = (((body.get("_meta") or {}).get("links") or {}).get("next") or {}).get("href")
            url, query = (str(href), None) if href else (None, None)

    def _raise_for_read(self, response: httpx.Response) -> None:
        if response.status_code >= 400:
            raise RunStopped(
                f"Personio refused to list {path_of(str(response.request.url))} "
                f"(HTTP {response.status_code}: {error_text(response)}); check the settings."
            )

    def absence_types(self) -> Iterator[dict[str, Any]]:
        return self.list_v2("/v2/absence-types")

    def periods(self, kind: str, params: dict[str, Any]) -> Iterator[dict[str, Any]]:
        """Attendance or absence periods matching the filters (local times, no offset)."""
        return self.list_v2(f"/v2/{kind}", params)

    # ---- writing -------------------------------------------------------------------------------

    def create(self, kind: str, body: dict[str, Any], *, skip_approval: bool) -> str:
        """Create a period and return its id; a lost answer is settled by reading first."""
        params = {"skip_approval": _flag(skip_approval)}
        try:
            response = self.request("POST", f"/v2/{kind}", params=params, json=body)
        except AnswerLost as lost:
            found = self._created(kind, body)
            if found is not None:
                LOGGER.info("%s: the lost write had been done; linked %s", lost, found)
                return found
            LOGGER.info("%s: Personio has no such period; sending it again", lost)
            response = self.request("POST", f"/v2/{kind}", params=params, json=body)
        self._raise_for_write(response)
        data = response.json()
        item = data.get("_data", data) if isinstance(data, dict) else {}
        if isinstance(item, list):
            item = item[0] if item else {}
        new_id = item.get("id") if isinstance(item, dict) else None
        if not new_id:
            raise Rejected(response.status_code, "Personio answered without the new id")
        return str(new_id)

    def update(
        self, kind: str, period_id: str, body: dict[str, Any], *, skip_approval: bool
    ) -> None:
        response = self.request(
            "PATCH",
            f"/v2/{kind}/{period_id}",
            params={"skip_approval": _flag(skip_approval)},
            json=body,
            idempotent=True,  # the body sets absolute values: sending it twice does no harm
        )
        self._raise_for_write(response)

    def delete(self, kind: str, period_id: str) -> None:
        """Delete a period; one that is already gone counts as deleted."""
        response = self.request("DELETE", f"/v2/{kind}/{period_id}")
        if response.status_code == 404:
            return
        self._raise_for_write(response)

    @staticmethod
    def _raise_for_write(response: httpx.Response) -> None:
        if response.status_code >= 400:
            raise Rejected(response.status_code, error_text(response))

    def _created(self, kind: str, body: dict[str, Any]) -> str | None:
        """The id of a period in Personio exactly like ``body``, or None when there is none."""
        for item in self.periods(kind, _lookup(kind, body)):
            if _same(body, item) and item.get("id"):
                return str(item["id"])
        return None


def _flag(value: bool) -> str:
    return "true" if value else "false"


def _lookup(kind: str, body: dict[str, Any]) -> dict[str, Any]:
    """Filters that find the period ``body`` describes: its person, at its time."""
    person = str((body.get("person") or {}).get("id") or "")
    if kind == ATTENDANCE:
        start = str((body.get("start") or {}).get("date_time") or "")[:19]
        return {"person.id": person, "start.date_time.gte": start, "start.date_time.lte": start}
    start = str((body.get("starts_from") or {}).get("date_time") or "")[:19]
    end = str((body.get("ends_at") or {}).get("date_time") or "")[:19]
    return {"person.id": person, "ends_at.date_time.gte": start, "starts_from.date_time.lte": end}


def _same(body: Any, item: Any) -> bool:
    """Whether ``item`` (read from Personio) has every value of ``body`` (sent to it).

    Times are compared to the second, without an offset Personio may add.
    """
    if isinstance(body, dict):
        return isinstance(item, dict) and all(_same(v, item.get(k)) for k, v in body.items())
    if isinstance(body, str) and len(body) >= 19 and body[10:11] == "T":
        return isinstance(item, str) and item[:19] == body[:19]
    return str(body) == str(item)
