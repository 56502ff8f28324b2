"""Personio v2 absence types and absence periods."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from sandbox.personio.base import PersonioBase, set_comment
from sandbox.personio.errors import Problem, bad_request, resource_not_found, unprocessable
from sandbox.personio.params import (
    day_start,
    filter_time,
    find,
    id_list,
    in_window,
    json_object,
    listed,
    local_time,
    skip_approval,
    updated_within,
)
from sandbox.personio.records import utc_stamp

ABSENCE_STATUSES = ("PENDING", "APPROVED", "REJECTED")
HALVES = ("FIRST_HALF", "SECOND_HALF")


class Absences(PersonioBase):
    """``/v2/absence-types`` and ``/v2/absence-periods``."""

    # ---- v2 absence types ------------------------------------------------------------------------

    @staticmethod
    def _type_view(kind: dict[str, Any]) -> dict[str, Any]:
        return {k: kind.get(k) for k in ("id", "name", "category", "unit")}

    async def list_absence_types(self, request: Request, client: dict[str, Any]) -> Response:
        kinds = self.state["absence_types"]
        return self._page(
            request,
            kinds,
            lambda: sorted(kinds, key=lambda t: t["name"]),
            lambda _request, kind: self._type_view(kind),
        )

    async def get_absence_type(self, request: Request, client: dict[str, Any]) -> Response:
        kind = self._absence_type(request.path_params["id"])
        if kind is None:
            raise resource_not_found("absence type", request.path_params["id"])
        return JSONResponse(self._type_view(kind))

    def _absence_type(self, type_id: Any) -> dict[str, Any] | None:
        for kind in self.state["absence_types"]:
            if kind["id"] == type_id:
                return kind
        return None

    # ---- v2 absence periods -----------------------------------------------------------------

    async def list_absences(self, request: Request, client: dict[str, Any]) -> Response:
        query = request.query_params
        items = self.state["absence_periods"]
        ids = id_list(query, "id")
        people = id_list(query, "person.id")
        kinds = id_list(query, "absence_type.id")
        bounds = {
            name: filter_time(query, name)
            for name in (
                "starts_from.date_time.gte",
                "starts_from.date_time.lte",
                "ends_at.date_time.gte",
                "ends_at.date_time.lte",
                "updated_at.gte",
                "updated_at.lte",
            )
        }
        on_start = (bounds["starts_from.date_time.gte"], bounds["starts_from.date_time.lte"])
        on_end = (bounds["ends_at.date_time.gte"], bounds["ends_at.date_time.lte"])
        # How the date filters read is not documented: see absence_period_filters in
        # sandbox/README.md. The default matches overlapping periods.
        mode = self.variant("absence_period_filters")

        def select() -> list[dict[str, Any]]:
            out = []
            for item in items:
                checks = (
                    (ids, item["id"]),
                    (people, str(item["person"]["id"])),
                    (kinds, item["absence_type"]["id"]),
                )
                if not listed(checks):
                    continue
                if mode == "as_named":
                    start = datetime.fromisoformat(item["starts_from"]["date_time"])
                    ends = item.get("ends_at")
                    end = datetime.fromisoformat(ends["date_time"]) if ends else None
                else:  # the span, half days at noon, ending exclusively (a full day at midnight)
                    start, end = self._absence_span(item)
                if in_window(mode, start, end, on_start, on_end) and updated_within(item, bounds):
                    out.append(item)
            out.sort(key=lambda p: (p["starts_from"]["date_time"], p["id"]))
            return out

        return self._page(request, items, select, self._absence_view)

    def _absence_view(self, request: Request, item: dict[str, Any]) -> dict[str, Any]:
        return {**item, "_meta": self._self_link(request, "absence-periods", item["id"])}

    def _absence_span(self, item: dict[str, Any]) -> tuple[datetime, datetime]:
        """Where the period starts and ends in local time, half days as noon."""
        kind = self._absence_type(item["absence_type"]["id"]) or {}
        daily = kind.get("unit", "DAILY") == "DAILY"
        start = datetime.fromisoformat(item["starts_from"]["date_time"])
        ends = item.get("ends_at")
        if not ends:
            return day_start(start) if daily else start, datetime.max
        end = datetime.fromisoformat(ends["date_time"])
        if not daily:
            return start, end
        noon = timedelta(hours=12)
        start = day_start(start) + (
            noon if item["starts_from"].get("type") == "SECOND_HALF" else timedelta()
        )
        end = day_start(end) + (noon if ends.get("type") == "FIRST_HALF" else timedelta(days=1))
        return start, end

    async def create_absence(self, request: Request, client: dict[str, Any]) -> Response:
        body = await json_object(request)
        skip = skip_approval(request)
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
        return self._add(request, "absence_periods", item, self._absence_view)

    def _apply_absence(self, item: dict[str, Any], body: dict[str, Any], creating: bool) -> None:
        """Validate ``body`` against ``item`` and apply it; raises Problem, changes nothing then."""
        self._keep_person(item, body, creating, "absence period")
        updated = dict(item)
        if "absence_type" in body or creating:
            ref = body.get("absence_type")
            type_id = ref.get("id") if isinstance(ref, dict) else None
            if not isinstance(type_id, str) or not type_id:
                raise bad_request("absence_type.id is required.", field="absence_type.id")
            if self._absence_type(type_id) is None:
                raise unprocessable(
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
        set_comment(body, updated)
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
            raise unprocessable(
                "A single-day absence cannot start in the second half and end in the first half.",
                field="ends_at.type",
            )
        if start >= end:
            raise unprocessable("Start date greater than end date.", field="ends_at.date_time")
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
        item = find(self.state["absence_periods"], request.path_params["id"], "absence period")
        answer = self._read_or_delete(request, "absence_periods", item, self._absence_view)
        if answer is not None:
            return answer
        body = await json_object(request)
        was = dict(item)
        before = (item["absence_type"], item["starts_from"], item.get("ends_at"))
        self._apply_absence(item, body, creating=False)
        # skip_approval on this PATCH is documented nowhere: see sandbox/README.md.
        mode = self.variant("absence_patch_approval")
        skip = skip_approval(request) and mode != "revalidates"
        if skip and mode == "approves":
            item["approval"] = {"status": "APPROVED"}
        elif not skip and before != (
            item["absence_type"],
            item["starts_from"],
            item.get("ends_at"),
        ):
            # A changed time range or type needs approval again unless skip_approval is set.
            item["approval"] = {"status": "PENDING"}
        item["updated_at"] = utc_stamp(datetime.now(UTC))
        self._changed("absence_periods", item, "updated", was)
        return Response(status_code=204)


def _absence_edge(
    value: Any, field: str, default_half: str, required: bool
) -> dict[str, Any] | None:
    if value is None and not required:
        return None
    if not isinstance(value, dict) or "date_time" not in value:
        raise bad_request(f"{field}.date_time is required.", field=f"{field}.date_time")
    half = value.get("type") or default_half
    if half not in HALVES:
        raise bad_request(f"{field}.type must be FIRST_HALF or SECOND_HALF.", field=f"{field}.type")
    return {"date_time": local_time(value["date_time"], f"{field}.date_time"), "type": half}
