"""The Personio emulator: v1 auth and employees; v2 auth, absence types, absences, attendances.

Behaviour follows ``shared/research/personio-api.md`` and Personio's OpenAPI files; where the
sources disagree, the choice is stated next to the code. The state document is described in
:mod:`sandbox.personio_seed`.

Conventions the clients must know:

- Tokens (``papi-...``) live 24 h; the same client (and scope) gets the same token back while it
  lives; a token from ``/v1/auth`` also works on v2 and the other way round. No ``Authorization``
  header: 401; an unknown, revoked or expired token: 403.
- v2 absence periods of DAILY types: ``starts_from.type`` ``FIRST_HALF`` starts in the morning,
  ``SECOND_HALF`` at noon (a half day); ``ends_at.type`` ``FIRST_HALF`` ends at noon (a half day),
  ``SECOND_HALF`` at the end of the day. ``approval.status`` is PENDING, APPROVED or REJECTED.
- v2 attendance periods: ``approval.status`` is PENDING, CONFIRMED or REJECTED.
- v2 ``created_at``/``updated_at`` are UTC (``...Z``); the ``updated_at.gte/lte`` filters take the
  same UTC time written without ``Z``. Period date-times are local times of the company time zone.
"""

from __future__ import annotations

import base64
import binascii
import json
import math
import secrets
import time
from collections.abc import Awaitable, Callable
from datetime import UTC, date, datetime, timedelta
from typing import Any
from urllib.parse import urlencode
from zoneinfo import ZoneInfo

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route
from typing_extensions import override

from sandbox.core import Emulator, SandboxError, SlidingWindow, TokenBucket
from sandbox.personio_seed import DEFAULT_LIMITS, DEFAULT_SETTINGS, build, stable_id, utc_stamp

Handler = Callable[[Request], Awaitable[Response]]
TOKEN_LIFETIME = 86400
ERRORS_URL = "https://developer.personio.de/reference/errors#"
RELATED_TYPES = {
    "subcompany": "Subcompany",
    "office": "Office",
    "department": "Department",
    "team": "Team",
    "holiday_calendar": "HolidayCalendar",
}
RELATED_LISTS = {"absence_entitlement": "TimeOffType", "cost_centers": "CostCenter"}
COLLECTIONS = {
    "company": dict,
    "api_clients": list,
    "attributes": list,
    "employees": list,
    "absence_types": list,
    "absence_periods": list,
    "attendance_periods": list,
    "tokens": list,
}
V2_SCOPES = {
    "/v2/absence-types": "personio:absences",
    "/v2/absence-types/{id}": "personio:absences",
    "/v2/absence-periods": "personio:absences",
    "/v2/absence-periods/{id}": "personio:absences",
    "/v2/attendance-periods": "personio:attendances",
    "/v2/attendance-periods/{id}": "personio:attendances",
}
ABSENCE_STATUSES = ("PENDING", "APPROVED", "REJECTED")
ATTENDANCE_STATUSES = ("PENDING", "CONFIRMED", "REJECTED")
HALVES = ("FIRST_HALF", "SECOND_HALF")


class Problem(Exception):
    """A v2 client error, answered as ``application/problem+json``."""

    def __init__(self, status: int, title: str, detail: str, code: str, **meta: str) -> None:
        super().__init__(detail)
        self.status, self.title, self.detail, self.code, self.meta = (
            status,
            title,
            detail,
            code,
            meta,
        )


def _bad_request(detail: str, **meta: str) -> Problem:
    return Problem(400, "Bad Request", detail, "common.invalid_request_content", **meta)


def _unprocessable(detail: str, **meta: str) -> Problem:
    return Problem(422, "Unprocessable Entity", detail, "common.unprocessable_entity", **meta)


class V1Error(Exception):
    """A v1 client error, answered with ``{"success": false, "error": {code, message}}``."""

    def __init__(self, status: int, message: str, code: int | None = None) -> None:
        super().__init__(message)
        self.status, self.message = status, message
        self.code = status if code is None else code


