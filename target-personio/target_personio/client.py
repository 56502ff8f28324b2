"""The Personio HTTP client: v2 attendance and absence periods, v1 employees for the look-up.

One ``httpx.Client`` per run. Tokens come from ``/v2/auth/token`` (and ``/v1/auth`` for the v1
employees list), are cached for their lifetime (24 h) and fetched again once when Personio
answers 401 or 403. Every request carries ``X-Personio-App-ID``. Requests are paced below
Personio's limits without waiting for a 429: the v1 employees list allows 300 requests a minute
with bursts of at most 15 a second, all v1 endpoints together 2000 a minute (v1 sends no
rate-limit headers, so the client counts its own requests); v2 requests follow the
``x-ratelimit-*`` headers Personio sends. 429 and 5xx answers and dropped connections are retried
with exponential backoff and jitter, honouring ``Retry-After`` and never waiting less than one
second.
"""

from __future__ import annotations

import logging
import random
import time
from collections import deque
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

import httpx

LOGGER = logging.getLogger("target_personio.client")
# httpcore's DEBUG lines print response headers, and Personio sends tokens in them.
logging.getLogger("httpcore").setLevel(logging.INFO)

RETRY_STATUSES = frozenset({429, 500, 502, 503, 504})
AUTH_STATUSES = frozenset({401, 403})
TOKEN_MARGIN_SECONDS = 300.0
"""A cached token is renewed this long before Personio says it expires."""
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


@dataclass
class _Token:
    value: str
    expires_at: float


def error_reason(response: httpx.Response) -> str:
    """Personio's own words for an error, from any of its error shapes."""
    try:
        body = response.json()
    except ValueError:
        return response.text.strip()[:300] or response.reason_phrase
    if isinstance(body, dict):
        errors = body.get("errors")
        if isinstance(errors, list) and errors and isinstance(errors[0], dict):
            first = errors[0]
            parts = [str(first[k]) for k in ("title", "detail") if first.get(k)]
            if parts:
                return ": ".join(parts)
        error = body.get("error")
        if isinstance(error, dict) and error.get("message"):
            return str(error["message"])
        if isinstance(error, str):
            return str(body.get("error_description") or error)
        if body.get("detail") or body.get("title"):
            return str(body.get("detail") or body.get("title"))
    return str(body)[:300]


class RateWindow:
    """At most ``limit`` requests in any ``seconds`` long window (sliding)."""

    def __init__(self, limit: int, seconds: float) -> None:
        self.limit = limit
        self.seconds = seconds
        self.stamps: deque[float] = deque()

    def delay(self, now: float) -> float:
        """How long to wait from ``now`` until one more request fits."""
        while self.stamps and self.stamps[0] <= now - self.seconds:
            self.stamps.popleft()
        if len(self.stamps) < self.limit:
            return 0.0
        return self.stamps[len(self.stamps) - self.limit] + self.seconds - now

    def record(self, now: float) -> None:
        self.stamps.append(now)


class V1Pacer:
    """Counts v1 requests and waits before one that would exceed Personio's v1 limits.

    The windows sit a little under the published limits (300 a minute and 15 a second for the
    employees list, 2000 a minute for all of v1) so that clock differences between the client
    and Personio do not turn into 429s.
    """

    def __init__(self, clock: Callable[[], float], sleep: Callable[[float], None]) -> None:
        self._clock = clock
        self._sleep = sleep
        self._last = 0.0
        self.v1 = [RateWindow(1950, 60.0)]
        self.employees = [RateWindow(290, 60.0), RateWindow(14, 1.0)]

    def before(self, method: str, path: str) -> None:
        """Wait until a request to ``path`` fits the limits, then count it."""
        parts = [p for p in urlsplit(path).path.split("/") if p]
        if parts[:1] != ["v1"]:
            return
        windows = self.v1
        if method == "GET" and parts[1:] == ["company", "employees"]:
            windows = windows + self.employees
        now = max(self._clock(), self._last)
        wait = max(w.delay(now) for w in windows)
        if wait > 0:
            self._sleep(wait)
            now = max(self._clock(), now + wait)
        self._last = now
        for window in windows:
            window.record(now)


