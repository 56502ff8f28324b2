"""Reading Personio requests: bodies, query parameters, v2 cursors and local date-times."""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Iterable
from datetime import UTC, date, datetime
from typing import Any

from starlette.requests import Request

from sandbox.personio.errors import V1Error, bad_request, resource_not_found


def find(items: list[dict[str, Any]], item_id: str, what: str) -> dict[str, Any]:
    for item in items:
        if item["id"] == item_id:
            return item
    raise resource_not_found(what, item_id)


async def body_fields(request: Request, allow_json: bool) -> dict[str, Any] | None:
    """Form fields, or (where allowed) a JSON object; None when the body is neither."""
    kind = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if kind == "application/x-www-form-urlencoded":
        form = await request.form()
        return {k: v for k, v in form.items() if isinstance(v, str)}
    if kind == "application/json" and allow_json:
        try:
            data = json.loads(await request.body() or b"null")
        except ValueError:
            return None
        return data if isinstance(data, dict) else None
    return None


async def json_object(request: Request) -> dict[str, Any]:
    try:
        data = json.loads(await request.body())
    except ValueError:
        raise bad_request("The request body is not valid JSON.") from None
    if not isinstance(data, dict):
        raise bad_request("The request body must be a JSON object.")
    return data


def v1_int(query: Any, name: str, default: int, minimum: int) -> int:
    text = query.get(name)
    if text is None or text == "":
        return default
    try:
        value = int(text)
    except ValueError:
        raise V1Error(400, f"{name} must be a whole number.") from None
    if value < minimum:
        raise V1Error(400, f"{name} must be at least {minimum}.")
    return value


def v2_int(text: str | None, name: str, default: int, low: int, high: int) -> int:
    if text is None or text == "":
        return default
    try:
        value = int(text)
    except ValueError:
        raise bad_request(f"{name} must be a whole number.", field=name) from None
    if not low <= value <= high:
        raise bad_request(f"{name} must be between {low} and {high}.", field=name)
    return value


def encode_cursor(offset: int, listing: int | None = None) -> str:
    """An opaque cursor: the offset, and the number of the listing it pages through."""
    text = f"o:{offset}" if listing is None else f"o:{offset}:{listing}"
    return base64.urlsafe_b64encode(text.encode()).decode().rstrip("=")


def decode_cursor(cursor: str) -> tuple[int, int | None]:
    """(offset, listing number or None) of a cursor; 400 for one this sandbox did not make."""
    try:
        text = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
        prefix, offset, *listing = text.split(":")
        if prefix != "o" or not offset.isdigit() or len(listing) > 1:
            raise ValueError(cursor)
        if listing and not listing[0].isdigit():
            raise ValueError(cursor)
        return int(offset), int(listing[0]) if listing else None
    except (ValueError, binascii.Error, UnicodeDecodeError):
        raise bad_request(
            "The cursor is not valid; start again without one.", field="cursor"
        ) from None


def local_time(value: Any, field: str) -> str:
    """A local date-time without offset, normalised to ``YYYY-MM-DDTHH:MM:SS``."""
    if not isinstance(value, str) or "T" not in value:
        raise bad_request(f"{field} must be a date-time like 2025-06-01T08:00:00.", field=field)
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        raise bad_request(f"{field} is not a valid date-time: {value!r}.", field=field) from None
    if moment.tzinfo is not None:
        raise bad_request(
            f"{field} must be a local time without offset or Z, got {value!r}.", field=field
        )
    return moment.isoformat(timespec="seconds")


def filter_time(query: Any, name: str) -> datetime | None:
    text = query.get(name)
    return None if text is None else datetime.fromisoformat(local_time(text, name))


def filter_date(query: Any, name: str) -> date | None:
    text = query.get(name)
    if text is None:
        return None
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise bad_request(f"{name} must be a date like 2025-06-01.", field=name) from None


def id_list(query: Any, name: str) -> set[str]:
    return {
        part.strip() for value in query.getlist(name) for part in value.split(",") if part.strip()
    }


def within(value: datetime | None, low: datetime | None, high: datetime | None) -> bool:
    if value is None:
        return low is None and high is None
    return (low is None or value >= low) and (high is None or value <= high)


def listed(checks: Iterable[tuple[set[str], Any]]) -> bool:
    """Whether each id filter that was given (a non-empty set) holds the item's value."""
    return not any(wanted and value not in wanted for wanted, value in checks)


def updated_within(item: dict[str, Any], bounds: dict[str, datetime | None]) -> bool:
    """Whether the item's ``updated_at`` passes the ``updated_at.gte``/``.lte`` filters."""
    updated = utc_naive(item.get("updated_at"))
    return within(updated, bounds["updated_at.gte"], bounds["updated_at.lte"])


Bounds = tuple[datetime | None, datetime | None]
"""A ``gte`` and an ``lte`` filter value (None where not given)."""


def in_window(
    mode: str, start: datetime, end: datetime | None, on_start: Bounds, on_end: Bounds
) -> bool:
    """Whether a period passes the date filters on its start and its end, read as ``mode``.

    ``as_named``: each bound applies to the field it names (no end: any end bound fails).
    ``overlapping``: every lower bound keeps periods that end after it (``end`` exclusive, None
    for a period still open), every upper bound keeps periods that start on or before it.
    ``starting_inside``: every bound applies to the start.
    """
    if mode == "as_named":
        if not within(start, *on_start):
            return False
        return on_end == (None, None) or (end is not None and within(end, *on_end))
    lows = [low for low in (on_start[0], on_end[0]) if low is not None]
    highs = [high for high in (on_start[1], on_end[1]) if high is not None]
    if any(start > high for high in highs):
        return False
    if mode == "starting_inside":
        return all(start >= low for low in lows)
    return end is None or all(end > low for low in lows)


def utc_naive(stamp: Any) -> datetime | None:
    if not isinstance(stamp, str) or not stamp:
        return None
    moment = datetime.fromisoformat(stamp)
    return moment.astimezone(UTC).replace(tzinfo=None) if moment.tzinfo else moment


def day_start(moment: datetime) -> datetime:
    return datetime.combine(moment.date(), datetime.min.time())


def skip_approval(request: Request) -> bool:
    text = request.query_params.get("skip_approval", "false").strip().lower()
    if text not in ("true", "false", "1", "0"):
        raise bad_request("skip_approval must be true or false.", field="skip_approval")
    return text in ("true", "1")
