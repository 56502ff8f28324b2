"""Personio v1 employees: the list, one employee and the attribute definitions."""

from __future__ import annotations

import math
from datetime import date, datetime
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from sandbox.personio.base import PersonioBase
from sandbox.personio.errors import V1Error
from sandbox.personio.params import v1_int

RELATED_TYPES = {
    "subcompany": "Subcompany",
    "office": "Office",
    "department": "Department",
    "team": "Team",
    "holiday_calendar": "HolidayCalendar",
}
RELATED_LISTS = {"absence_entitlement": "TimeOffType", "cost_centers": "CostCenter"}


class Employees(PersonioBase):
    """``/v1/company/employees`` and its attributes, wrapped as v1 shows them."""

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

    async def list_employees(self, request: Request, client: dict[str, Any], _: str) -> Response:
        query, settings = request.query_params, self.state["settings"]
        limit = v1_int(query, "limit", int(settings["employees_default_limit"]), minimum=1)
        offset = v1_int(query, "offset", 0, minimum=0)
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


class _LeftOut:
    """Marker: the attribute is left out of the employee."""


_LEFT_OUT = _LeftOut()


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