def _bucket(method: str, path: str) -> str:
    """The rate-limit bucket of a request: method and path with ids replaced."""
    parts = [p for p in urlsplit(path).path.split("/") if p]
    shape = parts[:3] + ["{id}" for _ in parts[3:]]
    return f"{method} /{'/'.join(shape)}"


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
        max_attempts: int = 6,
        transport: httpx.BaseTransport | None = None,
        sleep: Callable[[float], None] = time.sleep,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._client_id = client_id
        self._client_secret = client_secret
        self._max_attempts = max_attempts
        self._sleep = sleep
        self._clock = clock
        self._tokens: dict[str, _Token] = {}
        self._not_before: dict[str, float] = {}
        self._v1_pacer = V1Pacer(clock, sleep)
        self._rng = random.Random()
        self.http = httpx.Client(
            base_url=base_url.rstrip("/"),
            timeout=httpx.Timeout(timeout, connect=10.0),
            limits=httpx.Limits(max_connections=4, max_keepalive_connections=4),
            headers={"X-Personio-App-ID": app_id, "Accept": "application/json"},
            transport=transport,
        )

    def close(self) -> None:
        self.http.close()

    # ---- authentication ------------------------------------------------------------------------

    def _token(self, api: str) -> str:
        token = self._tokens.get(api)
        if token is not None and token.expires_at > self._clock():
            return token.value
        if api == "v2":
            response = self._send(
                "POST",
                "/v2/auth/token",
                data={
                    "grant_type": "client_credentials",
                    "client_id": self._client_id,
                    "client_secret": self._client_secret,
                },
            )
        else:
            response = self._send(
                "POST",
                "/v1/auth",
                json={"client_id": self._client_id, "client_secret": self._client_secret},
            )
        if response.status_code >= 400:
            raise RunStopped(
                f"Personio refused the API credential (HTTP {response.status_code}: "
                f"{error_reason(response)}); check the client_id and client_secret settings."
            )
        body = response.json()
        if api == "v2":
            value = body.get("access_token")
            lifetime = float(body.get("expires_in") or 86400)
        else:
            data = body.get("data") or {}
            value = data.get("token")
            lifetime = float(data.get("expires_in") or 86400)
        if not value:
            raise RunStopped(
                "Personio's token endpoint answered without a token; check the base_url setting."
            )
        expires = self._clock() + max(60.0, lifetime - TOKEN_MARGIN_SECONDS)
        self._tokens[api] = _Token(str(value), expires)
        return str(value)

    # ---- sending -------------------------------------------------------------------------------

    def _send(self, method: str, url: str, **kwargs: Any) -> httpx.Response:
        """One request with pacing and retries for 429, 5xx and dropped connections."""
        bucket = _bucket(method, url)
        for attempt in range(1, self._max_attempts + 1):
            wait = self._not_before.get(bucket, 0.0) - self._clock()
            if wait > 0:
                self._sleep(wait)
            self._v1_pacer.before(method, url)
            try:
                response = self.http.request(method, url, **kwargs)
            except httpx.TransportError as exc:
                if attempt == self._max_attempts:
                    raise RunStopped(
                        f"Personio could not be reached ({type(exc).__name__}) after "
                        f"{attempt} attempts; check the base_url setting and the network."
                    ) from exc
                self._sleep(self._backoff(attempt, None))
                continue
            self._pace(bucket, response)
            LOGGER.debug("%s %s -> %s", method, bucket.split(" ", 1)[1], response.status_code)
            if response.status_code not in RETRY_STATUSES:
                return response
            if attempt == self._max_attempts:
                raise RunStopped(
                    f"Personio kept answering HTTP {response.status_code} to {method} "
                    f"{bucket.split(' ', 1)[1]} after {attempt} attempts; try again later."
                )
            self._sleep(self._backoff(attempt, response.headers.get("Retry-After")))
        raise AssertionError("unreachable")

    def _backoff(self, attempt: int, retry_after: str | None) -> float:
        if retry_after:
            try:
                return max(1.0, float(retry_after))
            except ValueError:
                pass
        return max(1.0, min(30.0, 2.0 ** (attempt - 1)) + self._rng.uniform(0, 0.5))

    def _pace(self, bucket: str, response: httpx.Response) -> None:
        """Wait before the next request of a bucket once its tokens are used up."""
        remaining = response.headers.get("x-ratelimit-remaining")
        rate = response.headers.get("x-ratelimit-replenish-rate")
        if remaining is None:
            return
        try:
            left, per_second = float(remaining), float(rate or 1)
        except ValueError:
            return
        if left < 1:
            self._not_before[bucket] = self._clock() + 1.0 / max(per_second, 0.01)

    def request(self, method: str, url: str, *, api: str = "v2", **kwargs: Any) -> httpx.Response:
        """An authenticated request; a second token is fetched once on 401 or 403."""
        for first in (True, False):
            headers = {"Authorization": f"Bearer {self._token(api)}"}
            response = self._send(method, url, headers=headers, **kwargs)
            if response.status_code not in AUTH_STATUSES:
                return response
            self._tokens.pop(api, None)
            if not first:
                break
        raise RunStopped(
            f"Personio refused access to {method} {_bucket(method, url).split(' ', 1)[1]} "
            f"(HTTP {response.status_code}: {error_reason(response)}); give the API credential "
            "the attendance and absence scopes and read access to employees."
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
                f"Personio refused to list {urlsplit(str(response.request.url)).path} "
                f"(HTTP {response.status_code}: {error_reason(response)}); check the settings."
            )

    def absence_types(self) -> Iterator[dict[str, Any]]:
        return self.list_v2("/v2/absence-types")

    def periods(self, kind: str, params: dict[str, Any]) -> Iterator[dict[str, Any]]:
        """Attendance or absence periods matching the filters (local times, no offset)."""
        return self.list_v2(f"/v2/{kind}", params)

    # ---- writing -------------------------------------------------------------------------------

    def create(self, kind: str, body: dict[str, Any], *, skip_approval: bool) -> str:
        response = self.request(
            "POST", f"/v2/{kind}", params={"skip_approval": _flag(skip_approval)}, json=body
        )
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
            raise Rejected(response.status_code, error_reason(response))


def _flag(value: bool) -> str:
    return "true" if value else "false"
