"""The streams: account, locations, departments, users, absence types, absences, work timers."""

from __future__ import annotations

import time
from collections import defaultdict
from collections.abc import Iterable, Iterator
from datetime import UTC, datetime, timedelta
from functools import cached_property
from typing import Any

from singer_sdk.helpers.types import Context
from typing_extensions import override
from vendor_http.timeutil import day_window, parse_timestamp, utc_text

from tap_staffomatic import schemas
from tap_staffomatic.client import StaffomaticStream
from tap_staffomatic.identities import FIELDS as IDENTITY_FIELDS
from tap_staffomatic.identities import Identities


class AccountStream(StaffomaticStream):
    """The account itself (one record): its subdomain and the time zone of every timestamp."""

    name = "account"
    path = "/account.json"
    paginated = False
    schema = schemas.ACCOUNT.to_dict()


class LookupStream(StaffomaticStream):
    """A small collection other streams look things up in: read once per run, whether the
    stream itself or a look-up asks first."""

    @override
    def request_records(self, context: Context | None) -> Iterable[dict[str, Any]]:
        path = (self.path or "").format(**(context or {}))
        yield from (dict(record) for record in self.lookup(path))


class LocationsStream(LookupStream):
    name = "locations"
    path = "/locations.json"
    schema = schemas.LOCATIONS.to_dict()

    @override
    def get_child_context(self, record: dict, context: Context | None) -> dict:
        return {"location_id": record["id"]}


class DepartmentsStream(LookupStream):
    """Departments of every location (one request per location)."""

    name = "departments"
    path = "/locations/{location_id}/departments.json"
    parent_stream_type = LocationsStream
    state_partitioning_keys: list[str] = []
    schema = schemas.DEPARTMENTS.to_dict()


class AbsenceTypesStream(LookupStream):
    """Absence types of every location: Staffomatic keeps them per location."""

    name = "absence_types"
    path = "/locations/{location_id}/absence_types.json"
    parent_stream_type = LocationsStream
    state_partitioning_keys: list[str] = []
    schema = schemas.ABSENCE_TYPES.to_dict()


class UsersStream(StaffomaticStream):
    """All users, locked and pending ones included, with the locations they belong to."""

    name = "users"
    path = "/users.json"
    extra_params = {"state": "all"}
    schema = schemas.USERS.to_dict()

    @cached_property
    def memberships(self) -> tuple[dict[int, set[int]], dict[int, int]]:
        """User id -> location ids (from member lists), and department id -> location id.

        The documented user has no ``location_ids``: they are derived from documented fields
        only, the locations' and departments' ``user_ids`` and the user's ``department_ids``
        (a ``location_ids`` a server may send anyway is not read).
        """
        users: dict[int, set[int]] = defaultdict(set)
        departments: dict[int, int] = {}
        for location in self.lookup("/locations.json"):
            for user_id in location.get("user_ids") or ():
                users[user_id].add(location["id"])
            for department in self.lookup(f"/locations/{location['id']}/departments.json"):
                departments[department["id"]] = location["id"]
                for user_id in department.get("user_ids") or ():
                    users[user_id].add(location["id"])
        return users, departments

    @override
    def post_process(
        self, row: dict[str, Any], context: Context | None = None
    ) -> dict[str, Any] | None:
        if not self.selects("location_ids"):
            return super().post_process(row, context)  # no look-up for a field left out
        users, departments = self.memberships
        locations = set(users.get(row["id"], ()))
        locations.update(
            departments[department_id]
            for department_id in row.get("department_ids") or ()
            if department_id in departments
        )
        row["location_ids"] = sorted(locations)
        return super().post_process(row, context)


class WindowStream(StaffomaticStream):
    """Records in a time window, read whole on every run (Staffomatic has no "changed since").

    Without a bookmark (the first run, or ``--full-refresh``) every record of the window is
    emitted, and with ``window_activate_version`` on (off by default: SQL loaders would take
    the window for the whole table) framed by two ``ACTIVATE_VERSION`` messages of the same
    version: the second one says the window was read completely,
    so a target may remove what it did not see. With a bookmark only records changed since the
    bookmark minus ``lookback_minutes`` are emitted, and no ``ACTIVATE_VERSION``.

    The SDK keeps the largest ``updated_at`` as the bookmark by comparing the strings; they all
    carry the account's offset, so only the hour repeated at the end of DST can be misordered,
    which the lookback covers many times over. The filter here compares real instants.
    """

    replication_key = "updated_at"
    is_sorted = False

    @property
    def now(self) -> datetime:
        """The moment of the run the windows are measured from."""
        return self.services.now

    @cached_property
    def window(self) -> tuple[datetime, datetime]:
        """The ``from`` and ``until`` of the window."""
        raise NotImplementedError

    def not_before_start_date(self, moment: datetime) -> datetime:
        start = parse_timestamp(self.config.get("start_date"))
        return max(moment, start) if start else moment

    @override
    def get_url_params(self, context: Context | None, next_page_token: Any) -> dict[str, Any]:
        low, high = self.window
        params = super().get_url_params(context, next_page_token)
        return {**params, "from": utc_text(low), "until": utc_text(high)}

    def last_change(self, record: dict[str, Any]) -> datetime | None:
        return parse_timestamp(record.get("updated_at"))

    def bookmark(self, context: Context | None) -> datetime | None:
        return parse_timestamp(self.get_context_state(context).get("replication_key_value"))

    @override
    def get_records(self, context: Context | None) -> Iterable[dict[str, Any]]:
        bookmark = self.bookmark(context)
        if bookmark is not None:
            since = bookmark - timedelta(minutes=self.config["lookback_minutes"])
            self.logger.info("Emitting %s changed since %s", self.name, since.isoformat())
            for record in super().get_records(context):
                changed = self.last_change(record)
                if changed is None or changed >= since:
                    yield record
            return
        low, high = self.window
        self.logger.info(
            "Reading all %s from %s until %s", self.name, low.isoformat(), high.isoformat()
        )
        if not self.config.get("window_activate_version", False):
            yield from super().get_records(context)
            return
        version = round(time.time() * 1000)
        self._stream_version = version
        self._write_activate_version_message(version)
        yield from super().get_records(context)
        # Reached only when every page was read: the window is complete.
        self._write_activate_version_message(version)


