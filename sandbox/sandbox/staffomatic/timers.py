"""Staffomatic work timers, break timers and the work reports they make up."""

from __future__ import annotations

from datetime import timedelta

from starlette.requests import Request
from starlette.responses import Response

from sandbox.staffomatic.base import Record
from sandbox.staffomatic.errors import invalid
from sandbox.staffomatic.fields import BREAK_TIMER_FIELDS, WORK_TIMER_FIELDS
from sandbox.staffomatic.listing import Listing
from sandbox.staffomatic.records import (
    BREAK_TIMER_DEFAULTS,
    WORK_REPORT_DEFAULTS,
    WORK_TIMER_DEFAULTS,
    iso,
    local,
    parse_time,
    week_start,
)


class Timers(Listing):
    """``work_timers``, ``break_timers`` and ``work_reports``."""

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
            request, self._in_range(request, items), lambda r: self.render_work_timer(r, breaks)
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
        return self._page(request, self._in_range(request, items), self.render_break_timer)

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
            self._in_range(request, items),
            lambda record: self.render_work_report(record, totals),
        )

    async def get_work_report(self, request: Request) -> Response:
        return self._json(request, self.render_work_report(self._get("work_reports", request)))
