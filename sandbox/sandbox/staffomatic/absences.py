"""Staffomatic absence types and absences."""

from __future__ import annotations

from datetime import timedelta

from starlette.requests import Request
from starlette.responses import Response

from sandbox.staffomatic.base import Record
from sandbox.staffomatic.errors import bad_request, invalid
from sandbox.staffomatic.fields import ABSENCE_FIELDS, ABSENCE_TYPE_FIELDS, coerce
from sandbox.staffomatic.listing import Listing
from sandbox.staffomatic.records import ABSENCE_DEFAULTS, ABSENCE_TYPE_DEFAULTS, iso, local


class Absences(Listing):
    """``absence_types`` and ``absences`` (also per location)."""

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
                    wanted = coerce("bool", raw)
                except ValueError:
                    raise bad_request(
                        f"The query parameter {flag} must be true or false."
                    ) from None
                items = [i for i in items if i[flag] is wanted]
        return self._page(request, self._in_range(request, items), self._times)

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
        # The 2017 recording kept adjusted_duration when an update changed the dates, and so
        # does the sandbox unless variants.adjusted_duration is "recomputed".
        recompute = record is ABSENCE_DEFAULTS or self.variant("adjusted_duration") == "recomputed"
        if "adjusted_duration" not in fields and recompute:
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