class PersonioEmulator(Emulator):
    """Personio's public API as far as the sync uses it, in memory."""

    name = "personio"

    def __init__(self, seed: str = "empty", **params: Any) -> None:
        self._windows: dict[tuple[str, str], SlidingWindow] = {}
        self._buckets: dict[tuple[str, str], TokenBucket] = {}
        self._cooldown: dict[str, float] = {}
        self._traces = 0
        self._known_routes: list[Route] = []
        self._index: tuple[tuple[int, int], dict[int, dict[str, Any]]] = ((0, 0), {})
        super().__init__(seed, **params)

    # ---- Emulator hooks ---------------------------------------------------------------------

    @override
    def routes(self) -> list[Route]:
        v1, v2 = self._v1, self._v2
        self._known_routes = [
            Route("/v1/auth", self._wrap(self.v1_auth, "v1"), methods=["POST"]),
            Route("/v1/company/employees", v1(self.list_employees), methods=["GET"]),
            Route("/v1/company/employees/attributes", v1(self.list_attributes), methods=["GET"]),
            Route(
                "/v1/company/employees/custom-attributes",
                v1(self.list_attributes),
                methods=["GET"],
            ),
            Route("/v1/company/employees/{employee_id}", v1(self.get_employee), methods=["GET"]),
            Route("/v2/auth/token", self._wrap(self.v2_token, "oauth"), methods=["POST"]),
            Route("/v2/auth/revoke", self._wrap(self.v2_revoke, "oauth"), methods=["POST"]),
            Route("/v2/absence-types", v2(self.list_absence_types), methods=["GET"]),
            Route("/v2/absence-types/{id}", v2(self.get_absence_type), methods=["GET"]),
            Route("/v2/absence-periods", v2(self.list_absences), methods=["GET"]),
            Route("/v2/absence-periods", v2(self.create_absence), methods=["POST"]),
            Route(
                "/v2/absence-periods/{id}",
                v2(self.one_absence),
                methods=["GET", "PATCH", "DELETE"],
            ),
            Route("/v2/attendance-periods", v2(self.list_attendances), methods=["GET"]),
            Route("/v2/attendance-periods", v2(self.create_attendance), methods=["POST"]),
            Route(
                "/v2/attendance-periods/{id}",
                v2(self.one_attendance),
                methods=["GET", "PATCH", "DELETE"],
            ),
        ]
        catch_all = Route(
            "/{path:path}",
            self._wrap(self.not_found, "any"),
            methods=["GET", "POST", "PUT", "PATCH", "DELETE"],
        )
        return [*self._known_routes, catch_all]

    @override
    def seed_state(self, seed: str, **params: Any) -> dict[str, Any]:
        return build(seed, **params)

    @override
    def check_state(self, state: dict[str, Any]) -> None:
        for key, kind in COLLECTIONS.items():
            if not isinstance(state.get(key), kind):
                raise SandboxError(
                    f"'{key}' must be a JSON {'object' if kind is dict else 'array'}"
                )
        try:
            ZoneInfo(str(state["company"].get("time_zone")))
        except (ValueError, KeyError) as exc:
            raise SandboxError("'company.time_zone' must be an IANA time zone name") from exc
        required = {
            "api_clients": ("client_id", "client_secret", "attributes"),
            "attributes": ("key", "label", "type"),
            "employees": ("id", "attributes", "last_modified_at"),
            "absence_types": ("id", "name"),
            "absence_periods": ("id", "person", "absence_type", "starts_from", "approval"),
            "attendance_periods": ("id", "person", "type", "start", "approval"),
            "tokens": ("token", "client_id", "expires_at"),
        }
        for key, fields in required.items():
            for n, item in enumerate(state[key]):
                missing = [f for f in fields if not isinstance(item, dict) or f not in item]
                if missing:
                    raise SandboxError(f"{key}[{n}] lacks {', '.join(missing)}")
        for key in ("limits", "settings"):
            if not isinstance(state.get(key, {}), dict):
                raise SandboxError(f"'{key}' must be a JSON object")

    @override
    def error_response(self, status: int, message: str, request: Request) -> Response:
        if request.url.path.startswith("/v2/"):
            titles = {
                500: "Internal Server Error",
                502: "Bad Gateway",
                503: "Service Unavailable",
                429: "Too Many Requests",
            }
            codes = {
                500: "common.internal_server_error",
                502: "common.bad_gateway",
                503: "common.service_unavailable",
                429: "common.too_many_requests",
            }
            title = titles.get(status, "Error")
            return self._problem(Problem(status, title, message, codes.get(status, "common.error")))
        return _v1_error(V1Error(status, message))

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

    @override
    def invalidate_tokens(self) -> None:
        self.state["tokens"] = []

    @override
    def on_reset(self) -> None:
        self._issued: dict[str, int] = {}
        for key, defaults in (
            ("limits", DEFAULT_LIMITS),
            ("settings", DEFAULT_SETTINGS),
        ):
            self.state[key] = {**defaults, **self.state.get(key, {})}
        self._windows.clear()
        self._buckets.clear()
        self._cooldown.clear()

    def describe(self) -> list[str]:
        """Human lines for ``python -m sandbox serve``: credentials and what the data holds."""
        lines = []
        readable = {a["key"] for a in self.state["attributes"]}
        for client in self.state["api_clients"]:
            hidden = sorted(readable - set(client["attributes"]))
            what = "reads every attribute" if not hidden else f"cannot read {', '.join(hidden)}"
            lines.append(
                f"client_id {client['client_id']}  "
                f"client_secret {client['client_secret']}  ({what})"
            )
        s = self.state
        lines.append(
            f"{len(s['employees'])} employees, {len(s['absence_types'])} absence types, "
            f"{len(s['absence_periods'])} absence periods, "
            f"{len(s['attendance_periods'])} attendance periods; "
            f"time zone {s['company']['time_zone']}"
        )
        return lines

    # ---- plumbing ---------------------------------------------------------------------------

    def _wrap(self, handler: Handler, flavour: str) -> Handler:
        """Turn client errors into the vendor's error bodies and any crash into a 500."""

        async def endpoint(request: Request) -> Response:
            try:
                response = await handler(request)
            except V1Error as exc:
                response = _v1_error(exc)
            except Problem as exc:
                response = self._problem(exc)
            except Exception:  # a bug in the emulator must still look like the vendor
                response = self.error_response(500, "Something went wrong", request)
            if flavour == "v2":
                template = self._v2_template(request)
                headers = getattr(request.state, "ratelimit", None) or self._ratelimit_headers(
                    template, self._bucket(self._client_key(request), template), peek=True
                )
                response.headers.update(headers)
            return response

        return endpoint

    def _v1(
        self, handler: Callable[[Request, dict[str, Any], str], Awaitable[Response]]
    ) -> Handler:
        async def authenticated(request: Request) -> Response:
            client, token = self._authenticate(request, v2=False)
            response = await handler(request, client, token)
            # Personio still echoes the (now stable) token, for clients written for rotation.
            response.headers["authorization"] = f"Bearer {token}"
            return response

        return self._wrap(authenticated, "v1")

    def _v2(self, handler: Callable[[Request, dict[str, Any]], Awaitable[Response]]) -> Handler:
        async def authenticated(request: Request) -> Response:
            client, _ = self._authenticate(request, v2=True)
            return await handler(request, client)

        return self._wrap(authenticated, "v2")

    def _authenticate(self, request: Request, v2: bool) -> tuple[dict[str, Any], str]:
        header = request.headers.get("authorization", "").strip()
        if not header:
            if v2:
                raise Problem(
                    401, "Unauthorized", "Authorization is not provided.", "common.unauthorized"
                )
            raise V1Error(401, "Authorization is not provided")
        scheme, _, token = header.partition(" ")
        record = self._token(token.strip()) if scheme.lower() == "bearer" else None
        client = self._client(record["client_id"]) if record else None
        if record is None or client is None:
            if v2:
                raise Problem(
                    403, "Forbidden", "Provided authorization is not valid.", "common.forbidden"
                )
            raise V1Error(403, "Provided authorization is not valid")
        if v2:
            prefix = V2_SCOPES.get(self._v2_template(request), "")
            needed = f"{prefix}:{'read' if request.method == 'GET' else 'write'}"
            if prefix and needed not in str(record.get("scope", "")).split():
                raise Problem(
                    403,
                    "Forbidden",
                    f"This token lacks the scope {needed}.",
                    "common.forbidden",
                    scope=needed,
                )
        return client, record["token"]

    def _token(self, token: str) -> dict[str, Any] | None:
        now = time.time()
        for record in self.state["tokens"]:
            if record["token"] == token and float(record["expires_at"]) > now:
                return record
        return None

    def _client(self, client_id: str) -> dict[str, Any] | None:
        for client in self.state["api_clients"]:
            if client["client_id"] == client_id:
                return client
        return None

    def _issue(self, client: dict[str, Any], scope: str) -> dict[str, Any]:
        """The client's live token for ``scope``, or a new one (tokens are stable for 24 h)."""
        now = time.time()
        self.state["tokens"] = [t for t in self.state["tokens"] if float(t["expires_at"]) > now]
        for record in self.state["tokens"]:
            if record["client_id"] == client["client_id"] and record.get("scope") == scope:
                return record
        record = {
            "token": f"papi-{secrets.token_hex(24)}",
            "client_id": client["client_id"],
            "scope": scope,
            "expires_at": int(now) + TOKEN_LIFETIME,
        }
        self.state["tokens"].append(record)
        return record

    def _client_key(self, request: Request) -> str:
        _, _, token = request.headers.get("authorization", "").partition(" ")
        record = self._token(token.strip()) if token else None
        if record:
            return f"client:{record['client_id']}"
        return f"ip:{request.client.host if request.client else 'local'}"

    def _v2_template(self, request: Request) -> str:
        path = request.url.path.rstrip("/")
        for template in V2_SCOPES:
            base = template.removesuffix("/{id}")
            if path == base or (
                template.endswith("{id}")
                and path.startswith(base + "/")
                and "/" not in path[len(base) + 1 :]
            ):
                return template
        return path

    def _bucket(self, who: str, template: str) -> TokenBucket:
        limits = self.state["limits"]
        config = {**limits["v2_default"], **limits.get("v2", {}).get(template, {})}
        key = (who, template)
        if key not in self._buckets:
            self._buckets[key] = TokenBucket(
                float(config["replenish_rate"]), float(config["burst_capacity"])
            )
        return self._buckets[key]

    def _ratelimit_headers(
        self, template: str, bucket: TokenBucket, remaining: int | None = None, peek: bool = False
    ) -> dict[str, str]:
        if peek:  # not throttled (rate limits off): report the bucket without taking from it
            elapsed = time.monotonic() - bucket.stamp
            remaining = int(min(bucket.capacity, bucket.tokens + elapsed * bucket.rate))
        return {
            "x-ratelimit-replenish-rate": f"{bucket.rate:g}",
            "x-ratelimit-burst-capacity": f"{bucket.capacity:g}",
            "x-ratelimit-requested-tokens": "1",
            "x-ratelimit-remaining": str(int(bucket.tokens) if remaining is None else remaining),
        }

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

    def _problem(self, problem: Problem) -> Response:
        self._traces += 1
        body = {
            "personio_trace_id": f"sandbox-{self._traces:08d}",
            "timestamp": datetime.now(UTC).isoformat(timespec="milliseconds"),
            "errors": [
                {
                    "title": problem.title,
                    "detail": problem.detail,
                    "type": ERRORS_URL + problem.code,
                    "_meta": dict(problem.meta),
                }
            ],
        }
        return JSONResponse(body, problem.status, media_type="application/problem+json")

    @property
    def _zone(self) -> ZoneInfo:
        return ZoneInfo(self.state["company"]["time_zone"])

    async def not_found(self, request: Request) -> Response:
        path = request.url.path
        if any(r.path_regex.match(path) for r in self._known_routes):
            if path.startswith("/v2/"):
                raise Problem(
                    405,
                    "Method Not Allowed",
                    f"{request.method} is not allowed here.",
                    "common.method_not_allowed",
                )
            raise V1Error(405, f"{request.method} is not allowed on {path}.")
        if path.startswith("/v2/"):
            raise Problem(
                404,
                "Resource not found",
                "There is no such endpoint.",
                "common.requested_resource_not_found",
            )
        raise V1Error(404, "The requested endpoint does not exist.")

    # ---- v1 auth and employees ----------------------------------------------------------------

    async def v1_auth(self, request: Request) -> Response:
        if {"client_id", "client_secret"} & set(request.query_params):
            raise V1Error(
                403,
                "Credentials in the query string are no longer accepted: send client_id and "
                "client_secret in the JSON or form body.",
            )
        fields = await _body_fields(request, allow_json=True)
        if fields is None:
            raise V1Error(
                400, "The body must be JSON or form data with client_id and client_secret."
            )
        client_id, secret = str(fields.get("client_id", "")), str(fields.get("client_secret", ""))
        if not client_id or not secret:
            raise V1Error(400, "client_id and client_secret are required.")
        client = self._client(client_id)
        if client is None or not secrets.compare_digest(client["client_secret"], secret):
            raise V1Error(401, "Wrong credentials: no API client has this client_id and secret.")
        record = self._issue(client, " ".join(client.get("scopes", [])))
        body = {
            "success": True,
            "data": {
                "token": record["token"],
                "expires_in": max(0, int(float(record["expires_at"]) - time.time())),
                "scope": record["scope"],
            },
        }
        return JSONResponse(body, headers={"authorization": f"Bearer {record['token']}"})

    def _readable(self, client: dict[str, Any]) -> list[dict[str, Any]]:
        allowed = set(client["attributes"])
        return [a for a in self.state["attributes"] if a["key"] in allowed]

    async def list_attributes(self, request: Request, client: dict[str, Any], _: str) -> Response:
        data = [
            {
                "key": a["key"],
                "label": a["label"],
                "type": a["type"],
                "universal_id": a.get("universal_id"),
                "options": list(a.get("options", [])),
            }
            for a in self._readable(client)
        ]
        return JSONResponse({"success": True, "data": data})

    async def get_employee(self, request: Request, client: dict[str, Any], _: str) -> Response:
        raw = request.path_params["employee_id"]
        employee = self._employee(int(raw)) if raw.isdigit() else None
        if employee is None:
            raise V1Error(404, f"Employee {raw} was not found.")
        keys = {a["key"] for a in self._readable(client)}
        data = {"type": "Employee", "attributes": self._render(employee, keys)}
        return JSONResponse({"success": True, "data": data})

    def _employee(self, employee_id: int) -> dict[str, Any] | None:
        employees = self.state["employees"]
        key = (id(employees), len(employees))
        if self._index[0] != key:
            self._index = (key, {e["id"]: e for e in employees})
        found = self._index[1].get(employee_id)
        if found is not None and found["id"] == employee_id:
            return found
        return next((e for e in employees if e["id"] == employee_id), None)

    async def list_employees(self, request: Request, client: dict[str, Any], _: str) -> Response:
        query, settings = request.query_params, self.state["settings"]
        limit = _v1_int(query, "limit", int(settings["employees_default_limit"]), minimum=1)
        offset = _v1_int(query, "offset", 0, minimum=0)
        maximum = int(settings["employees_max_limit"])
        if limit > maximum:
            raise V1Error(400, f"The limit must be between 1 and {maximum}; use offset to page.")
        readable = {a["key"] for a in self._readable(client)}
        wanted = set(query.getlist("attributes[]"))
        keys = readable & wanted if wanted else readable
        employees = sorted(self.state["employees"], key=lambda e: e["id"])
        since_text = query.get("updated_since")
        if since_text:
            since = self._parse_since(since_text)
            # The spec says email (and limit/offset) are ignored with updated_since; the newer
            # changelog makes paging mandatory with it. ``settings.updated_since_pages`` picks.
            employees = [e for e in employees if _updated_since(e, since, keys)]
            if not settings["updated_since_pages"]:
                limit, offset = max(1, len(employees)), 0
        elif query.get("email"):
            email = query["email"].strip().lower()
            employees = [e for e in employees if e["attributes"].get("email", "").lower() == email]
        total = len(employees)
        page = employees[offset : offset + limit]
        body = {
            "success": True,
            "metadata": {
                "total_elements": total,
                "current_page": offset // limit,
                "total_pages": math.ceil(total / limit),
            },
            "offset": offset,
            "limit": limit,
            "data": [{"type": "Employee", "attributes": self._render(e, keys)} for e in page],
        }
        return JSONResponse(body)

    def _parse_since(self, text: str) -> datetime:
        try:
            moment = datetime.fromisoformat(text.strip())
        except ValueError:
            raise V1Error(
                400, "updated_since must be ISO 8601 (2022-12-24T08:15:30) or YYYY-MM-DD."
            ) from None
        return moment if moment.tzinfo else moment.replace(tzinfo=self._zone)

    def _render(self, employee: dict[str, Any], keys: set[str]) -> dict[str, Any]:
        """The employee as v1 shows it: every readable attribute wrapped with its definition."""
        values = {
            **employee["attributes"],
            "id": employee["id"],
            "created_at": employee.get("created_at"),
            "last_modified_at": employee["last_modified_at"],
        }
        out: dict[str, Any] = {}
        for definition in self.state["attributes"]:
            key = definition["key"]
            if key != "id" and key not in keys:
                continue
            value = self._value(key, definition["type"], values.get(key))
            if value is _LEFT_OUT:
                continue
            out[key] = {
                "label": definition["label"],
                "value": value,
                "type": definition["type"],
                "universal_id": definition.get("universal_id"),
            }
            if key in ("fix_salary", "hourly_salary"):
                out[key]["currency"] = "EUR"
        return out

    def _value(self, key: str, kind: str, value: Any) -> Any:
        if key == "supervisor":
            boss = self._employee(int(value)) if isinstance(value, int | str) else None
            if boss is None:
                # No supervisor: the attribute is left out (the spec has no empty value for it).
                return _LEFT_OUT
            return {
                "type": "Employee",
                "attributes": self._render(boss, {"first_name", "last_name", "email"}),
            }
        if key in RELATED_TYPES:
            if not isinstance(value, dict):
                return _LEFT_OUT
            return {"type": RELATED_TYPES[key], "attributes": dict(value)}
        if key in RELATED_LISTS:
            return [{"type": RELATED_LISTS[key], "attributes": dict(v)} for v in value or []]
        if kind == "date" and isinstance(value, str) and len(value) == 10:
            return datetime.combine(
                date.fromisoformat(value), datetime.min.time(), tzinfo=self._zone
            ).isoformat()
        return value

    # ---- v2 auth ------------------------------------------------------------------------------

    async def v2_token(self, request: Request) -> Response:
        fields = await _body_fields(request, allow_json=False)
        if fields is None:
            return _oauth_error(
                400, "invalid_request", "Send the parameters as application/x-www-form-urlencoded."
            )
        missing = [f for f in ("grant_type", "client_id", "client_secret") if not fields.get(f)]
        if missing:
            return _oauth_error(400, "invalid_request", f"Missing parameter: {', '.join(missing)}.")
        if fields["grant_type"] != "client_credentials":
            return _oauth_error(
                400, "unsupported_grant_type", "Only grant_type=client_credentials is supported."
            )
        client = self._client(str(fields["client_id"]))
        if client is None or not secrets.compare_digest(
            client["client_secret"], str(fields["client_secret"])
        ):
            return _oauth_error(401, "invalid_client", "Client authentication failed.")
        allowed = list(client.get("scopes", []))
        requested = str(fields.get("scope", "")).split()
        if any(s not in allowed for s in requested):
            extra = sorted(set(requested) - set(allowed))
            return _oauth_error(400, "invalid_scope", f"Scope not allowed: {' '.join(extra)}.")
        scope = " ".join(s for s in allowed if s in requested) if requested else " ".join(allowed)
        record = self._issue(client, scope)
        return JSONResponse(
            {
                "access_token": record["token"],
                "token_type": "Bearer",
                "expires_in": max(0, int(float(record["expires_at"]) - time.time())),
                "scope": record["scope"],
            }
        )

    async def v2_revoke(self, request: Request) -> Response:
        fields = await _body_fields(request, allow_json=False)
        if not fields or not fields.get("token"):
            return _oauth_error(400, "invalid_request", "Missing parameter: token.")
        self.state["tokens"] = [t for t in self.state["tokens"] if t["token"] != fields["token"]]
        return Response(status_code=200)

    # ---- v2 absence types ------------------------------------------------------------------------

    @staticmethod
    def _type_view(kind: dict[str, Any]) -> dict[str, Any]:
        return {k: kind.get(k) for k in ("id", "name", "category", "unit")}

    async def list_absence_types(self, request: Request, client: dict[str, Any]) -> Response:
        items = sorted(self.state["absence_types"], key=lambda t: t["name"])
        return self._page(request, [self._type_view(t) for t in items])

    async def get_absence_type(self, request: Request, client: dict[str, Any]) -> Response:
        kind = self._absence_type(request.path_params["id"])
        if kind is None:
            raise _not_found("absence type", request.path_params["id"])
        return JSONResponse(self._type_view(kind))

    def _absence_type(self, type_id: Any) -> dict[str, Any] | None:
        for kind in self.state["absence_types"]:
            if kind["id"] == type_id:
                return kind
        return None

    # ---- v2 paging -------------------------------------------------------------------------------

    def _page(self, request: Request, items: list[dict[str, Any]]) -> Response:
        """One page of ``items`` with ``_meta.links.next.href`` (absolute) when more follow."""
        query = request.query_params
        limit = _v2_int(query.get("limit"), "limit", 100, 1, 100)
        cursor = query.get("cursor")
        offset = _decode_cursor(cursor) if cursor else 0
        page = items[offset : offset + limit]
        base = str(request.base_url).rstrip("/") + request.url.path
        links: dict[str, Any] = {"self": {"href": str(request.url)}}
        if offset + limit < len(items):
            params = [(k, v) for k, v in query.multi_items() if k != "cursor"]
            params.append(("cursor", _encode_cursor(offset + limit)))
            links["next"] = {"href": f"{base}?{urlencode(params)}"}
        return JSONResponse({"_data": page, "_meta": {"links": links}})

    def _self_link(self, request: Request, collection: str, item_id: str) -> dict[str, Any]:
        base = str(request.base_url).rstrip("/")
        return {"links": {"self": {"href": f"{base}/v2/{collection}/{item_id}"}}}

    # ---- v2 absence periods -----------------------------------------------------------------

    async def list_absences(self, request: Request, client: dict[str, Any]) -> Response:
        query = request.query_params
        items = self.state["absence_periods"]
        ids = _id_list(query, "id")
        people = _id_list(query, "person.id")
        kinds = _id_list(query, "absence_type.id")
        bounds = {
            name: _filter_time(query, name)
            for name in (
                "starts_from.date_time.gte",
                "starts_from.date_time.lte",
                "ends_at.date_time.gte",
                "ends_at.date_time.lte",
                "updated_at.gte",
                "updated_at.lte",
            )
        }
        out = []
        for item in items:
            start, end = self._absence_span(item)
            updated = _utc_naive(item.get("updated_at"))
            # Date filters match overlapping periods (Personio's documented rule): a lower bound
            # (on the start or the end) keeps periods that end after it, an upper bound keeps
            # periods that start on or before it.
            checks = (
                (ids, item["id"]),
                (people, str(item["person"]["id"])),
                (kinds, item["absence_type"]["id"]),
            )
            if any(wanted and value not in wanted for wanted, value in checks):
                continue
            lows = (bounds["starts_from.date_time.gte"], bounds["ends_at.date_time.gte"])
            # A span ends exclusively (a full day ends at the next midnight).
            if any(low is not None and not end > low for low in lows):
                continue
            if not _within(start, None, bounds["ends_at.date_time.lte"]):
                continue
            if not _within(start, None, bounds["starts_from.date_time.lte"]):
                continue
            if not _within(updated, bounds["updated_at.gte"], bounds["updated_at.lte"]):
                continue
            out.append(item)
        out.sort(key=lambda p: (p["starts_from"]["date_time"], p["id"]))
        return self._page(request, [self._absence_view(request, p) for p in out])

    def _absence_view(self, request: Request, item: dict[str, Any]) -> dict[str, Any]:
        return {**item, "_meta": self._self_link(request, "absence-periods", item["id"])}

    def _absence_span(self, item: dict[str, Any]) -> tuple[datetime, datetime]:
        """Where the period starts and ends in local time, half days as noon."""
        kind = self._absence_type(item["absence_type"]["id"]) or {}
        daily = kind.get("unit", "DAILY") == "DAILY"
        start = datetime.fromisoformat(item["starts_from"]["date_time"])
        ends = item.get("ends_at")
        if not ends:
            return _day_start(start) if daily else start, datetime.max
        end = datetime.fromisoformat(ends["date_time"])
        if not daily:
            return start, end
        noon = timedelta(hours=12)
        start = _day_start(start) + (
            noon if item["starts_from"].get("type") == "SECOND_HALF" else timedelta()
        )
        end = _day_start(end) + (noon if ends.get("type") == "FIRST_HALF" else timedelta(days=1))
        return start, end

    async def create_absence(self, request: Request, client: dict[str, Any]) -> Response:
        body = await _json_object(request)
        skip = _skip_approval(request)
        item = {
            "id": self._new_id("absence-period", self.state["absence_periods"]),
            "person": {"id": self._person_ref(body.get("person"))},
            "absence_type": {"id": ""},
            "timezone_id": self.state["company"]["time_zone"],
            "comment": "",
            "approval": {"status": "APPROVED" if skip else "PENDING"},
            "substitute": None,
        }
        self._apply_absence(item, body, creating=True)
        now = utc_stamp(datetime.now(UTC))
        item.update(created_at=now, updated_at=now)
        self.state["absence_periods"].append(item)
        return JSONResponse(self._absence_view(request, item), status_code=201)

    def _apply_absence(self, item: dict[str, Any], body: dict[str, Any], creating: bool) -> None:
        """Validate ``body`` against ``item`` and apply it; raises Problem, changes nothing then."""
        if (
            not creating
            and "person" in body
            and self._person_ref(body["person"]) != item["person"]["id"]
        ):
            raise _bad_request("The person of an absence period cannot be changed.", field="person")
        updated = dict(item)
        if "absence_type" in body or creating:
            ref = body.get("absence_type")
            type_id = ref.get("id") if isinstance(ref, dict) else None
            if not isinstance(type_id, str) or not type_id:
                raise _bad_request("absence_type.id is required.", field="absence_type.id")
            if self._absence_type(type_id) is None:
                raise _unprocessable(
                    f"Absence type {type_id} does not exist.", field="absence_type.id"
                )
            updated["absence_type"] = {"id": type_id}
        if "starts_from" in body or creating:
            updated["starts_from"] = _absence_edge(
                body.get("starts_from"), "starts_from", "FIRST_HALF", required=True
            )
        if "ends_at" in body or creating:
            updated["ends_at"] = _absence_edge(
                body.get("ends_at"), "ends_at", "SECOND_HALF", required=False
            )
        if "comment" in body:
            if body["comment"] is not None and not isinstance(body["comment"], str):
                raise _bad_request("comment must be a string.", field="comment")
            updated["comment"] = body["comment"] or ""
        if "substitute" in body:
            updated["substitute"] = (
                {"id": self._person_ref(body["substitute"], "substitute")}
                if (body["substitute"] is not None)
                else None
            )
        start, end = self._absence_span(updated)
        ends = updated.get("ends_at") or {}
        if (updated["starts_from"]["type"], ends.get("type")) == HALVES[::-1] and (
            updated["starts_from"]["date_time"][:10] == ends.get("date_time", "")[:10]
        ):
            raise _unprocessable(
                "A single-day absence cannot start in the second half and end in the first half.",
                field="ends_at.type",
            )
        if start >= end:
            raise _unprocessable("Start date greater than end date.", field="ends_at.date_time")
        for other in self.state["absence_periods"]:
            if (
                other["id"] != item["id"]
                and other["person"]["id"] == updated["person"]["id"]
                and other["approval"]["status"] != "REJECTED"
            ):
                other_start, other_end = self._absence_span(other)
                if start < other_end and other_start < end:
                    raise Problem(
                        409,
                        "Conflict",
                        f"The absence overlaps absence period {other['id']}.",
                        "absence.period_conflict",
                        conflicting_id=other["id"],
                    )
        item.update(updated)

    async def one_absence(self, request: Request, client: dict[str, Any]) -> Response:
        item = _find(self.state["absence_periods"], request.path_params["id"], "absence period")
        if request.method == "GET":
            return JSONResponse(self._absence_view(request, item))
        if request.method == "DELETE":
            self.state["absence_periods"].remove(item)
            return Response(status_code=204)
        body = await _json_object(request)
        before = (item["absence_type"], item["starts_from"], item.get("ends_at"))
        self._apply_absence(item, body, creating=False)
        if _skip_approval(request):
            item["approval"] = {"status": "APPROVED"}
        elif before != (item["absence_type"], item["starts_from"], item.get("ends_at")):
            # A changed time range or type needs approval again unless skip_approval is set.
            item["approval"] = {"status": "PENDING"}
        item["updated_at"] = utc_stamp(datetime.now(UTC))
        return Response(status_code=204)

    # ---- v2 attendance periods --------------------------------------------------------------

    async def list_attendances(self, request: Request, client: dict[str, Any]) -> Response:
        query = request.query_params
        ids, people = _id_list(query, "id"), _id_list(query, "person.id")
        projects = _id_list(query, "project.id")
        statuses = {s.upper() for s in _id_list(query, "status")}
        if statuses - set(ATTENDANCE_STATUSES):
            raise _bad_request(
                f"status must be one of {', '.join(ATTENDANCE_STATUSES)}.", field="status"
            )
        names = ("start.date_time", "end.date_time", "updated_at")
        bounds = {
            f"{n}.{op}": _filter_time(query, f"{n}.{op}") for n in names for op in ("gte", "lte")
        }
        day_from = _filter_date(query, "attribution_date.gte")
        day_to = _filter_date(query, "attribution_date.lte")
        out = []
        for item in self.state["attendance_periods"]:
            start = datetime.fromisoformat(item["start"]["date_time"])
            end = datetime.fromisoformat(item["end"]["date_time"]) if item.get("end") else None
            project = (item.get("project") or {}).get("id")
            checks = (
                (ids, item["id"]),
                (people, str(item["person"]["id"])),
                (statuses, item["approval"]["status"]),
                (projects, project),
            )
            if any(wanted and value not in wanted for wanted, value in checks):
                continue
            day = date.fromisoformat(item.get("attribution_date") or start.date().isoformat())
            if (day_from and day < day_from) or (day_to and day > day_to):
                continue
            if not _within(start, bounds["start.date_time.gte"], bounds["start.date_time.lte"]):
                continue
            if (bounds["end.date_time.gte"] or bounds["end.date_time.lte"]) and (
                end is None
                or not _within(end, bounds["end.date_time.gte"], bounds["end.date_time.lte"])
            ):
                continue
            updated = _utc_naive(item.get("updated_at"))
            if not _within(updated, bounds["updated_at.gte"], bounds["updated_at.lte"]):
                continue
            out.append(item)
        out.sort(key=_sort_key(query.get("sort")))
        return self._page(request, [self._attendance_view(request, p) for p in out])

    def _attendance_view(self, request: Request, item: dict[str, Any]) -> dict[str, Any]:
        return {**item, "_meta": self._self_link(request, "attendance-periods", item["id"])}

    async def create_attendance(self, request: Request, client: dict[str, Any]) -> Response:
        body = await _json_object(request)
        item = {
            "id": self._new_id("attendance-period", self.state["attendance_periods"]),
            "type": "WORK",
            "person": {"id": self._person_ref(body.get("person"))},
            "comment": "",
            "project": None,
            "is_auto_generated": False,
            "approval": {"status": "CONFIRMED" if _skip_approval(request) else "PENDING"},
        }
        self._apply_attendance(item, body, creating=True)
        now = utc_stamp(datetime.now(UTC))
        item.update(created_at=now, updated_at=now)
        self.state["attendance_periods"].append(item)
        return JSONResponse(self._attendance_view(request, item), status_code=201)

    def _apply_attendance(self, item: dict[str, Any], body: dict[str, Any], creating: bool) -> None:
        if (
            not creating
            and "person" in body
            and self._person_ref(body["person"]) != item["person"]["id"]
        ):
            raise _bad_request(
                "The person of an attendance period cannot be changed.", field="person"
            )
        updated = dict(item)
        if "type" in body or creating:
            if body.get("type") not in ("WORK", "BREAK"):
                raise _bad_request("type must be WORK or BREAK.", field="type")
            updated["type"] = body["type"]
        if "start" in body or creating:
            start = body.get("start")
            if not isinstance(start, dict) or "date_time" not in start:
                raise _bad_request("start.date_time is required.", field="start.date_time")
            updated["start"] = {"date_time": _local_time(start["date_time"], "start.date_time")}
        if "end" in body:
            end = body["end"]
            if end is not None and (not isinstance(end, dict) or "date_time" not in end):
                raise _bad_request("end must be null or have a date_time.", field="end.date_time")
            updated["end"] = (
                None
                if end is None
                else {"date_time": _local_time(end["date_time"], "end.date_time")}
            )
        elif creating:
            updated["end"] = None
        if "comment" in body:
            if body["comment"] is not None and not isinstance(body["comment"], str):
                raise _bad_request("comment must be a string.", field="comment")
            updated["comment"] = body["comment"] or ""
        if "project" in body:
            ref = body["project"]
            if ref is not None:
                project_id = ref.get("id") if isinstance(ref, dict) else ref
                if updated["type"] == "BREAK":
                    raise _unprocessable(
                        "Break periods with project are not allowed.", field="project.id"
                    )
                raise _unprocessable(
                    f"Project {project_id} does not exist or is not active.", field="project.id"
                )
            updated["project"] = None
        start = self._instant(updated["start"]["date_time"])
        end = self._instant(updated["end"]["date_time"]) if updated.get("end") else None
        if end is not None and start > end:
            raise _unprocessable("Start date greater than end date.", field="end.date_time")
        if end is not None and end - start > timedelta(hours=24):
            raise _unprocessable(
                "Period time range too long: at most 24 hours.", field="end.date_time"
            )
        for other in self.state["attendance_periods"]:
            if (
                other["id"] == item["id"]
                or other["person"]["id"] != updated["person"]["id"]
                or other["approval"]["status"] == "REJECTED"
            ):
                continue
            other_start = self._instant(other["start"]["date_time"])
            other_end = self._instant(other["end"]["date_time"]) if other.get("end") else None
            # An open-ended period (no end yet) counts as the instant it started.
            if (start < (other_end or other_start) and other_start < (end or start)) or (
                start == other_start
            ):
                raise Problem(
                    409,
                    "Conflict",
                    f"The period overlaps attendance period {other['id']}.",
                    "attendance.period_conflict",
                    conflicting_id=other["id"],
                )
        updated["attribution_date"] = updated["start"]["date_time"][:10]
        item.update(updated)

    def _instant(self, local: str) -> datetime:
        """A local date-time of the company as a UTC instant (true durations across DST)."""
        return datetime.fromisoformat(local).replace(tzinfo=self._zone).astimezone(UTC)

    async def one_attendance(self, request: Request, client: dict[str, Any]) -> Response:
        item = _find(
            self.state["attendance_periods"], request.path_params["id"], "attendance period"
        )
        if request.method == "GET":
            return JSONResponse(self._attendance_view(request, item))
        if request.method == "DELETE":
            self.state["attendance_periods"].remove(item)
            return Response(status_code=204)
        body = await _json_object(request)
        self._apply_attendance(item, body, creating=False)
        if _skip_approval(request):
            item["approval"] = {"status": "CONFIRMED"}
        item["updated_at"] = utc_stamp(datetime.now(UTC))
        return Response(status_code=204)

    # ---- shared v2 helpers --------------------------------------------------------------------

    def _person_ref(self, ref: Any, field: str = "person") -> str:
        person_id = ref.get("id") if isinstance(ref, dict) else None
        if (
            isinstance(person_id, bool)
            or not isinstance(person_id, int | str)
            or (str(person_id) == "")
        ):
            raise _bad_request(f"{field}.id is required.", field=f"{field}.id")
        text = str(person_id)
        if not text.isdigit() or self._employee(int(text)) is None:
            raise _unprocessable(f"Person {text} does not exist.", field=f"{field}.id")
        return text

    def _new_id(self, kind: str, items: list[dict[str, Any]]) -> str:
        """A fresh id; like a database sequence, never one handed out before (even if deleted)."""
        taken = {i["id"] for i in items}
        n = max(len(items), self._issued.get(kind, 0)) + 1
        while stable_id(kind, f"api-{n}") in taken:
            n += 1
        self._issued[kind] = n
        return stable_id(kind, f"api-{n}")


