"""Lists: paging with ``Link``/``Total`` headers, id filters and ``from``/``until`` ranges."""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable
from datetime import datetime

from starlette.requests import Request
from starlette.responses import Response

from sandbox.staffomatic.base import Record, StaffomaticBase
from sandbox.staffomatic.errors import bad_request
from sandbox.staffomatic.fields import digits
from sandbox.staffomatic.records import parse_time

PER_PAGE, MAX_PER_PAGE = 50, 100


class Listing(StaffomaticBase):
    """Query parameters of list endpoints."""

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
        if not digits(raw) or int(raw) < 1:
            raise bad_request(f"The query parameter {name} must be a whole number of at least 1.")
        return int(raw)

    @staticmethod
    def _ids_param(request: Request, name: str) -> set[int] | None:
        values = request.query_params.getlist(f"{name}[]")
        if not values:
            return None
        if not all(digits(v) for v in values):
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

    def _in_range(
        self,
        request: Request,
        items: Iterable[Record],
        start: str = "starts_at",
        end: str = "ends_at",
    ) -> list[Record]:
        """The items that ``from``/``until`` select.

        The vendor does not say how: ``variants.date_filters`` picks ``overlapping`` (the
        default: the time span overlaps the range) or ``starting_inside`` (it starts in it).
        """
        low, high = self._range(request)
        if low is None and high is None:
            return list(items)
        overlapping = self.variant("date_filters") == "overlapping"
        chosen = []
        for item in items:
            starts, ends = self._time(item.get(start)), self._time(item.get(end))
            if starts is None:
                continue
            if high is not None and starts > high:
                continue
            if low is not None and overlapping and ends is not None and ends < low:
                continue
            if low is not None and not overlapping and starts < low:
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
