"""An in-memory emulator of the Staffomatic API v3 (``/v3/{account}/....json``).

What it does, from the vendor's docs and recorded production traffic:

- HTTP Basic with a user's e-mail and password, or ``Authorization: Bearer <token>``; a missing
  or wrong one gets 401 with a plain-text body. A request without ``User-Agent`` gets 400; a write
  without a JSON content type, or a path with another suffix than ``.json``, gets 415. Paths work
  with and without ``.json``. An unknown account or record gets a 404 HTML page.
- Paging with ``page`` and ``per_page`` (default 50, at most 100); an empty page ends the list;
  ``Link`` (first/prev/last/next), ``Total``, ``Pages`` and ``Page`` headers as sent in 2014.
- ``ETag`` on every GET and ``304 Not Modified`` for a matching ``If-None-Match``.
- Validation errors are Rails-style 422s: ``{"errors": {"field": ["message"]}}``; a body that is
  not JSON, or a query parameter that is not a number or date, gets 400 ``{"error": "..."}``.
- State changes through ``"do"``: users ``send_invitation``/``lock``/``unlock``; absences
  ``approve``/``decline`` (after which edits are refused); work timers
  ``start``/``stop``/``verify``; break timers ``start``/``stop``. Creates answer 200 (as
  recorded in 2017), deletes 204.
- More than ``rate_limit.requests`` requests in ``rate_limit.seconds`` (500 in 10 s) from one
  address get 429 with ``Retry-After``.

Sandbox choices where the vendor material is silent (see ``sandbox/README.md``): users are listed
with ``state=active`` (not locked) unless another ``state`` is asked for; ``from``/``until`` select
records whose time span overlaps the range; ``invalidate_tokens`` replaces every API token by a new
one (shown in ``/_sandbox/state``), Basic auth keeps working.
"""

from __future__ import annotations

import base64
import binascii
import copy
import hashlib
import hmac
import json
import math
import re
from collections.abc import Awaitable, Callable, Iterable
from datetime import UTC, datetime, timedelta
from functools import lru_cache
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, PlainTextResponse, Response
from starlette.routing import Match, Route
from starlette.types import Scope
from typing_extensions import override

from sandbox.core import Emulator, SandboxError, SlidingWindow
from sandbox.staffomatic_seed import (
    ABSENCE_DEFAULTS,
    ABSENCE_TYPE_DEFAULTS,
    BREAK_TIMER_DEFAULTS,
    COLLECTIONS,
    DEFAULT_RATE_LIMIT,
    DEPARTMENT_DEFAULTS,
    FIRST_IDS,
    USER_DEFAULTS,
    WORK_REPORT_DEFAULTS,
    WORK_TIMER_DEFAULTS,
    build_state,
    iso,
    local,
    parse_time,
    week_start,
)

Record = dict[str, Any]
Handler = Callable[[Request], Awaitable[Response]]

ACCOUNT = "/v3/{account}"
IN_LOCATION = "/locations/{location_id}"
PER_PAGE, MAX_PER_PAGE = 50, 100
NOT_FOUND_HTML = (
    "<!DOCTYPE html>\n<html><head><title>The page you were looking for doesn't exist (404)</title>"
    "</head><body><h1>The page you were looking for doesn't exist.</h1>"
    "<p>You may have mistyped the address or the page may have moved.</p></body></html>\n"
)
UNAUTHORIZED_TEXT = "Du musst Dich einloggen."
EMAIL = re.compile(r"^[^@\s]+@[^@\s]+$")
USER_STATES = ("active", "all", "pending", "locked", "unassigned")

# Writable fields and their kinds (see ``_coerce``); other keys in a body are ignored, as Rails'
# strong parameters do.
ACCOUNT_FIELDS = {
    "name": "str",
    "time_zone": "zone",
    "first_day_of_week": "int",
    "format_24_hour_time": "bool",
    "date_format": "str",
    "reports_editable_for_staff": "bool",
    "assigments_visible_for_staff": "bool",
    "locale": "str",
}
DEPARTMENT_FIELDS = {"name": "str", "color": "str", "position": "int"}
USER_FIELDS = {
    "email": "str",
    "first_name": "str",
    "last_name": "str",
    "locale": "str",
    "role": ("admin", "manager", "staff"),
    "phone_number_mobile": "str",
    "phone_number_office": "str",
    "company": "str",
    "street": "str",
    "additional_street": "str",
    "zip": "str",
    "city": "str",
    "country": "str",
    "gender": "str",
    "time_zone": "zone",
    "max_vacation_days": "int",
    "max_hours_per_month": "int",
    "department_ids": "ids",
    "location_ids": "ids",
    "custom_id": "str",
    "commentable": "bool",
    "attachable": "bool",
}
ABSENCE_TYPE_FIELDS = {
    "name": "str",
    "color": "str",
    "visibility": ("staff", "schedulers"),
    "user_selectable": "bool",
    "include_weekends": "bool",
}
ABSENCE_FIELDS = {
    "starts_at": "time",
    "ends_at": "time",
    "applicant_id": "int",
    "absence_type_id": "int",
    "location_id": "int",
    "paid": "bool",
    "vacation": "bool",
    "include_weekends": "bool",
    "all_day": "bool",
    "justification": "str",
    "commentable": "bool",
    "attachable": "bool",
    "adjusted_duration": "int",
}
WORK_TIMER_FIELDS = {"starts_at": "time", "ends_at": "time", "user_id": "int", "location_id": "int"}
BREAK_TIMER_FIELDS = {"starts_at": "time", "ends_at": "time", "work_timer_id": "int"}


class ApiError(Exception):
    """Ends a request with the vendor's error response."""

    def __init__(self, response: Response) -> None:
        super().__init__(response.status_code)
        self.response = response


def not_found() -> ApiError:
    return ApiError(HTMLResponse(NOT_FOUND_HTML, status_code=404))


def bad_request(message: str) -> ApiError:
    return ApiError(JSONResponse({"error": message}, status_code=400))


def invalid(errors: dict[str, list[str]]) -> ApiError:
    return ApiError(JSONResponse({"errors": errors}, status_code=422))


def _digits(value: str) -> bool:
    return value.isascii() and value.isdigit()


def _same(secret: Any, given: str) -> bool:
    return hmac.compare_digest(str(secret).encode(), given.encode())