class _LeftOut:
    """Marker: the attribute is left out of the employee."""


_LEFT_OUT = _LeftOut()


def _v1_error(error: V1Error) -> Response:
    body = {"success": False, "error": {"code": error.code, "message": error.message}}
    return JSONResponse(body, status_code=error.status)


def _oauth_error(status: int, error: str, description: str) -> Response:
    return JSONResponse({"error": error, "error_description": description}, status_code=status)


def _not_found(what: str, item_id: str) -> Problem:
    return Problem(
        404,
        "Resource not found",
        f"The {what} {item_id} was not found.",
        "common.requested_resource_not_found",
    )


def _find(items: list[dict[str, Any]], item_id: str, what: str) -> dict[str, Any]:
    for item in items:
        if item["id"] == item_id:
            return item
    raise _not_found(what, item_id)


async def _body_fields(request: Request, allow_json: bool) -> dict[str, Any] | None:
    """Form fields, or (where allowed) a JSON object; None when the body is neither."""
    kind = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if kind == "application/x-www-form-urlencoded":
        form = await request.form()
        return {k: v for k, v in form.items() if isinstance(v, str)}
    if kind == "application/json" and allow_json:
        try:
            data = json.loads(await request.body() or b"null")
        except ValueError:
            return None
        return data if isinstance(data, dict) else None
    return None


