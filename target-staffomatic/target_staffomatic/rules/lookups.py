"""The Staffomatic data the rules match on: read once per run, kept up to date as writes land.

:class:`Lookups` indexes users (by ``custom_id``, e-mail and full name), locations, departments,
absence types and the absences of the window. Only documented fields are read: a user's locations
come from the locations' and departments' ``user_ids``, its ``department_ids`` and the location
it was created in.

Each record is kept cut to the fields the rules use (:mod:`.records`), so what a run holds grows
with the number of ids, not with everything Staffomatic returns for a user or an absence.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping
from datetime import date
from typing import Any

from vendor_http.timeutil import datetime_of, epoch_microseconds

from target_staffomatic.rules.base import ABSENCE, ABSENCE_TYPE, EMPLOYEE, norm
from target_staffomatic.rules.records import KEPT, KeptAbsence, KeptUser, cut

__all__ = ["KEPT", "Lookups", "absence_key", "cut", "full_name", "learn"]

Index = dict[str, tuple[int, ...]]
"""Users by a text (``custom_id``, e-mail, full name): nearly always one each, so a tuple."""


class Lookups:
    """Staffomatic data read once per run, with the indexes the rules match on."""

    def __init__(
        self,
        users: Iterable[Mapping[str, Any]] = (),
        locations: Iterable[dict[str, Any]] = (),
        departments: Iterable[dict[str, Any]] = (),
        absence_types: Iterable[dict[str, Any]] = (),
        absences: Iterable[Mapping[str, Any]] | None = None,
    ) -> None:
        self.users: dict[int, KeptUser] = {}
        self.locations = {int(loc["id"]): cut("locations", loc) for loc in locations}
        self.departments = {int(d["id"]): cut("departments", d) for d in departments}
        self.absence_types: dict[int, dict[str, Any]] = {}
        self.absences: dict[int, KeptAbsence] | None = None
        self.by_custom_id: Index = {}
        self.by_email: Index = {}
        self.by_name: Index = {}
        self.user_locations: dict[int, list[int]] = defaultdict(list)
        self.location_by_name = {norm(loc.get("name")): lid for lid, loc in self.locations.items()}
        self.department_by_name: dict[tuple[int, str], int] = {}
        self.type_by_name: dict[tuple[int, str], int] = {}
        self.absence_by_key: dict[tuple[int, int, int | None, int | None], int] = {}
        self.absence_window: tuple[date, date] | None = None
        """The days whose absences ``absences`` holds (None: all that were read)."""
        for lid, loc in self.locations.items():
            for uid in loc.get("user_ids") or []:
                self._add_location(int(uid), lid)
        for did, dep in sorted(self.departments.items()):
            if dep.get("location_id") is not None:
                dep_loc = int(dep["location_id"])
                self.department_by_name.setdefault((dep_loc, norm(dep.get("name"))), did)
                for uid in dep.get("user_ids") or []:
                    self._add_location(int(uid), dep_loc)
        for user in users:
            self.put_user(user)
        for absence_type in absence_types:
            self.put_absence_type(absence_type)
        if absences is not None:
            self.set_absences(absences)

    def _add_location(self, user_id: int, location_id: int) -> None:
        if location_id not in self.user_locations[user_id]:
            self.user_locations[user_id].append(location_id)

    # users --------------------------------------------------------------------------------------

    def put_user(self, record: Mapping[str, Any], location_id: int | None = None) -> None:
        """Add or replace a user (as read, or as returned by a write) in every index."""
        user = KeptUser(record)
        uid = int(user["id"])
        old = self.users.get(uid)
        if old is not None:
            _unindex(self.by_custom_id, str(old.get("custom_id") or ""), uid)
            _unindex(self.by_email, norm(old.get("email")), uid)
            _unindex(self.by_name, full_name(old), uid)
        self.users[uid] = user
        if user.get("custom_id"):
            _index(self.by_custom_id, str(user["custom_id"]), uid)
        if norm(user.get("email")):
            _index(self.by_email, norm(user.get("email")), uid)
        _index(self.by_name, full_name(user), uid)
        if location_id is not None:
            self._add_location(uid, int(location_id))
        for did in user.get("department_ids") or []:
            dep = self.departments.get(int(did))
            if dep and dep.get("location_id") is not None:
                self._add_location(uid, int(dep["location_id"]))

    def location_of(self, user_id: int, preferred: int | None = None) -> int | None:
        """The location for a user's paths: ``preferred`` if the user is in it, else the first."""
        found = self.user_locations.get(user_id) or []
        if preferred is not None and (preferred in found or not found):
            return preferred
        return found[0] if found else None

    # absence types and absences -------------------------------------------------------------

    def put_absence_type(self, absence_type: dict[str, Any]) -> None:
        absence_type = cut("absence_types", absence_type)
        tid = int(absence_type["id"])
        self.absence_types[tid] = absence_type
        lid = absence_type.get("location_id")
        if lid is not None:
            self.type_by_name.setdefault((int(lid), norm(absence_type.get("name"))), tid)

    def set_absences(self, absences: Iterable[Mapping[str, Any]]) -> None:
        self.absences = {}
        self.absence_by_key = {}
        for absence in absences:
            self.put_absence(absence)

    def put_absence(self, record: Mapping[str, Any]) -> None:
        if self.absences is None:
            self.absences = {}
        absence = KeptAbsence(record)
        aid = int(absence["id"])
        self.absences[aid] = absence
        self.absence_by_key.setdefault(absence_key(absence), aid)

    def drop_absence(self, absence_id: int) -> None:
        if self.absences is not None:
            absence = self.absences.pop(absence_id, None)
            if absence is not None and self.absence_by_key.get(absence_key(absence)) == absence_id:
                del self.absence_by_key[absence_key(absence)]


def _index(index: Index, key: str, uid: int) -> None:
    found = index.get(key, ())
    if uid not in found:
        index[key] = (*found, uid)


def _unindex(index: Index, key: str, uid: int) -> None:
    found = tuple(u for u in index.get(key, ()) if u != uid)
    if found:
        index[key] = found
    else:
        index.pop(key, None)


def full_name(user: Mapping[str, Any]) -> str:
    return " ".join(
        part for part in (norm(user.get("first_name")), norm(user.get("last_name"))) if part
    )


def _instant(value: Any) -> int | None:
    """The moment ``value`` names, in microseconds since 1970 (None: not a moment with an
    offset); an int, not a datetime, as the key of every absence of the window is kept."""
    parsed = datetime_of(value)
    return epoch_microseconds(parsed) if parsed and parsed.tzinfo else None


def absence_key(absence: Mapping[str, Any]) -> tuple[int, int, int | None, int | None]:
    """What identifies an absence when the ledger is lost: user, type, exact start and end."""
    return (
        int(absence.get("applicant_id") or 0),
        int(absence.get("absence_type_id") or 0),
        _instant(absence.get("starts_at")),
        _instant(absence.get("ends_at")),
    )


def learn(
    lk: Lookups,
    entity: str,
    action: str,
    answer: Any,
    dest_id: int | None,
    location_id: int | None = None,
) -> None:
    """Keep the look-ups in step with one write that took effect (``answer``: what it returned)."""
    record = answer if isinstance(answer, dict) and "id" in answer else None
    if entity == EMPLOYEE and record is not None:
        lk.put_user(record, location_id=location_id)
    elif entity == ABSENCE and action == "delete" and dest_id is not None:
        lk.drop_absence(dest_id)
    elif entity == ABSENCE and record is not None:
        lk.put_absence(record)
    elif entity == ABSENCE_TYPE and record is not None:
        lk.put_absence_type(record)
