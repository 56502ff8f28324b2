"""Personio's rate limits: v1 sliding windows, v2 token buckets, the token endpoint's cool-down."""

from __future__ import annotations

import time

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from typing_extensions import override

from sandbox.core import SlidingWindow, TokenBucket
from sandbox.personio.base import V2_SCOPES, PersonioBase
from sandbox.personio.errors import Problem


class RateLimits(PersonioBase):
    """The ``throttle`` hook and the 429 answers of each API generation."""

    @override
    def throttle(self, request: Request, template: str) -> Response | None:
        limits = self.state["limits"]
        path, host = request.url.path, request.client.host if request.client else "local"
        if path.startswith("/v1/"):
            key = self._client_key(request)
            checks = [("v1", key, limits["v1_per_minute"], 60.0)]
            if template == "/v1/auth":
                checks.append(("v1-auth", host, limits["v1_auth_per_minute"], 60.0))
            elif template == "/v1/company/employees" and request.method == "GET":
                checks += [
                    ("employees-minute", key, limits["v1_employees_per_minute"], 60.0),
                    ("employees-second", key, limits["v1_employees_per_second"], 1.0),
                ]
            for name, who, limit, seconds in checks:
                window = self._windows.setdefault((name, who), SlidingWindow(int(limit), seconds))
                if not window.take():
                    return self.too_many_requests(request, max(1.0, window.seconds_until()))
            return None
        if template == "/v2/auth/token":
            return self._throttle_v2_auth(request, host)
        if template in V2_SCOPES:
            bucket = self._bucket(self._client_key(request), template)
            allowed = bucket.take()
            request.state.ratelimit = self._ratelimit_headers(template, bucket)
            if not allowed:
                return self.too_many_requests(request, None)
        return None

    @override
    def too_many_requests(self, request: Request, retry_after: float | None) -> Response:
        path = request.url.path
        if path.startswith("/v2/auth/"):
            return JSONResponse(
                {"error": "rate_limit_exceeded", "error_description": "Too many token requests."},
                status_code=429,
            )
        if path.startswith("/v2/"):
            # Personio's v2 gateway sends no Retry-After (third-party measurement), only the
            # x-ratelimit headers.
            response = self._problem(
                Problem(
                    429,
                    "Too Many Requests",
                    "Rate limit exceeded for this endpoint.",
                    "common.too_many_requests",
                )
            )
            template = self._v2_template(request)
            bucket = self._bucket(self._client_key(request), template)
            response.headers.update(self._ratelimit_headers(template, bucket, remaining=0))
            return response
        return super().too_many_requests(request, retry_after)

    def _throttle_v2_auth(self, request: Request, host: str) -> Response | None:
        """150 token requests a minute; past that only 1 a second for the next 60 s."""
        now = time.monotonic()
        if self._cooldown.get(host, 0.0) > now:
            slow = self._buckets.setdefault(("cooldown", host), TokenBucket(1.0, 1.0))
            return None if slow.take() else self.too_many_requests(request, None)
        self._buckets.pop(("cooldown", host), None)
        limit = int(self.state["limits"]["v2_auth_per_minute"])
        window = self._windows.setdefault(("v2-auth", host), SlidingWindow(limit, 60.0))
        if window.take():
            return None
        self._cooldown[host] = now + 60.0
        self._windows.pop(("v2-auth", host), None)
        return self.too_many_requests(request, None)