async def _json_object(request: Request) -> dict[str, Any]:
    try:
        data = json.loads(await request.body())
    except ValueError:
        raise _bad_request("The request body is not valid JSON.") from None
    if not isinstance(data, dict):
        raise _bad_request("The request body must be a JSON object.")
    return data


def _v1_int(query: Any, name: str, default: int, minimum: int) -> int:
    text = query.get(name)
    if text is None or text == "":
        return default
    try:
        value = int(text)
    except ValueError:
        raise V1Error(400, f"{name} must be a whole number.") from None
    if value < minimum:
        raise V1Error(400, f"{name} must be at least {minimum}.")
    return value


def _v2_int(text: str | None, name: str, default: int, low: int, high: int) -> int:
    if text is None or text == "":
        return default
    try:
        value = int(text)
    except ValueError:
        raise _bad_request(f"{name} must be a whole number.", field=name) from None
    if not low <= value <= high:
        raise _bad_request(f"{name} must be between {low} and {high}.", field=name)
    return value


def _encode_cursor(offset: int) -> str:
    return base64.urlsafe_b64encode(f"o:{offset}".encode()).decode().rstrip("=")


def _decode_cursor(cursor: str) -> int:
    try:
        text = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
        prefix, _, number = text.partition(":")
        if prefix != "o" or not number.isdigit():
            raise ValueError(cursor)
        return int(number)
    except (ValueError, binascii.Error, UnicodeDecodeError):
        raise _bad_request(
            "The cursor is not valid; start again without one.", field="cursor"
        ) from None


