"""The Personio emulator: its route table, state checks and the hooks of :class:`Emulator`."""

from __future__ import annotations

from typing import Any
from zoneinfo import ZoneInfo

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route
from typing_extensions import override

from sandbox.core import SandboxError
from sandbox.personio.absences import Absences
from sandbox.personio.attendances import Attendances
from sandbox.personio.auth import Auth
from sandbox.personio.employees import Employees
from sandbox.personio.errors import Problem, V1Error, v1_error
from sandbox.personio.limits import RateLimits
from sandbox.personio.records import DEFAULT_LIMITS, DEFAULT_SETTINGS
from sandbox.personio.seed import build
from sandbox.personio.webhooks import Webhooks

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


class PersonioEmulator(Auth, Employees, Absences, Attendances, Webhooks, RateLimits):
    """Personio's public API as far as the sync uses it, in memory."""

    variants = {
        "absence_period_filters": ("overlapping", "as_named", "starting_inside"),
        "attendance_period_filters": ("as_named", "overlapping", "starting_inside"),
        "overnight_attendance": ("allowed", "refused"),
        "attendance_24_hours": ("accepted", "refused"),
        "absence_patch_approval": ("approves", "keeps_status", "revalidates"),
        "token_generations": ("separate", "shared"),
        "expired_attendance_status": ("listed", "unknown"),
        "webhook_same_url": ("conflict", "allowed"),
        "webhook_token_shown": ("shown", "hidden"),
        "webhook_duplicates": ("none", "every_event"),
        "webhook_order": ("in_order", "reversed_pairs"),
    }

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
            Route("/v2/webhooks", v2(self.list_webhooks), methods=["GET"]),
            Route("/v2/webhooks", v2(self.create_webhook), methods=["POST"]),
            Route("/v2/webhooks/{id}", v2(self.one_webhook), methods=["GET", "PATCH", "DELETE"]),
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
            "webhooks": ("id", "url", "status", "enabled_events"),
        }
        if not isinstance(state.setdefault("webhooks", []), list):
            raise SandboxError("'webhooks' must be a JSON array")
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
        return v1_error(V1Error(status, message))

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
        self._listings.clear()
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