def _blank(value: Any) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


class _JsonRoute(Route):
    """A route for a path ending in ``.json`` that also matches the path without the suffix."""

    @override
    def matches(self, scope: Scope) -> tuple[Match, Scope]:
        path = scope.get("path", "")
        if scope.get("type") == "http" and not path.endswith(".json"):
            scope = {**scope, "path": f"{path}.json"}
        return super().matches(scope)


@lru_cache(maxsize=32)
def _zone(name: str) -> ZoneInfo:
    return ZoneInfo(name)


def _coerce(kind: str | tuple[str, ...], value: Any) -> Any:
    """``value`` as Rails would store it in a field of ``kind``; ValueError with the message."""
    if isinstance(kind, tuple):
        if value not in kind:
            raise ValueError("is not included in the list")
        return value
    if value is None:
        if kind == "bool":
            raise ValueError("is not included in the list")
        return [] if kind == "ids" else None
    if kind == "str":
        if isinstance(value, bool) or not isinstance(value, str | int | float):
            raise ValueError("is invalid")
        return str(value)
    if kind == "int":
        return _integer(value)
    if kind == "bool":
        if isinstance(value, bool):
            return value
        if str(value).lower() in ("true", "1"):
            return True
        if str(value).lower() in ("false", "0"):
            return False
        raise ValueError("is not included in the list")
    if kind == "ids":
        if not isinstance(value, list):
            raise ValueError("must be a list of ids")
        return sorted({_integer(item) for item in value})
    if kind == "zone":
        try:
            return str(_zone(str(value)))
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError("is not a known time zone") from None
    if kind == "time":
        if not isinstance(value, str):
            raise ValueError("is not a valid date-time")
        try:
            return datetime.fromisoformat(value.strip())
        except ValueError:
            raise ValueError("is not a valid date-time") from None
    raise AssertionError(kind)


def _integer(value: Any) -> int:
    if isinstance(value, bool):
        raise ValueError("is not a number")
    if isinstance(value, int):
        return value
    if isinstance(value, float) and math.isfinite(value):
        return int(value)
    if isinstance(value, str):
        try:
            number = float(value)
        except ValueError:
            pass
        else:
            if math.isfinite(number):
                return int(number)
    raise ValueError("is not a number")


