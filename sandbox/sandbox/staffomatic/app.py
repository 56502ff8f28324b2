"""The Staffomatic emulator: its route table, state checks and the hooks of :class:`Emulator`."""

from __future__ import annotations

import hashlib
import math
from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfoNotFoundError

from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response
from starlette.routing import Match, Route
from starlette.types import Scope
from typing_extensions import override

from sandbox.core import SandboxError, SlidingWindow
from sandbox.staffomatic.absences import Absences
from sandbox.staffomatic.base import Handler
from sandbox.staffomatic.errors import ERROR_BODIES
from sandbox.staffomatic.fields import time_zone
from sandbox.staffomatic.organisation import Organisation
from sandbox.staffomatic.records import COLLECTIONS, DEFAULT_RATE_LIMIT
from sandbox.staffomatic.seed import build_state
from sandbox.staffomatic.timers import Timers
from sandbox.staffomatic.users import Users

ACCOUNT = "/v3/{account}"
IN_LOCATION = "/locations/{location_id}"


class _JsonRoute(Route):
    """A route for a path ending in ``.json`` that also matches the path without the suffix."""

    @override
    def matches(self, scope: Scope) -> tuple[Match, Scope]:
        path = scope.get("path", "")
        if scope.get("type") == "http" and not path.endswith(".json"):
            scope = {**scope, "path": f"{path}.json"}
        return super().matches(scope)


class StaffomaticEmulator(Organisation, Users, Absences, Timers):
    """The Staffomatic API v3 of one account, served under ``/v3/{subdomain}``."""

    variants = {
        "date_filters": ("overlapping", "starting_inside"),
        "users_without_state": ("active", "all"),
        "user_fields": ("documented", "extended"),
        "user_without_email": ("created", "refused"),
        "create_status": ("201", "200"),
        "adjusted_duration": ("kept", "recomputed"),
        "error_bodies": ERROR_BODIES,
    }

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
            time_zone(str(account.get("time_zone")))
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
