"""The four streams. Each names its endpoint, keys and schema; the behaviour is in client.py."""

from __future__ import annotations

from collections.abc import Callable, Generator, Iterable
from datetime import timedelta
from typing import TYPE_CHECKING, Any

import requests
from singer_sdk import SchemaDirectory, StreamSchema, Tap
from singer_sdk.pagination import OffsetPaginator
from typing_extensions import override
from vendor_http.timeutil import iso_timestamp, parse_timestamp

from tap_personio import schemas
from tap_personio.client import Personio, PersonioStream, PersonioV2Stream, Window, WindowedV2Stream
from tap_personio.employees import Column, flatten, schema_for, sensitive

if TYPE_CHECKING:
    from singer_sdk.helpers.types import Context
    from singer_sdk.singerlib import MetadataMapping
    from singer_sdk.streams.rest import HTTPRequest, PageContext

SCHEMAS = SchemaDirectory(schemas)
EMPLOYEES_PAGE_SIZE = 100


class EmployeesPaginator(OffsetPaginator):
    """Record offsets in steps of 100; stops on a short page, on the last page the metadata
    names, and when Personio ignores paging (``updated_since`` may do so): a page larger than
    asked for, or one that repeats ids already seen."""

    def __init__(self) -> None:
        super().__init__(start_value=0, page_size=EMPLOYEES_PAGE_SIZE)
        self.seen: set[Any] = set()

    @override
    def has_more(self, response: requests.Response) -> bool:
        body = response.json()
        data = body.get("data") or []
        ids = {_employee_id(row) for row in data}
        repeated = bool(ids) and ids <= self.seen
        self.seen |= ids
        if len(data) != EMPLOYEES_PAGE_SIZE or repeated:
            return False
        meta = body.get("metadata") or {}
        try:
            return int(meta["current_page"]) + 1 < int(meta["total_pages"])
        except (KeyError, TypeError, ValueError):
            return True


class AbsenceTypeNames:
    """Absence type names by id: from a full read of ``absence_types``, else read on first use."""

    def __init__(self, load: Callable[[], Iterable[dict[str, Any]]]) -> None:
        self._load = load
        self._names: dict[str, str | None] | None = None

    def remember(self, names: dict[str, str | None]) -> None:
        self._names = names

    def name(self, type_id: str | None) -> str | None:
        if self._names is None:
            self._names = {str(row["id"]): row.get("name") for row in self._load()}
        return None if type_id is None else self._names.get(type_id)


class EmployeesStream(PersonioStream):
    """v1 ``/company/employees``: every readable attribute, custom ones too, as plain values."""

    name = "employees"
    path = "/v1/company/employees"
    primary_keys = ("id",)
    replication_key = "last_modified_at"
    records_jsonpath = "$.data[*]"

    def __init__(
        self, tap: Tap, personio: Personio, columns: list[Column], lookback: timedelta
    ) -> None:
        super().__init__(tap, personio, schema=schema_for(columns))
        self.columns = columns
        self.lookback = lookback
        self._emitted: set[int] = set()

    @property
    @override
    def metadata(self) -> MetadataMapping:
        """The SDK's metadata, with HR-sensitive columns (salary, bank details, birth date...)
        not selected by default: they are read only when a catalog selects them by name."""
        metadata = super().metadata
        for name in self.schema["properties"]:
            entry = metadata.get(("properties", name))
            if sensitive(name) and entry is not None and entry.selected_by_default is None:
                entry.selected_by_default = False
        return metadata

    @override
    def get_new_paginator(self) -> EmployeesPaginator:
        return EmployeesPaginator()

    @override
    def get_http_request(self, *, page: PageContext) -> HTTPRequest:
        request = super().get_http_request(page=page)
        request.params = {"limit": EMPLOYEES_PAGE_SIZE, "offset": page.next_page_token or 0}
        bookmark = parse_timestamp(
            self.get_context_state(page.stream_context).get("replication_key_value")
        )
        if bookmark is not None:
            since = bookmark - self.lookback
            request.params["updated_since"] = since.strftime("%Y-%m-%dT%H:%M:%S")
        return request

    @override
    def post_process(self, row: dict, context: Context | None = None) -> dict | None:
        record = flatten(row, self.columns)
        if record.get("id") is None or record["id"] in self._emitted:
            return None  # a record repeated across pages is sent once
        self._emitted.add(record["id"])
        return record