def _local_time(value: Any, field: str) -> str:
    """A local date-time without offset, normalised to ``YYYY-MM-DDTHH:MM:SS``."""
    if not isinstance(value, str) or "T" not in value:
        raise _bad_request(f"{field} must be a date-time like 2025-06-01T08:00:00.", field=field)
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        raise _bad_request(f"{field} is not a valid date-time: {value!r}.", field=field) from None
    if moment.tzinfo is not None:
        raise _bad_request(
            f"{field} must be a local time without offset or Z, got {value!r}.", field=field
        )
    return moment.isoformat(timespec="seconds")


def _absence_edge(
    value: Any, field: str, default_half: str, required: bool
) -> dict[str, Any] | None:
    if value is None and not required:
        return None
    if not isinstance(value, dict) or "date_time" not in value:
        raise _bad_request(f"{field}.date_time is required.", field=f"{field}.date_time")
    half = value.get("type") or default_half
    if half not in HALVES:
        raise _bad_request(
            f"{field}.type must be FIRST_HALF or SECOND_HALF.", field=f"{field}.type"
        )
    return {"date_time": _local_time(value["date_time"], f"{field}.date_time"), "type": half}


def _filter_time(query: Any, name: str) -> datetime | None:
    text = query.get(name)
    return None if text is None else datetime.fromisoformat(_local_time(text, name))