class AbsencesStream(WindowStream):
    """Absences of every state overlapping the absence window, with their type's name."""

    name = "absences"
    path = "/absences.json"
    schema = schemas.ABSENCES.to_dict()

    @cached_property
    @override
    def window(self) -> tuple[datetime, datetime]:
        low, high = day_window(
            self.now.date(),
            self.config["absence_window_past_days"],
            self.config["absence_window_future_days"],
        )
        return self.not_before_start_date(low.replace(tzinfo=UTC)), high.replace(tzinfo=UTC)

    @cached_property
    def type_names(self) -> dict[int, str | None]:
        return {
            absence_type["id"]: absence_type.get("name")
            for location in self.lookup("/locations.json")
            for absence_type in self.lookup(f"/locations/{location['id']}/absence_types.json")
        }

    @override
    def post_process(
        self, row: dict[str, Any], context: Context | None = None
    ) -> dict[str, Any] | None:
        row.setdefault("user_id", row.get("applicant_id"))
        if self.selects("absence_type_name"):  # no look-up for a field left out
            row["absence_type_name"] = self.type_names.get(row.get("absence_type_id") or 0)
        return super().post_process(row, context)


class WorkTimersStream(WindowStream):
    """Work timers of the last ``timer_window_days``, each with its breaks embedded, and when
    selected its user's ``user_custom_id`` and ``user_email`` (:mod:`tap_staffomatic.identities`).

    Breaks come from one paged ``break_timers`` list over the same window, not from one request
    per timer.
    """

    name = "work_timers"
    path = "/work_timers.json"
    schema = schemas.WORK_TIMERS.to_dict()

    @cached_property
    @override
    def window(self) -> tuple[datetime, datetime]:
        low = self.now - timedelta(days=self.config["timer_window_days"])
        return self.not_before_start_date(low), self.now + timedelta(days=1)

    @cached_property
    def breaks(self) -> dict[int, list[dict[str, Any]]]:
        """Work timer id -> its break timers, by start time."""
        low, high = self.window
        # A day earlier too: a timer that began before the window may have its breaks there.
        params = {"from": utc_text(low - timedelta(days=1)), "until": utc_text(high)}
        found: dict[int, list[dict[str, Any]]] = defaultdict(list)
        for item in self.read_all("/break_timers.json", params):
            found[item["work_timer_id"]].append(item)
        for items in found.values():
            items.sort(key=lambda item: parse_timestamp(item.get("starts_at")) or self.now)
        return found

    @cached_property
    def identities(self) -> Identities:
        return Identities(self)

    @override
    def get_records(self, context: Context | None) -> Iterator[dict[str, Any]]:
        """The timers, with their users' identity fields when selected: for a batch of changes
        (no ACTIVATE_VERSION to keep in order) the changed timers are read first, then only
        their users; a whole window reads the user list once."""
        _ = self.breaks  # read before the first timer
        selected = [name for name in IDENTITY_FIELDS if self.selects(name)]
        records: Iterable[dict[str, Any]] = super().get_records(context)
        if not selected:
            yield from records
            return
        if self.bookmark(context) is not None:
            records = list(records)
            self.identities.read_for(record.get("user_id") for record in records)
        for record in records:
            yield record | self.identities.fields_of(record.get("user_id"), selected)

    @override
    def last_change(self, record: dict[str, Any]) -> datetime | None:
        """A timer counts as changed when it or one of its breaks changed."""
        items = [record, *self.breaks.get(record["id"], ())]
        moments = [parse_timestamp(item.get("updated_at")) for item in items]
        known = [moment for moment in moments if moment is not None]
        return max(known) if known else None

    @override
    def post_process(
        self, row: dict[str, Any], context: Context | None = None
    ) -> dict[str, Any] | None:
        row["breaks"] = [
            {key: item.get(key) for key in ("id", "starts_at", "ends_at", "duration")}
            for item in self.breaks.get(row["id"], ())
        ]
        return super().post_process(row, context)


STREAMS: tuple[type[StaffomaticStream], ...] = (
    AccountStream,
    LocationsStream,
    DepartmentsStream,
    UsersStream,
    AbsenceTypesStream,
    AbsencesStream,
    WorkTimersStream,
)
