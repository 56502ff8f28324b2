"""Just these records: the ``only_ids`` setting and the streams that read records one by one.

With ``only_ids`` set, the tap reads exactly the employees, absence periods and attendance
periods it names, each by Personio's documented read of one record (v1
``/company/employees/{id}``, v2 ``/absence-periods/{id}``, ``/attendance-periods/{id}``), so a run
costs requests in proportion to the ids, not to the company. A stream without ids emits nothing;
``absence_types`` is still read whole (one request; the targets need it to read the others).

Such a read is never complete: no ACTIVATE_VERSION, no bookmark. A named record Personio no
longer has (its own 404 answer) is sent as ``{"id": ..., "_sdc_deleted_at": <now>}``, the Singer
marker of a deleted record; a target that acts on it must still confirm the deletion by its own
read of the source (target-staffomatic does).
"""

from __future__ import annotations

from collections.abc import Generator, Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

import requests
from singer_sdk.pagination import SinglePagePaginator
from singer_sdk.streams import RESTStream
from typing_extensions import override

from tap_personio.client import PersonioStream
from tap_personio.errors import PersonioError
from tap_personio.streams import AbsencesStream, AttendancesStream, EmployeesStream

if TYPE_CHECKING:
    from singer_sdk.helpers.types import Context
    from singer_sdk.streams.rest import HTTPRequest, PageContext

SETTING = "only_ids"
DELETED_AT = "_sdc_deleted_at"
DELETED_SCHEMA = {
    "type": ["string", "null"],
    "format": "date-time",
    "description": "Set only in an only_ids run, on a named record Personio no longer has.",
}


@dataclass(frozen=True)
class OnlyIds:
    """The records an ``only_ids`` run reads, by stream."""

    employees: tuple[str, ...] = ()
    absences: tuple[str, ...] = ()
    attendances: tuple[str, ...] = ()

    @classmethod
    def of(cls, value: Any) -> OnlyIds | None:
        """The setting's value, checked; None when it is not set."""
        if value is None:
            return None
        if not isinstance(value, Mapping):
            raise PersonioError(
                f"{SETTING} must be an object such as "
                '{"employees": [1001], "absences": ["<uuid>"], "attendances": []}.'
            )
        unknown = sorted(set(value) - {"employees", "absences", "attendances"})
        if unknown:
            raise PersonioError(
                f"{SETTING} names unknown streams {', '.join(unknown)}: use employees, "
                "absences and attendances."
            )
        ids = {name: _ids(value.get(name), name) for name in ("employees", "absences")}
        ids["attendances"] = _ids(value.get("attendances"), "attendances")
        bad = [i for i in ids["employees"] if not i.isdigit()]
        if bad:
            raise PersonioError(
                f"{SETTING}.employees must hold employee ids (whole numbers), not {bad[0]!r}."
            )
        return cls(**ids)


def _ids(value: Any, name: str) -> tuple[str, ...]:
    if value is None:
        return ()
    if not isinstance(value, list) or not all(
        isinstance(v, str | int) and not isinstance(v, bool) and str(v).strip() for v in value
    ):
        raise PersonioError(f"{SETTING}.{name} must be a list of ids.")
    return tuple(dict.fromkeys(str(v).strip() for v in value))


class ById(PersonioStream):
    """Reads the named records one by one (put first among the bases of a list stream)."""

    records_jsonpath = "$"
    ids: tuple[str, ...] = ()
    _with_deleted: dict[str, Any] | None = None

    @property
    @override
    def replication_key(self) -> None:
        """None, whatever a catalog says: a partial read moves no bookmark."""
        return None

    @replication_key.setter
    def replication_key(self, value: str | None) -> None:
        return None

    @property
    @override
    def schema(self) -> dict[str, Any]:
        if self._with_deleted is None:
            base = super().schema
            properties = {**base.get("properties", {}), DELETED_AT: DELETED_SCHEMA}
            self._with_deleted = {**base, "properties": properties}
        return self._with_deleted

    @override
    def get_new_paginator(self) -> SinglePagePaginator:
        return SinglePagePaginator()

    @override
    def get_http_request(self, *, page: PageContext) -> HTTPRequest:
        request = RESTStream.get_http_request(self, page=page)
        request.params = {}
        return request

    @override
    def validate_response(self, response: requests.Response) -> None:
        if not _not_found(response):
            super().validate_response(response)

    @override
    def parse_response(self, response: requests.Response) -> Iterable[dict[str, Any]]:
        if _not_found(response):
            return iter(())
        return super().parse_response(response)

    @override
    def get_records(self, context: Context | None) -> Generator[dict[str, Any], None, None]:
        for record_id in self.ids:
            found = False
            for record in PersonioStream.get_records(self, {"id": record_id}):
                found = True
                yield record
            if not found:
                self.logger.info("%s %s no longer exists in Personio", self.name, record_id)
                yield {"id": self.key(record_id), DELETED_AT: datetime.now(UTC).isoformat()}

    @override
    def post_process(self, row: dict, context: Context | None = None) -> dict | None:
        if row.get(DELETED_AT):
            return row  # the marker of a record Personio no longer has, as it is
        return super().post_process(row, context)

    def key(self, record_id: str) -> Any:
        """The record's ``id`` as the stream's records carry it."""
        return record_id


def _not_found(response: requests.Response) -> bool:
    """A 404 in Personio's own error shape (a 404 from elsewhere, such as a wrong base_url, is
    an error, never a deleted record)."""
    if response.status_code != 404:
        return False
    try:
        body = response.json()
    except ValueError:
        return False
    return isinstance(body, dict) and ("errors" in body or body.get("success") is False)


# The by-id streams narrow what their list streams declare (no replication key, one page,
# the schema with the deletion marker): mypy cannot see that the mixin wins, hence the ignores.


class EmployeesById(ById, EmployeesStream):  # type: ignore[misc]
    """v1 ``/company/employees/{id}`` for each named employee."""

    path = "/v1/company/employees/{id}"
    records_jsonpath = "$.data"

    @override
    def key(self, record_id: str) -> Any:
        return int(record_id)


class AbsencesById(ById, AbsencesStream):  # type: ignore[misc,override]
    """v2 ``/absence-periods/{id}`` for each named absence period."""

    path = "/v2/absence-periods/{id}"


class AttendancesById(ById, AttendancesStream):  # type: ignore[misc,override]
    """v2 ``/attendance-periods/{id}`` for each named attendance period."""

    path = "/v2/attendance-periods/{id}"