class StaffomaticEmulator(Emulator):
    """The Staffomatic API v3 of one account, served under ``/v3/{subdomain}``."""

    name = "staffomatic"

    def __init__(self, seed: str = "empty", **params: Any) -> None:
        self._windows: dict[str, SlidingWindow] = {}
        super().__init__(seed, **params)

    # ---- the hooks of Emulator ------------------------------------------------------------------

    @override
    def seed_state(self, seed: str, **params: Any) -> dict[str, Any]:
        return build_state(seed, datetime.now(UTC), **params)

    @override
    def check_state(self, state: dict[str, Any]) -> None:
        account = state.get("account")
        if not isinstance(account, dict) or not isinstance(account.get("subdomain"), str):
            raise SandboxError("'account' must be an object with a 'subdomain'")
        try:
            _zone(str(account.get("time_zone")))
        except (ZoneInfoNotFoundError, ValueError):
            raise SandboxError("'account.time_zone' must be an IANA time zone") from None
        for key in ("credentials", "invitations", *COLLECTIONS):
            items = state.get(key)
            if not isinstance(items, list) or not all(isinstance(i, dict) for i in items):
                raise SandboxError(f"'{key}' must be a list of objects")
        for key in COLLECTIONS:
            if not all(isinstance(i.get("id"), int) for i in state[key]):
                raise SandboxError(f"every item of '{key}' needs an integer 'id'")
        for credential in state["credentials"]:
            if not isinstance(credential.get("user_id"), int):
                raise SandboxError("every credential needs an integer 'user_id'")
        limit = state.get("rate_limit", DEFAULT_RATE_LIMIT)
        if not (
            isinstance(limit, dict)
            and isinstance(limit.get("requests"), int)
            and isinstance(limit.get("seconds"), int | float)
            and limit["requests"] > 0
            and limit["seconds"] > 0
        ):
            raise SandboxError('\'rate_limit\' must be {"requests": n > 0, "seconds": s > 0}')

    @override
    def error_response(self, status: int, message: str, request: Request) -> Response:
        return PlainTextResponse(f"{message}\n", status_code=status)

    @override
    def throttle(self, request: Request, template: str) -> Response | None:
        limit = self.state.get("rate_limit") or DEFAULT_RATE_LIMIT
        host = request.client.host if request.client else "unknown"
        window = self._windows.get(host)
        if window is None or (window.limit, window.seconds) != (
            limit["requests"],
            limit["seconds"],
        ):
            window = self._windows[host] = SlidingWindow(limit["requests"], limit["seconds"])
        if window.take():
            return None
        wait = window.seconds_until()
        response = self.too_many_requests(request, wait)
        response.headers["X-RateLimit-Limit"] = str(limit["requests"])
        response.headers["X-RateLimit-Remaining"] = "0"
        response.headers["X-RateLimit-Reset"] = str(math.ceil(datetime.now(UTC).timestamp() + wait))
        return response

    @override
    def invalidate_tokens(self) -> None:
        for credential in self.state["credentials"]:
            if credential.get("api_token"):
                digest = hashlib.blake2b(credential["api_token"].encode(), digest_size=12)
                credential["api_token"] = f"sbx-{digest.hexdigest()}"

    @override
    def on_reset(self) -> None:
        self._windows.clear()
        self._issued: dict[str, int] = {}

    def describe(self) -> list[str]:
        """A few lines for a person: the account, its credentials and what it holds."""
        account = self.state["account"]
        users = {u["id"]: u for u in self.state["users"]}
        lines = [
            f"account '{account['subdomain']}' ({account['name']}), "
            f"time zone {account['time_zone']}"
        ]
        for credential in self.state["credentials"]:
            email = users.get(credential["user_id"], {}).get("email")
            lines.append(
                f"login {email} / password {credential.get('password')} "
                f"or Bearer {credential.get('api_token')}"
            )
        sizes = ", ".join(f"{len(self.state[key])} {key}" for key in COLLECTIONS)
        lines.append(sizes)
        return lines

    # ---- routes ---------------------------------------------------------------------------------

    @override
    def routes(self) -> list[Route]:
        routes: list[Route] = []

        def add(path: str, handler: Handler, *methods: str, located: bool = False) -> None:
            paths = [path, f"{IN_LOCATION}{path}"] if located else [path]
            for each in paths:
                endpoint = self._endpoint(handler)
                routes.append(_JsonRoute(f"{ACCOUNT}{each}.json", endpoint, methods=list(methods)))

        write = ("PUT", "PATCH")
        add("/account", self.get_account, "GET")
        add("/account", self.update_account, *write)
        add("/locations", self.list_locations, "GET")
        add("/locations/{id}", self.get_location, "GET")
        add("/departments", self.list_departments, "GET", located=True)
        add("/departments", self.create_department, "POST", located=True)
        add("/departments/{id}", self.get_department, "GET", located=True)
        add("/departments/{id}", self.update_department, *write, located=True)
        add("/departments/{id}", self.delete_department, "DELETE", located=True)
        add("/departments/{id}/add_users", self.add_department_users, *write, located=True)
        add("/departments/{id}/remove_users", self.remove_department_users, *write, located=True)
        add("/user", self.current_user, "GET")
        add("/users", self.list_users, "GET", located=True)
        add("/users", self.create_user, "POST", located=True)
        add("/users/{id}", self.get_user, "GET", located=True)
        add("/users/{id}", self.update_user, *write, located=True)
        add("/users/{id}", self.delete_user, "DELETE", located=True)
        add("/absence_types", self.list_absence_types, "GET", located=True)
        add("/absence_types", self.create_absence_type, "POST", located=True)
        add("/absence_types/{id}", self.get_absence_type, "GET", located=True)
        add("/absence_types/{id}", self.update_absence_type, *write, located=True)
        add("/absence_types/{id}", self.delete_absence_type, "DELETE", located=True)
        add("/absences", self.list_absences, "GET", located=True)
        add("/absences", self.create_absence, "POST", located=True)
        add("/absences/{id}", self.get_absence, "GET", located=True)
        add("/absences/{id}", self.update_absence, *write, located=True)
        add("/absences/{id}", self.delete_absence, "DELETE", located=True)
        add("/work_timers", self.list_work_timers, "GET", located=True)
        add("/work_timers", self.create_work_timer, "POST")
        add("/work_timers/{id}", self.get_work_timer, "GET")
        add("/work_timers/{id}", self.update_work_timer, *write)
        add("/work_timers/{id}", self.delete_work_timer, "DELETE")
        add("/break_timers", self.list_break_timers, "GET")
        add("/work_timers/{work_timer_id}/break_timers", self.list_break_timers, "GET")
        add("/break_timers", self.create_break_timer, "POST")
        add("/work_timers/{work_timer_id}/break_timers", self.create_break_timer, "POST")
        add("/break_timers/{id}", self.get_break_timer, "GET")
        add("/break_timers/{id}", self.update_break_timer, *write)
        add("/break_timers/{id}", self.delete_break_timer, "DELETE")
        add("/work_reports", self.list_work_reports, "GET", located=True)
        add("/work_reports/{id}", self.get_work_report, "GET")
        routes.append(Route(f"{ACCOUNT}/{{rest:path}}", self._endpoint(self.no_route)))
        return routes

    def _endpoint(self, handler: Handler) -> Handler:
        async def endpoint(request: Request) -> Response:
            try:
                request.state.user = self._check_request(request)
                return await handler(request)
            except ApiError as error:
                return error.response

        return endpoint

    def _check_request(self, request: Request) -> Record:
        """Account, User-Agent, credentials, content type and role, in the vendor's order."""
        if request.path_params.get("account") != self.state["account"]["subdomain"]:
            raise not_found()
        if not request.headers.get("user-agent", "").strip():
            raise ApiError(
                PlainTextResponse(
                    "Bad Request: send a User-Agent naming your application and a contact e-mail, "
                    "for example 'MyApp (me@example.com)'.\n",
                    status_code=400,
                )
            )
        user = self._authenticate(request)
        if request.method in ("POST", "PUT", "PATCH"):
            media = request.headers.get("content-type", "").split(";")[0].strip().lower()
            if media != "application/json" and not media.endswith("+json"):
                raise ApiError(
                    PlainTextResponse("Unsupported Media Type: send JSON.\n", status_code=415)
                )
        if request.method != "GET" and user["role"] not in ("admin", "manager"):
            raise ApiError(PlainTextResponse("Forbidden\n", status_code=403))
        return user

    def _authenticate(self, request: Request) -> Record:
        scheme, _, value = request.headers.get("authorization", "").partition(" ")
        credential: Record | None = None
        if scheme.lower() == "basic":
            try:
                decoded = base64.b64decode(value.strip(), validate=True).decode()
            except (binascii.Error, UnicodeDecodeError):
                decoded = ""
            email, _, password = decoded.partition(":")
            user = next(
                (
                    u
                    for u in self.state["users"]
                    if (u.get("email") or "").casefold() == email.casefold()
                ),
                None,
            )
            if user is not None and email:
                credential = next(
                    (
                        c
                        for c in self.state["credentials"]
                        if c["user_id"] == user["id"] and _same(c.get("password"), password)
                    ),
                    None,
                )
        elif scheme.lower() == "bearer" and value.strip():
            credential = next(
                (
                    c
                    for c in self.state["credentials"]
                    if c.get("api_token") and _same(c["api_token"], value.strip())
                ),
                None,
            )
        user = self._find("users", credential["user_id"]) if credential else None
        if user is None or user.get("locked_at"):
            raise ApiError(
                PlainTextResponse(
                    UNAUTHORIZED_TEXT,
                    status_code=401,
                    headers={"WWW-Authenticate": 'Basic realm="Application"'},
                )
            )
        return user

    async def no_route(self, request: Request) -> Response:
        last = request.path_params["rest"].rsplit("/", 1)[-1]
        if "." in last and not last.endswith(".json"):
            return PlainTextResponse(
                "Unsupported Media Type: paths end in .json.\n", status_code=415
            )
        raise not_found()

    # ---- helpers --------------------------------------------------------------------------------

    @property
    def zone(self) -> ZoneInfo:
        return _zone(self.state["account"]["time_zone"])

    def now(self) -> datetime:
        return datetime.now(self.zone).replace(microsecond=0)

    def stamp(self) -> str:
        return iso(self.now(), self.zone)

    def _find(self, collection: str, record_id: int) -> Record | None:
        return next((r for r in self.state[collection] if r["id"] == record_id), None)

    def _get(self, collection: str, request: Request, key: str = "id") -> Record:
        raw = request.path_params[key]
        record = self._find(collection, int(raw)) if _digits(raw) else None
        if record is None:
            raise not_found()
        location_id = self._location(request)
        if location_id is not None:
            if collection == "users":
                if location_id not in record["location_ids"]:
                    raise not_found()
            elif record.get("location_id") != location_id:
                raise not_found()
        return record

    def _location(self, request: Request) -> int | None:
        raw = request.path_params.get("location_id")
        if raw is None:
            return None
        if not _digits(raw) or self._find("locations", int(raw)) is None:
            raise not_found()
        return int(raw)

    def _add(self, collection: str, defaults: Record, fields: Record) -> Record:
        items = self.state[collection]
        stamp = self.stamp()
        # Like a database sequence, an id is never handed out twice, even after a delete.
        highest = max((r["id"] for r in items), default=FIRST_IDS[collection] - 1)
        next_id = max(highest, self._issued.get(collection, 0)) + 1
        self._issued[collection] = next_id
        record = {"created_at": stamp, "updated_at": stamp, "id": next_id}
        record |= copy.deepcopy(defaults) | fields
        items.append(record)
        return record

    def _touch(self, record: Record, fields: Record) -> Record:
        record.update(fields)
        record["updated_at"] = self.stamp()
        return record

    def _delete(self, collection: str, record: Record) -> Response:
        self.state[collection] = [r for r in self.state[collection] if r["id"] != record["id"]]
        return Response(status_code=204)

    async def _body(self, request: Request, wrapper: str) -> Record:
        """The JSON object of a write; ``{"<wrapper>": {...}}`` is unwrapped as Rails does."""
        raw = await request.body()
        if not raw.strip():
            return {}
        try:
            body = json.loads(raw)
        except ValueError:
            raise bad_request("The request body is not valid JSON.") from None
        if not isinstance(body, dict):
            raise bad_request("The request body must be a JSON object.")
        inner = body.pop(wrapper, None)
        return body | inner if isinstance(inner, dict) else body

    def _fields(self, body: Record, spec: dict[str, Any]) -> Record:
        """The writable fields of ``body``, coerced; a 422 naming each invalid one."""
        fields: Record = {}
        errors: dict[str, list[str]] = {}
        for key, kind in spec.items():
            if key in body:
                try:
                    value = _coerce(kind, body[key])
                    if isinstance(value, datetime):
                        value = iso(
                            value if value.tzinfo else value.replace(tzinfo=self.zone), self.zone
                        )
                except (ValueError, OverflowError) as error:
                    errors[key] = [
                        str(error) if isinstance(error, ValueError) else "is out of range"
                    ]
                    continue
                fields[key] = value
        if errors:
            raise invalid(errors)
        return fields

    def _do(self, body: Record, allowed: Iterable[str]) -> str | None:
        action = body.get("do")
        if action is not None and action not in allowed:
            raise invalid({"do": ["is not included in the list"]})
        return action

    def _time(self, value: str | None) -> datetime | None:
        return None if value is None else parse_time(value, self.zone)

    def _require(self, fields: Record, *keys: str) -> None:
        errors = {key: ["can't be blank"] for key in keys if _blank(fields.get(key))}
        if errors:
            raise invalid(errors)

    def _exists(self, collection: str, record_id: int | None, name: str) -> None:
        if record_id is not None and self._find(collection, record_id) is None:
            raise invalid({name: ["must exist"]})

    def _order(self, starts: str | None, ends: str | None) -> None:
        if starts and ends and parse_time(ends, self.zone) < parse_time(starts, self.zone):
            raise invalid({"ends_at": ["must be after starts_at"]})

    def _json(self, request: Request, data: Any, headers: dict[str, str] | None = None) -> Response:
        body = json.dumps(data, ensure_ascii=False, separators=(",", ":")).encode()
        tag = f'"{hashlib.blake2b(body, digest_size=16).hexdigest()}"'
        headers = {"ETag": tag, "Cache-Control": "max-age=0, private, must-revalidate"} | (
            headers or {}
        )
        if request.method == "GET" and request.headers.get("if-none-match") == tag:
            return Response(status_code=304, headers=headers)
        return Response(body, media_type="application/json; charset=utf-8", headers=headers)

    def _page(
        self, request: Request, items: list[Record], render: Callable[[Record], Record]
    ) -> Response:
        page = self._int_param(request, "page", 1)
        per_page = min(self._int_param(request, "per_page", PER_PAGE), MAX_PER_PAGE)
        pages = max(1, math.ceil(len(items) / per_page))
        chunk = items[(page - 1) * per_page : page * per_page]

        def link(number: int, rel: str) -> str:
            url = request.url.include_query_params(page=number, per_page=per_page)
            return f'<{url}>; rel="{rel}"'

        links = []
        if page > 1:
            links += [link(1, "first"), link(min(page - 1, pages), "prev")]
        links.append(link(pages, "last"))
        if page < pages:
            links.append(link(page + 1, "next"))
        headers = {
            "Link": ", ".join(links),
            "Total": str(len(items)),
            "Pages": str(pages),
            "Page": str(page),
        }
        return self._json(request, [render(r) for r in chunk], headers)

    @staticmethod
    def _int_param(request: Request, name: str, default: int) -> int:
        raw = request.query_params.get(name)
        if raw is None or raw == "":
            return default
        if not _digits(raw) or int(raw) < 1:
            raise bad_request(f"The query parameter {name} must be a whole number of at least 1.")
        return int(raw)

    @staticmethod
    def _ids_param(request: Request, name: str) -> set[int] | None:
        values = request.query_params.getlist(f"{name}[]")
        if not values:
            return None
        if not all(_digits(v) for v in values):
            raise bad_request(f"The query parameter {name}[] must hold record ids.")
        return {int(v) for v in values}

    def _range(self, request: Request) -> tuple[datetime | None, datetime | None]:
        bounds = []
        for name in ("from", "until"):
            raw = request.query_params.get(name)
            try:
                bounds.append(parse_time(raw, self.zone) if raw else None)
            except ValueError:
                raise bad_request(
                    f"The query parameter {name} must be an ISO 8601 date-time with its offset "
                    "URL-encoded, for example 2024-07-01T00%3A00%3A00%2B02%3A00."
                ) from None
        return bounds[0], bounds[1]

    def _overlapping(
        self,
        request: Request,
        items: Iterable[Record],
        start: str = "starts_at",
        end: str = "ends_at",
    ) -> list[Record]:
        low, high = self._range(request)
        if low is None and high is None:
            return list(items)
        chosen = []
        for item in items:
            starts, ends = self._time(item.get(start)), self._time(item.get(end))
            if starts is None:
                continue
            if high is not None and starts > high:
                continue
            if low is not None and ends is not None and ends < low:
                continue
            chosen.append(item)
        return chosen

    def _scoped(self, request: Request, collection: str) -> list[Record]:
        """Items of ``collection`` in the path's location (all without one)."""
        location_id = self._location(request)
        items = self.state[collection]
        if location_id is None:
            return list(items)
        return [i for i in items if i.get("location_id") == location_id]

    def _for_users(self, request: Request, items: list[Record], key: str) -> list[Record]:
        user_ids = self._ids_param(request, "user_ids")
        return items if user_ids is None else [i for i in items if i.get(key) in user_ids]

    def _times(self, record: Record) -> Record:
        """``record`` with its date-times shown in the account's time zone."""
        zone = self.zone
        return {
            key: iso(parse_time(value, zone), zone)
            if key.endswith(("_at", "_until")) and isinstance(value, str) and "T" in value
            else value
            for key, value in record.items()
        }

    @staticmethod
    def _seconds(starts: str | None, ends: str | None, zone: ZoneInfo) -> int:
        if not starts or not ends:
            return 0
        return int((parse_time(ends, zone) - parse_time(starts, zone)).total_seconds())

    @staticmethod
    def _after(record: Record, key: str, extra: Record) -> Record:
        shown: Record = {}
        for name, value in record.items():
            shown[name] = value
            if name == key:
                shown |= extra
        return shown | {k: v for k, v in extra.items() if k not in shown}

    # ---- account and locations ------------------------------------------------------------------

    def render_account(self) -> Record:
        state = self.state
        counts = {
            "locations_count": len(state["locations"]),
            "active_users_count": sum(1 for u in state["users"] if not u.get("locked_at")),
            "shift_categories_count": len(state["departments"]),
        }
        return self._after(self._times(state["account"]), "time_zone", counts)

    async def get_account(self, request: Request) -> Response:
        return self._json(request, self.render_account())

    async def update_account(self, request: Request) -> Response:
        fields = self._fields(await self._body(request, "account"), ACCOUNT_FIELDS)
        self._touch(self.state["account"], fields)
        return self._json(request, self.render_account())

    def render_location(self, record: Record) -> Record:
        members = [u for u in self.state["users"] if record["id"] in u.get("location_ids", [])]
        return self._times(record) | {
            "active_users_count": sum(1 for u in members if not u.get("locked_at")),
            "department_count": sum(
                1 for d in self.state["departments"] if d.get("location_id") == record["id"]
            ),
            "user_ids": [u["id"] for u in members],
        }

    async def list_locations(self, request: Request) -> Response:
        return self._page(request, list(self.state["locations"]), self.render_location)

    async def get_location(self, request: Request) -> Response:
        return self._json(request, self.render_location(self._get("locations", request)))

    # ---- departments ----------------------------------------------------------------------------

    def render_department(self, record: Record) -> Record:
        user_ids = [
            u["id"] for u in self.state["users"] if record["id"] in u.get("department_ids", [])
        ]
        return self._times(record) | {"user_ids": user_ids}

    async def list_departments(self, request: Request) -> Response:
        return self._page(request, self._scoped(request, "departments"), self.render_department)

    async def get_department(self, request: Request) -> Response:
        return self._json(request, self.render_department(self._get("departments", request)))

    async def create_department(self, request: Request) -> Response:
        location_id = self._location(request)
        fields = self._fields(await self._body(request, "department"), DEPARTMENT_FIELDS)
        self._require(fields, "name")
        if location_id is None:
            raise invalid({"location": ["must exist"]})
        fields |= {"location_id": location_id, "creator_id": request.state.user["id"]}
        record = self._add("departments", DEPARTMENT_DEFAULTS, fields)
        return self._json(request, self.render_department(record))

    async def update_department(self, request: Request) -> Response:
        record = self._get("departments", request)
        fields = self._fields(await self._body(request, "department"), DEPARTMENT_FIELDS)
        if "name" in fields:
            self._require(fields, "name")
        return self._json(request, self.render_department(self._touch(record, fields)))

    async def delete_department(self, request: Request) -> Response:
        record = self._get("departments", request)
        for user in self.state["users"]:
            if record["id"] in user["department_ids"]:
                user["department_ids"] = [d for d in user["department_ids"] if d != record["id"]]
        return self._delete("departments", record)

    async def _department_users(self, request: Request, add: bool) -> Response:
        record = self._get("departments", request)
        fields = self._fields(await self._body(request, "department"), {"user_ids": "ids"})
        user_ids = set(fields.get("user_ids", []))
        users = [u for u in self.state["users"] if u["id"] in user_ids]
        if len(users) != len(user_ids):
            raise invalid({"user_ids": ["contains unknown users"]})
        for user in users:
            ids = set(user["department_ids"])
            ids = ids | {record["id"]} if add else ids - {record["id"]}
            changes: Record = {"department_ids": sorted(ids)}
            if add and record["location_id"] not in user["location_ids"]:
                changes["location_ids"] = sorted({*user["location_ids"], record["location_id"]})
            self._touch(user, changes)
        return self._json(request, self.render_department(record))

    async def add_department_users(self, request: Request) -> Response:
        return await self._department_users(request, add=True)

    async def remove_department_users(self, request: Request) -> Response:
        return await self._department_users(request, add=False)

    # ---- users ----------------------------------------------------------------------------------

    def render_user(self, record: Record) -> Record:
        name = " ".join(p for p in (record.get("first_name"), record.get("last_name")) if p)
        extra = {"full_name": name, "shift_category_ids": list(record.get("department_ids", []))}
        return self._after(self._times(record), "last_name", extra)

    async def current_user(self, request: Request) -> Response:
        return self._json(request, self.render_user(request.state.user))

    async def list_users(self, request: Request) -> Response:
        location_id = self._location(request)
        state = request.query_params.get("state") or "active"
        if state not in USER_STATES:
            raise bad_request(f"The query parameter state must be one of {', '.join(USER_STATES)}.")
        departments = self._ids_param(request, "department_ids")
        users = []
        for user in self.state["users"]:
            locked = bool(user.get("locked_at"))
            keep = {
                "all": True,
                "active": not locked,
                "locked": locked,
                "pending": not locked and user.get("invitation_state") == "pending",
                "unassigned": not locked and not user.get("department_ids"),
            }[state]
            if location_id is not None and location_id not in user.get("location_ids", []):
                keep = False
            if departments is not None and not departments & set(user.get("department_ids", [])):
                keep = False
            if keep:
                users.append(user)
        return self._page(request, users, self.render_user)

    async def get_user(self, request: Request) -> Response:
        return self._json(request, self.render_user(self._get("users", request)))

    def _check_user(self, fields: Record, user_id: int | None) -> Record:
        """Validate e-mail, departments and locations; add the departments' locations."""
        errors: dict[str, list[str]] = {}
        email = fields.get("email")
        if email is not None:
            email = fields["email"] = email.strip()
            if not EMAIL.match(email):
                errors["email"] = ["is invalid"]
            elif any(
                (u.get("email") or "").casefold() == email.casefold() and u["id"] != user_id
                for u in self.state["users"]
            ):
                errors["email"] = ["has already been taken"]
        departments = {d["id"]: d for d in self.state["departments"]}
        if any(d not in departments for d in fields.get("department_ids", [])):
            errors["department_ids"] = ["contains unknown departments"]
        locations = {location["id"] for location in self.state["locations"]}
        if any(location not in locations for location in fields.get("location_ids", [])):
            errors["location_ids"] = ["contains unknown locations"]
        if errors:
            raise invalid(errors)
        if fields.get("department_ids"):
            needed = {departments[d]["location_id"] for d in fields["department_ids"]}
            fields["location_ids"] = sorted(set(fields.get("location_ids", [])) | needed)
        return fields

    def _invite(self, user: Record, actor: Record) -> None:
        if not user.get("email"):
            raise invalid({"email": ["can't be blank"]})
        stamp = self.stamp()
        self.state["invitations"].append(
            {"user_id": user["id"], "email": user["email"], "sent_at": stamp}
        )
        user.update(
            invitation_state="pending", invitation_created_at=stamp, invited_by_id=actor["id"]
        )

    async def create_user(self, request: Request) -> Response:
        location_id = self._location(request)
        body = await self._body(request, "user")
        action = self._do(body, ("send_invitation",))
        fields = self._fields(body, USER_FIELDS)
        if location_id is not None:
            fields["location_ids"] = sorted({*fields.get("location_ids", []), location_id})
        self._require(fields, "email")
        self._check_user(fields, None)
        record = self._add("users", USER_DEFAULTS, fields)
        if action == "send_invitation":
            self._invite(record, request.state.user)
        return self._json(request, self.render_user(record))

    async def update_user(self, request: Request) -> Response:
        record = self._get("users", request)
        body = await self._body(request, "user")
        action = self._do(body, ("send_invitation", "lock", "unlock"))
        fields = self._fields(body, USER_FIELDS)
        if "email" in fields:
            self._require(fields, "email")
        if "location_ids" in fields and "department_ids" not in fields:
            fields["department_ids"] = record["department_ids"]
        self._check_user(fields, record["id"])
        self._touch(record, fields)
        if action == "lock" and not record.get("locked_at"):
            record["locked_at"] = self.stamp()
        elif action == "unlock":
            record["locked_at"] = None
        elif action == "send_invitation":
            self._invite(record, request.state.user)
        return self._json(request, self.render_user(record))

    async def delete_user(self, request: Request) -> Response:
        record = self._get("users", request)
        self.state["credentials"] = [
            c for c in self.state["credentials"] if c["user_id"] != record["id"]
        ]
        return self._delete("users", record)

    # ---- absence types --------------------------------------------------------------------------

    def render_absence_type(self, record: Record) -> Record:
        return self._times(record)

    async def list_absence_types(self, request: Request) -> Response:
        items = self._scoped(request, "absence_types")
        return self._page(request, items, self.render_absence_type)

    async def get_absence_type(self, request: Request) -> Response:
        return self._json(request, self._times(self._get("absence_types", request)))

    def _unique_type_name(self, name: str, location_id: int, own_id: int | None) -> None:
        if any(
            t["name"] == name and t["location_id"] == location_id and t["id"] != own_id
            for t in self.state["absence_types"]
        ):
            raise invalid({"name": ["has already been taken"]})

    async def create_absence_type(self, request: Request) -> Response:
        location_id = self._location(request)
        fields = self._fields(await self._body(request, "absence_type"), ABSENCE_TYPE_FIELDS)
        self._require(fields, "name")
        if location_id is None:
            raise invalid({"location": ["must exist"]})
        self._unique_type_name(fields["name"], location_id, None)
        record = self._add(
            "absence_types", ABSENCE_TYPE_DEFAULTS, fields | {"location_id": location_id}
        )
        return self._json(request, self._times(record))

    async def update_absence_type(self, request: Request) -> Response:
        record = self._get("absence_types", request)
        fields = self._fields(await self._body(request, "absence_type"), ABSENCE_TYPE_FIELDS)
        if "name" in fields:
            self._require(fields, "name")
            self._unique_type_name(fields["name"], record["location_id"], record["id"])
        return self._json(request, self._times(self._touch(record, fields)))

    async def delete_absence_type(self, request: Request) -> Response:
        return self._delete("absence_types", self._get("absence_types", request))

    # ---- absences -------------------------------------------------------------------------------

    async def list_absences(self, request: Request) -> Response:
        items = self._for_users(request, self._scoped(request, "absences"), "applicant_id")
        states = set(
            request.query_params.getlist("state[]") + request.query_params.getlist("state")
        )
        if states:
            items = [i for i in items if i["state"] in states]
        types = self._ids_param(request, "absence_type_id")
        if types is not None:
            items = [i for i in items if i["absence_type_id"] in types]
        for flag in ("paid", "vacation"):
            raw = request.query_params.get(flag)
            if raw is not None:
                try:
                    wanted = _coerce("bool", raw)
                except ValueError:
                    raise bad_request(
                        f"The query parameter {flag} must be true or false."
                    ) from None
                items = [i for i in items if i[flag] is wanted]
        return self._page(request, self._overlapping(request, items), self._times)

    async def get_absence(self, request: Request) -> Response:
        return self._json(request, self._times(self._get("absences", request)))

    def _shape_absence(self, record: Record, fields: Record) -> Record:
        """Snap all-day absences to whole local days and compute ``adjusted_duration``."""
        merged = record | fields
        starts, ends = self._time(merged["starts_at"]), self._time(merged["ends_at"])
        if starts is None or ends is None:
            return fields
        zone = self.zone
        if merged["all_day"]:
            first, last = starts.astimezone(zone).date(), ends.astimezone(zone).date()
            starts = local(first, 0, 0, zone)
            ends = local(last, 23, 59, zone) + timedelta(seconds=59)
            duration = ((last - first).days + 1) * 86400
        else:
            duration = int((ends - starts).total_seconds())
        fields |= {"starts_at": iso(starts, zone), "ends_at": iso(ends, zone)}
        if "adjusted_duration" not in fields and {"starts_at", "ends_at", "all_day"} & set(fields):
            fields["adjusted_duration"] = duration
        return fields

    def _check_absence(self, merged: Record) -> None:
        self._exists("users", merged["applicant_id"], "applicant")
        self._exists("absence_types", merged["absence_type_id"], "absence_type")
        self._exists("locations", merged["location_id"], "location")
        self._order(merged["starts_at"], merged["ends_at"])

    async def create_absence(self, request: Request) -> Response:
        location_id = self._location(request)
        fields = self._fields(await self._body(request, "absence"), ABSENCE_FIELDS)
        self._require(fields, "starts_at", "ends_at", "applicant_id", "absence_type_id")
        if location_id is not None:
            fields["location_id"] = location_id
        actor = request.state.user["id"]
        fields |= {"last_updated_by_id": actor, "handler_id": actor, "state": "new"}
        fields = self._shape_absence(ABSENCE_DEFAULTS, fields)
        self._check_absence(ABSENCE_DEFAULTS | fields)
        record = self._add("absences", ABSENCE_DEFAULTS, fields)
        return self._json(request, self._times(record))

    async def update_absence(self, request: Request) -> Response:
        record = self._get("absences", request)
        body = await self._body(request, "absence")
        action = self._do(body, ("approve", "decline"))
        fields = self._fields(body, ABSENCE_FIELDS)
        if record["state"] != "new" and (fields or action):
            raise invalid(
                {"base": [f"An absence that is {record['state']} cannot be changed any more."]}
            )
        self._require(
            fields, *({"starts_at", "ends_at", "applicant_id", "absence_type_id"} & set(fields))
        )
        fields = self._shape_absence(record, fields)
        self._check_absence(record | fields)
        actor = request.state.user["id"]
        fields["last_updated_by_id"] = actor
        if action is not None:
            fields |= {
                "state": "approved" if action == "approve" else "declined",
                "processed_at": self.stamp(),
                "handler_id": actor,
            }
        return self._json(request, self._times(self._touch(record, fields)))

    async def delete_absence(self, request: Request) -> Response:
        return self._delete("absences", self._get("absences", request))

    # ---- work timers, break timers, work reports ------------------------------------------------

    def _breaks_by_timer(self) -> dict[int, int]:
        totals: dict[int, int] = {}
        zone = self.zone
        for item in self.state["break_timers"]:
            seconds = self._seconds(item.get("starts_at"), item.get("ends_at"), zone)
            totals[item["work_timer_id"]] = totals.get(item["work_timer_id"], 0) + seconds
        return totals

    def render_work_timer(self, record: Record, breaks: dict[int, int] | None = None) -> Record:
        breaks = self._breaks_by_timer() if breaks is None else breaks
        duration = self._seconds(record.get("starts_at"), record.get("ends_at"), self.zone)
        pause = breaks.get(record["id"], 0)
        extra = {
            "duration": duration,
            "break_duration": pause,
            "net_duration": max(0, duration - pause),
        }
        return self._after(self._times(record), "state", extra)

    async def list_work_timers(self, request: Request) -> Response:
        items = self._for_users(request, self._scoped(request, "work_timers"), "user_id")
        breaks = self._breaks_by_timer()
        return self._page(
            request, self._overlapping(request, items), lambda r: self.render_work_timer(r, breaks)
        )

    async def get_work_timer(self, request: Request) -> Response:
        return self._json(request, self.render_work_timer(self._get("work_timers", request)))

    def _work_report(self, user_id: int, starts_at: str, location_id: int | None) -> int:
        zone = self.zone
        monday = week_start(parse_time(starts_at, zone), zone)
        starts = iso(monday, zone)
        for report in self.state["work_reports"]:
            if report["user_id"] == user_id and report["starts_at"] == starts:
                return int(report["id"])
        ends = local(monday.date() + timedelta(days=6), 23, 59, zone) + timedelta(seconds=59)
        fields = {
            "user_id": user_id,
            "location_id": location_id,
            "starts_at": starts,
            "ends_at": iso(ends, zone),
        }
        return int(self._add("work_reports", WORK_REPORT_DEFAULTS, fields)["id"])

    async def create_work_timer(self, request: Request) -> Response:
        body = await self._body(request, "work_timer")
        action = self._do(body, ("start",))
        fields = self._fields(body, WORK_TIMER_FIELDS)
        self._require(fields, "user_id")
        self._exists("users", fields["user_id"], "user")
        self._exists("locations", fields.get("location_id"), "location")
        if action == "start" and fields.get("ends_at"):
            raise invalid({"ends_at": ["must be blank when starting a timer"]})
        if fields.get("starts_at") is None:
            fields["starts_at"] = self.stamp()
        self._order(fields["starts_at"], fields.get("ends_at"))
        actor = request.state.user["id"]
        fields |= {
            "state": "stopped" if fields.get("ends_at") else "running",
            "created_by_id": actor,
            "updated_by_id": actor,
            "work_report_id": self._work_report(
                fields["user_id"], fields["starts_at"], fields.get("location_id")
            ),
        }
        record = self._add("work_timers", WORK_TIMER_DEFAULTS, fields)
        return self._json(request, self.render_work_timer(record))

    async def update_work_timer(self, request: Request) -> Response:
        record = self._get("work_timers", request)
        body = await self._body(request, "work_timer")
        action = self._do(body, ("stop", "verify"))
        fields = self._fields(body, WORK_TIMER_FIELDS)
        if "starts_at" in fields or "user_id" in fields:
            self._require(fields, *({"starts_at", "user_id"} & set(fields)))
        self._exists("users", fields.get("user_id"), "user")
        self._exists("locations", fields.get("location_id"), "location")
        state = record["state"]
        if action == "stop":
            if state != "running":
                raise invalid({"state": [f"is {state}; only a running timer can be stopped"]})
            fields.setdefault("ends_at", self.stamp())
        if action == "verify" and state != "stopped":
            raise invalid({"state": [f"is {state}; only a stopped timer can be verified"]})
        merged = record | fields
        self._order(merged["starts_at"], merged["ends_at"])
        if action == "verify":
            fields["state"] = "verified"
        elif merged["ends_at"] and state == "running":
            fields["state"] = "stopped"
        if {"starts_at", "user_id"} & set(fields):
            fields["work_report_id"] = self._work_report(
                merged["user_id"], merged["starts_at"], merged["location_id"]
            )
        fields["updated_by_id"] = request.state.user["id"]
        return self._json(request, self.render_work_timer(self._touch(record, fields)))

    async def delete_work_timer(self, request: Request) -> Response:
        record = self._get("work_timers", request)
        self.state["break_timers"] = [
            b for b in self.state["break_timers"] if b["work_timer_id"] != record["id"]
        ]
        return self._delete("work_timers", record)

    def render_break_timer(self, record: Record) -> Record:
        duration = self._seconds(record.get("starts_at"), record.get("ends_at"), self.zone)
        return self._after(self._times(record), "created_by_id", {"duration": duration})

    async def list_break_timers(self, request: Request) -> Response:
        items = self.state["break_timers"]
        if "work_timer_id" in request.path_params:
            timer = self._get("work_timers", request, "work_timer_id")
            items = [b for b in items if b["work_timer_id"] == timer["id"]]
        items = self._for_users(request, list(items), "user_id")
        return self._page(request, self._overlapping(request, items), self.render_break_timer)

    async def get_break_timer(self, request: Request) -> Response:
        return self._json(request, self.render_break_timer(self._get("break_timers", request)))

    async def create_break_timer(self, request: Request) -> Response:
        body = await self._body(request, "break_timer")
        action = self._do(body, ("start",))
        fields = self._fields(body, BREAK_TIMER_FIELDS)
        if "work_timer_id" in request.path_params:
            fields["work_timer_id"] = self._get("work_timers", request, "work_timer_id")["id"]
        self._require(fields, "work_timer_id")
        self._exists("work_timers", fields["work_timer_id"], "work_timer")
        timer = self._find("work_timers", fields["work_timer_id"])
        assert timer is not None
        if action == "start" and fields.get("ends_at"):
            raise invalid({"ends_at": ["must be blank when starting a break"]})
        if fields.get("starts_at") is None:
            fields["starts_at"] = self.stamp()
        self._order(fields["starts_at"], fields.get("ends_at"))
        actor = request.state.user["id"]
        fields |= {"user_id": timer["user_id"], "created_by_id": actor, "updated_by_id": actor}
        record = self._add("break_timers", BREAK_TIMER_DEFAULTS, fields)
        return self._json(request, self.render_break_timer(record))

    async def update_break_timer(self, request: Request) -> Response:
        record = self._get("break_timers", request)
        body = await self._body(request, "break_timer")
        action = self._do(body, ("stop",))
        fields = self._fields(
            body, {k: v for k, v in BREAK_TIMER_FIELDS.items() if k != "work_timer_id"}
        )
        if "starts_at" in fields:
            self._require(fields, "starts_at")
        if action == "stop":
            if record.get("ends_at"):
                raise invalid({"state": ["is stopped; only a running break can be stopped"]})
            fields.setdefault("ends_at", self.stamp())
        merged = record | fields
        self._order(merged["starts_at"], merged["ends_at"])
        fields["updated_by_id"] = request.state.user["id"]
        return self._json(request, self.render_break_timer(self._touch(record, fields)))

    async def delete_break_timer(self, request: Request) -> Response:
        return self._delete("break_timers", self._get("break_timers", request))

    def _report_totals(self) -> dict[int, tuple[int, int]]:
        """Work seconds and break seconds of each work report, from its timers."""
        breaks = self._breaks_by_timer()
        totals: dict[int, tuple[int, int]] = {}
        for timer in self.state["work_timers"]:
            total, pause = totals.get(timer.get("work_report_id") or 0, (0, 0))
            total += self._seconds(timer.get("starts_at"), timer.get("ends_at"), self.zone)
            totals[timer.get("work_report_id") or 0] = (total, pause + breaks.get(timer["id"], 0))
        return totals

    def render_work_report(
        self, record: Record, totals: dict[int, tuple[int, int]] | None = None
    ) -> Record:
        totals = self._report_totals() if totals is None else totals
        total, pause = totals.get(record["id"], (0, 0))
        shown = {k: v for k, v in self._times(record).items() if k != "location_id"}
        return shown | {
            "cached_break_duration": pause,
            "cached_total_duration": total,
            "cached_net_duration": max(0, total - pause),
            "cached_planned_break_duration": 0,
            "cached_planned_total_duration": 0,
            "cached_planned_net_duration": 0,
        }

    async def list_work_reports(self, request: Request) -> Response:
        items = self._for_users(request, self._scoped(request, "work_reports"), "user_id")
        totals = self._report_totals()
        return self._page(
            request,
            self._overlapping(request, items),
            lambda record: self.render_work_report(record, totals),
        )

    async def get_work_report(self, request: Request) -> Response:
        return self._json(request, self.render_work_report(self._get("work_reports", request)))