def _filter_date(query: Any, name: str) -> date | None:
    text = query.get(name)
    if text is None:
        return None
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise _bad_request(f"{name} must be a date like 2025-06-01.", field=name) from None


def _id_list(query: Any, name: str) -> set[str]:
    return {
        part.strip() for value in query.getlist(name) for part in value.split(",") if part.strip()
    }


def _within(value: datetime | None, low: datetime | None, high: datetime | None) -> bool:
    if value is None:
        return low is None and high is None
    return (low is None or value >= low) and (high is None or value <= high)


def _utc_naive(stamp: Any) -> datetime | None:
    if not isinstance(stamp, str) or not stamp:
        return None
    moment = datetime.fromisoformat(stamp)
    return moment.astimezone(UTC).replace(tzinfo=None) if moment.tzinfo else moment


def _day_start(moment: datetime) -> datetime:
    return datetime.combine(moment.date(), datetime.min.time())


def _skip_approval(request: Request) -> bool:
    text = request.query_params.get("skip_approval", "false").strip().lower()
    if text not in ("true", "false", "1", "0"):
        raise _bad_request("skip_approval must be true or false.", field="skip_approval")
    return text in ("true", "1")


SORT_FIELDS = {
    "person.id": lambda p: int(p["person"]["id"]) if str(p["person"]["id"]).isdigit() else 0,
    "start.date_time": lambda p: p["start"]["date_time"],
    "end.date_time": lambda p: (p.get("end") or {}).get("date_time") or "",
    "updated_at": lambda p: p.get("updated_at") or "",
    "status": lambda p: p["approval"]["status"],
}