class AbsenceTypesStream(PersonioV2Stream):
    """v2 ``/absence-types``, read whole each run."""

    name = "absence_types"
    path = "/v2/absence-types"
    primary_keys = ("id",)
    schema = StreamSchema(SCHEMAS)

    def __init__(self, tap: Tap, personio: Personio, names: AbsenceTypeNames | None = None) -> None:
        super().__init__(tap, personio)
        self.names = names

    @override
    def get_records(self, context: Context | None) -> Generator[dict[str, Any], None, None]:
        names: dict[str, str | None] = {}
        for record in super().get_records(context):
            names[str(record["id"])] = record.get("name")
            yield record
        if self.names is not None:
            self.names.remember(names)  # a complete read serves the absences' look-up

    @override
    def post_process(self, row: dict, context: Context | None = None) -> dict | None:
        return {
            "id": str(row["id"]),
            "name": row.get("name"),
            "category": row.get("category"),
            "unit": row.get("unit"),
        }


class AbsencesStream(WindowedV2Stream):
    """v2 ``/absence-periods`` overlapping the window."""

    name = "absences"
    path = "/v2/absence-periods"
    primary_keys = ("id",)
    schema = StreamSchema(SCHEMAS)
    window_params = ("ends_at.date_time.gte", "starts_from.date_time.lte")

    def __init__(
        self, tap: Tap, personio: Personio, window: Window, names: AbsenceTypeNames
    ) -> None:
        super().__init__(tap, personio, window)
        self.names = names

    @override
    def post_process(self, row: dict, context: Context | None = None) -> dict | None:
        starts, ends = row.get("starts_from") or {}, row.get("ends_at") or {}
        type_id = _id(row.get("absence_type"))
        start_type, end_type = starts.get("type"), ends.get("type")
        return {
            "id": str(row["id"]),
            "person_id": _id(row.get("person")),
            "absence_type_id": type_id,
            "absence_type_name": self.names.name(type_id),
            "starts_from": starts.get("date_time"),
            "starts_from_type": start_type,
            "ends_at": ends.get("date_time"),
            "ends_at_type": end_type,
            "half_day_start": start_type == "SECOND_HALF",
            "half_day_end": end_type == "FIRST_HALF",
            "timezone": row.get("timezone_id") or row.get("timezone"),
            "approval_status": (row.get("approval") or {}).get("status"),
            "comment": row.get("comment") or None,
            "created_at": iso_timestamp(row.get("created_at")),
            "updated_at": iso_timestamp(row.get("updated_at")),
        }


class AttendancesStream(WindowedV2Stream):
    """v2 ``/attendance-periods`` starting within the window."""

    name = "attendances"
    path = "/v2/attendance-periods"
    primary_keys = ("id",)
    schema = StreamSchema(SCHEMAS)
    window_params = ("start.date_time.gte", "start.date_time.lte")

    @override
    def post_process(self, row: dict, context: Context | None = None) -> dict | None:
        return {
            "id": str(row["id"]),
            "person_id": _id(row.get("person")),
            "type": row.get("type"),
            "start": (row.get("start") or {}).get("date_time"),
            "end": (row.get("end") or {}).get("date_time"),
            "attribution_date": row.get("attribution_date"),
            "approval_status": (row.get("approval") or {}).get("status") or row.get("status"),
            "comment": row.get("comment") or None,
            "project_id": _id(row.get("project")),
            "is_auto_generated": row.get("is_auto_generated"),
            "created_at": iso_timestamp(row.get("created_at")),
            "updated_at": iso_timestamp(row.get("updated_at")),
        }


class EmployeeAttributesStream(PersonioStream):
    """v1 ``/company/employees/attributes``: what the credential may read (used at start only)."""

    name = "employee_attributes"
    path = "/v1/company/employees/attributes"
    records_jsonpath = "$.data[*]"
    schema = {"type": "object", "properties": {"key": {"type": "string"}}}


def _id(related: Any) -> str | None:
    if isinstance(related, dict) and related.get("id") not in (None, ""):
        return str(related["id"])
    return None


class EmployeeSampleStream(PersonioStream):
    """The first page of v1 ``/company/employees``, raw (used at start only)."""

    name = "employee_sample"
    path = "/v1/company/employees"
    records_jsonpath = "$.data[*]"
    schema = EmployeeAttributesStream.schema

    @override
    def get_http_request(self, *, page: PageContext) -> HTTPRequest:
        request = super().get_http_request(page=page)
        request.params = {"limit": EMPLOYEES_PAGE_SIZE, "offset": 0}
        return request


def _employee_id(row: dict[str, Any]) -> Any:
    value = (row.get("attributes") or {}).get("id", row.get("id"))
    return value.get("value") if isinstance(value, dict) else value
