"""Staffomatic users: list, read, create, update (lock, unlock, invite) and delete."""

from __future__ import annotations

import re

from starlette.requests import Request
from starlette.responses import Response

from sandbox.staffomatic.base import Record
from sandbox.staffomatic.errors import bad_request, invalid
from sandbox.staffomatic.fields import USER_FIELDS
from sandbox.staffomatic.listing import Listing
from sandbox.staffomatic.records import USER_DEFAULTS

EMAIL = re.compile(r"^[^@\s]+@[^@\s]+$")
USER_STATES = ("active", "all", "pending", "locked", "unassigned")
UNDOCUMENTED_USER_FIELDS = frozenset(
    {"location_ids", "full_name", "shift_category_ids", "account_id", "invitation_token"}
)
"""Fields the sandbox shows on users that the vendor's documents do not (``user_fields``)."""


class Users(Listing):
    """``user`` (the caller) and ``users`` (also per location)."""

    # ---- users ----------------------------------------------------------------------------------

    def render_user(self, record: Record) -> Record:
        shown = self._times(record)
        if self.variant("user_fields") == "documented":
            return {k: v for k, v in shown.items() if k not in UNDOCUMENTED_USER_FIELDS}
        name = " ".join(p for p in (record.get("first_name"), record.get("last_name")) if p)
        extra = {"full_name": name, "shift_category_ids": list(record.get("department_ids", []))}
        return self._after(shown, "last_name", extra)

    def _user_fields(self, body: Record) -> Record:
        fields = self._fields(body, USER_FIELDS)
        if self.variant("user_fields") == "documented":
            fields.pop("location_ids", None)  # not a documented field: ignored like any other
        return fields

    async def current_user(self, request: Request) -> Response:
        return self._json(request, self.render_user(request.state.user))

    async def list_users(self, request: Request) -> Response:
        location_id = self._location(request)
        state = request.query_params.get("state") or self.variant("users_without_state")
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
        fields = self._user_fields(body)
        if location_id is not None:
            fields["location_ids"] = sorted({*fields.get("location_ids", []), location_id})
        if self.variant("user_without_email") == "refused":
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
        fields = self._user_fields(body)
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