def _sort_key(sort: str | None) -> Callable[[dict[str, Any]], Any]:
    """Personio's ``sort`` (``-`` for descending); default person, start, end."""
    fields = [f.strip() for f in (sort or "person.id,start.date_time,end.date_time").split(",")]
    unknown = [f for f in fields if f.lstrip("-") not in SORT_FIELDS]
    if unknown:
        raise _bad_request(
            f"Cannot sort by {', '.join(unknown)}; allowed: {', '.join(SORT_FIELDS)}.", field="sort"
        )

    def key(item: dict[str, Any]) -> Any:
        parts = []
        for field in fields:
            value = SORT_FIELDS[field.lstrip("-")](item)
            if field.startswith("-"):
                value = _Reversed(value)
            parts.append(value)
        return (*parts, item["id"])

    return key


class _Reversed:
    """Sorts in reverse order of the wrapped value."""

    def __init__(self, value: Any) -> None:
        self.value = value

    def __lt__(self, other: _Reversed) -> bool:
        return bool(self.value > other.value)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, _Reversed) and self.value == other.value

    __hash__ = None  # type: ignore[assignment]


def _updated_since(employee: dict[str, Any], since: datetime, keys: set[str]) -> bool:
    """Changed after ``since`` in one of ``keys`` (attributes without a ``changed_at`` entry
    count as changed at ``last_modified_at``)."""
    last = datetime.fromisoformat(employee["last_modified_at"])
    if last <= since:
        return False
    changed = employee.get("changed_at") or {}
    if not changed:
        return True
    return any(
        datetime.fromisoformat(changed.get(key, employee["last_modified_at"])) > since
        for key in keys
    )
