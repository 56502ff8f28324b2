"""Staffomatic's account, locations and departments."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response

from sandbox.staffomatic.base import Record
from sandbox.staffomatic.errors import invalid
from sandbox.staffomatic.fields import ACCOUNT_FIELDS, DEPARTMENT_FIELDS
from sandbox.staffomatic.listing import Listing
from sandbox.staffomatic.records import DEPARTMENT_DEFAULTS


class Organisation(Listing):
    """``account``, ``locations`` and ``departments`` (also per location)."""

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
