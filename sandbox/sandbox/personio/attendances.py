"""Personio v2 attendance periods."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from typing import Any

from starlette.requests import Request
from starlette.responses import Response

from sandbox.personio.base import PersonioBase, set_comment
from sandbox.personio.errors import Problem, bad_request, unprocessable
from sandbox.personio.params import (
    filter_date,
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

ATTENDANCE_STATUSES = ("PENDING", "CONFIRMED", "REJECTED")


class Attendances(PersonioBase):
    """``/v2/attendance-periods``."""

    # ---- v2 attendance periods --------------------------------------------------------------

    async def list_attendances(self, request: Request, client: dict[str, Any]) -> Response:
        query = request.query_params
        ids, people = id_list(query, "id"), id_list(query, "person.id")
        projects = id_list(query, "project.id")
        statuses = {s.upper() for s in id_list(query, "status")}
        known: tuple[str, ...] = ATTENDANCE_STATUSES
        if self.variant("expired_attendance_status") == "listed":
            known = (*known, "EXPIRED")  # listed by a third-party client only
        if statuses - set(known):
            raise bad_request(f"status must be one of {', '.join(known)}.", field="status")
        names = ("start.date_time", "end.date_time", "updated_at")
        bounds = {
            f"{n}.{op}": filter_time(query, f"{n}.{op}") for n in names for op in ("gte", "lte")
        }
        day_from = filter_date(query, "attribution_date.gte")
        day_to = filter_date(query, "attribution_date.lte")
        on_start = (bounds["start.date_time.gte"], bounds["start.date_time.lte"])
        on_end = (bounds["end.date_time.gte"], bounds["end.date_time.lte"])
        # Not documented either: see attendance_period_filters in sandbox/README.md.
        mode = self.variant("attendance_period_filters")
        items = self.state["attendance_periods"]
        order = _sort_key(query.get("sort"))  # a bad sort is refused on every page

        def select() -> list[dict[str, Any]]:
            out = []
            for item in items:
                start = datetime.fromisoformat(item["start"]["date_time"])
                end = datetime.fromisoformat(item["end"]["date_time"]) if item.get("end") else None
                project = (item.get("project") or {}).get("id")
                checks = (
                    (ids, item["id"]),
                    (people, str(item["person"]["id"])),
                    (statuses, item["approval"]["status"]),
                    (projects, project),
                )
                if not listed(checks):
                    continue
                day = date.fromisoformat(item.get("attribution_date") or start.date().isoformat())
                if (day_from and day < day_from) or (day_to and day > day_to):
                    continue
                if in_window(mode, start, end, on_start, on_end) and updated_within(item, bounds):
                    out.append(item)
            out.sort(key=order)
            return out

        return self._page(request, items, select, self._attendance_view)

    def _attendance_view(self, request: Request, item: dict[str, Any]) -> dict[str, Any]:
        return {**item, "_meta": self._self_link(request, "attendance-periods", item["id"])}

    async def create_attendance(self, request: Request, client: dict[str, Any]) -> Response:
        body = await json_object(request)
        item = {
            "id": self._new_id("attendance-period", self.state["attendance_periods"]),
            "type": "WORK",
            "person": {"id": self._person_ref(body.get("person"))},
            "comment": "",
            "project": None,
            "is_auto_generated": False,
            "approval": {"status": "CONFIRMED" if skip_approval(request) else "PENDING"},
        }
        self._apply_attendance(item, body, creating=True)
        return self._add(request, "attendance_periods", item, self._attendance_view)

    def _apply_attendance(self, item: dict[str, Any], body: dict[str, Any], creating: bool) -> None:
        self._keep_person(item, body, creating, "attendance period")
        updated = dict(item)
        if "type" in body or creating:
            if body.get("type") not in ("WORK", "BREAK"):
                raise bad_request("type must be WORK or BREAK.", field="type")
            updated["type"] = body["type"]
        if "start" in body or creating:
            start = body.get("start")
            if not isinstance(start, dict) or "date_time" not in start:
                raise bad_request("start.date_time is required.", field="start.date_time")
            updated["start"] = {"date_time": local_time(start["date_time"], "start.date_time")}
        if "end" in body:
            end = body["end"]
            if end is not None and (not isinstance(end, dict) or "date_time" not in end):
                raise bad_request("end must be null or have a date_time.", field="end.date_time")
            updated["end"] = (
                None
                if end is None
                else {"date_time": local_time(end["date_time"], "end.date_time")}
            )
        elif creating:
            updated["end"] = None
        set_comment(body, updated)
        if "project" in body:
            ref = body["project"]
            if ref is not None:
                project_id = ref.get("id") if isinstance(ref, dict) else ref
                if updated["type"] == "BREAK":
                    raise unprocessable(
                        "Break periods with project are not allowed.", field="project.id"
                    )
                raise unprocessable(
                    f"Project {project_id} does not exist or is not active.", field="project.id"
                )
            updated["project"] = None
        start = self._instant(updated["start"]["date_time"])
        end = self._instant(updated["end"]["date_time"]) if updated.get("end") else None
        if end is not None and start > end:
            raise unprocessable("Start date greater than end date.", field="end.date_time")
        if end is not None and _too_long(end - start, self.variant("attendance_24_hours")):
            # Whether exactly 24 h is still allowed is not documented: see sandbox/README.md.
            raise unprocessable(
                "Period time range too long: at most 24 hours.", field="end.date_time"
            )
        if (
            updated.get("end")
            and self.variant("overnight_attendance") == "refused"
            and _crosses_midnight(updated["start"]["date_time"], updated["end"]["date_time"])
        ):
            # The company has not turned on overnight time tracking: see sandbox/README.md.
            raise unprocessable(
                "Period crosses midnight: a period must start and end on the same day unless "
                "overnight time tracking is turned on for the company.",
                field="end.date_time",
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
        item = find(
            self.state["attendance_periods"], request.path_params["id"], "attendance period"
        )
        answer = self._read_or_delete(request, "attendance_periods", item, self._attendance_view)
        if answer is not None:
            return answer
        body = await json_object(request)
        was = dict(item)
        self._apply_attendance(item, body, creating=False)
        if skip_approval(request):
            item["approval"] = {"status": "CONFIRMED"}
        item["updated_at"] = utc_stamp(datetime.now(UTC))
        self._changed("attendance_periods", item, "updated", was)
        return Response(status_code=204)


def _too_long(length: timedelta, full_day: str) -> bool:
    """Past Personio's 24-hour limit; ``full_day`` says whether exactly 24 h is within it."""
    limit = timedelta(hours=24)
    return length > limit or (full_day == "refused" and length == limit)


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
        raise bad_request(
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


def _crosses_midnight(start: str, end: str) -> bool:
    """Whether local ``end`` falls on a later day than ``start`` (ending at 00:00 does not)."""
    first, last = datetime.fromisoformat(start), datetime.fromisoformat(end)
    return (last - timedelta(microseconds=1)).date() > first.date() if last > first else False
