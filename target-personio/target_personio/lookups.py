"""The run's look-ups: what the input streams tell (users, absence type names, the account's
time zone) and what is read from Personio at most once per run, on first need (employees,
absence types, and the periods no link names, for linking instead of creating again).

Employees and periods can also be read for some people only (a batch of changes):
:mod:`target_personio.people_reads` reads the people of some users, :meth:`Lookups.found` the
attendance periods of some people (``person.id``, documented as a comma list), each person once,
and :meth:`Lookups.found_one_by_one` the absence periods of the people a plan asks for, one
person per read (the reference gives no form for several ids on this list), or the whole list
when that takes fewer requests.

The rules (:mod:`target_personio.rules`) receive them as plain data and callables; all reading
happens here.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Collection, Iterable, Iterator, Mapping, Sequence
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from sync_ledger.lookups import LookupStore

from target_personio import mapping
from target_personio.client import ATTENDANCE, PersonioClient, RunStopped
from target_personio.people_reads import PeopleReads
from target_personio.rules import AbsenceTypes, People
from target_personio.rules.common import Found, Key

PEOPLE_PER_READ = 50
"""People named in one ``person.id`` filter of a period read (a comma list)."""
LIST_PAGE = 100
"""Periods per page of a v2 list (``limit`` 100, the most Personio gives)."""


def list_pages(kind: str) -> str:
    """What the number of pages of the whole list of ``kind`` is kept under in the ledger."""
    return f"pages GET /v2/{kind}"


class OnAsking(Mapping[Key, Sequence[str]]):
    """The periods found so far; asking for a key first reads the periods of its person
    (the first part of every key)."""

    def __init__(
        self, found: Callable[[], Mapping[Key, Sequence[str]]], read: Callable[[str], None]
    ) -> None:
        self._found = found
        self._read = read

    def __getitem__(self, key: Key) -> Sequence[str]:
        self._read(key[0])
        return self._found()[key]

    def __iter__(self) -> Iterator[Key]:
        return iter(self._found())

    def __len__(self) -> int:
        return len(self._found())


TIMER_USER_FIELDS = {"user_custom_id", "user_email"}
"""Fields of a work timer that carry its user's identity instead of the ``users`` stream."""

ReadAs = tuple[str, tuple[tuple[str, Any], ...]]


class Lookups:
    """Look-ups shared by the sinks for the length of one run."""

    def __init__(
        self,
        client: Callable[[], PersonioClient],
        logger: logging.Logger,
        *,
        time_zone: str | None = None,
        type_map: Mapping[str, Any] | None = None,
        kept: Callable[[], LookupStore] | None = None,
    ) -> None:
        self._client = client
        self.logger = logger
        self.time_zone = time_zone
        self.type_map = dict(type_map or {})
        self.users: dict[str, tuple[str, str]] = {}
        """Staffomatic user id -> (custom_id, e-mail), from the ``users`` stream."""
        self.staffomatic_types: dict[str, str] = {}
        """Staffomatic absence type id -> name, from the ``absence_types`` stream."""
        self.account_time_zone: str | None = None
        self._zone: ZoneInfo | None = None
        self._people = PeopleReads(client, self.users, logger)
        self._types: AbsenceTypes | None = None
        self._found: dict[ReadAs, dict[Key, list[str]]] = {}
        self._covered: dict[ReadAs, set[str] | None] = {}
        """The people whose periods were read, per read; None: everybody's."""
        self._taken: dict[str, set[str]] = {}
        self._one_by_one: dict[str, int] = {}
        """Requests of this run that read the periods of one person, by kind."""
        self._kept = kept
        self._pages: dict[str, int] = {}
        """The pages of the whole list of a kind, as its last read had (or an estimate)."""

    def add_user(self, record: Mapping[str, Any]) -> None:
        custom_id = str(record.get("custom_id") or "").strip()
        email = str(record.get("email") or "").strip().lower()
        self.users[str(record["id"])] = (custom_id, email)

    def add_timer_user(self, timer: Mapping[str, Any]) -> None:
        """The user identity a work timer carries (tap-staffomatic's ``user_custom_id`` and
        ``user_email``, when selected), as the ``users`` stream would give it."""
        if timer.get("user_id") is None or not TIMER_USER_FIELDS & timer.keys():
            return
        self.add_user(
            {
                "id": timer["user_id"],
                "custom_id": timer.get("user_custom_id"),
                "email": timer.get("user_email"),
            }
        )

    @property
    def zone(self) -> ZoneInfo:
        """The company time zone: the ``time_zone`` setting, else the Staffomatic account's."""
        if self._zone is None:
            name = self.time_zone or self.account_time_zone
            if not name:
                raise RunStopped(
                    "The company time zone is unknown: set the time_zone setting (for example "
                    "Europe/Berlin) or let tap-staffomatic send its account stream first."
                )
            try:
                self._zone = ZoneInfo(str(name))
            except (ZoneInfoNotFoundError, ValueError):
                raise RunStopped(
                    f"The time zone {name!r} is unknown; set time_zone to an IANA name such as "
                    "Europe/Berlin."
                ) from None
        return self._zone

    @property
    def people(self) -> People:
        """Staffomatic users and Personio employees (the employees are read once)."""
        return self._people.whole()

    def people_for(self, user_ids: Iterable[Any]) -> People:
        """Staffomatic users and the Personio people of these users (and of those before):
        read one by one, or the whole list when that takes fewer requests."""
        return self._people.of(user_ids)

    @property
    def absence_types(self) -> AbsenceTypes:
        """Personio absence types (read once) matched to Staffomatic names."""
        if self._types is None:
            personio = list(self._client().absence_types())
            self._types = AbsenceTypes(personio, self.staffomatic_types, self.type_map)
        return self._types

    def found(
        self,
        kind: str,
        params: dict[str, Any],
        linked: Callable[[], Iterable[str]],
        people: Collection[str] | None = None,
    ) -> Found:
        """Personio periods of ``kind`` by match key, without those a link names or a plan
        took: read on the first call, once per run and filters; with ``people``, only those
        people's periods (each person once per run and filters)."""
        read_as = (kind, tuple(sorted(params.items())))

        def index() -> Mapping[Key, Sequence[str]]:
            covered = self._covered.get(read_as, set())
            if covered is None:
                return self._found[read_as]
            if people is None:
                return self._whole(read_as, linked)
            found = self._found.setdefault(read_as, {})
            new = sorted(set(people) - covered)
            for start in range(0, len(new), PEOPLE_PER_READ):
                chunk = ",".join(new[start : start + PEOPLE_PER_READ])
                self._add(
                    read_as, self._client().periods(kind, {**params, "person.id": chunk}), linked
                )
            self._covered[read_as] = covered | set(new)
            return found

        return index

    def found_one_by_one(
        self,
        kind: str,
        params: dict[str, Any],
        linked: Callable[[], Iterable[str]],
        people: Collection[str],
        links: int,
    ) -> Found:
        """Like :meth:`found` with ``people``, for a list whose ``person.id`` filter is read
        with one person only (absence periods): a person's periods are read when a plan first
        asks for a key of that person, one read per person, each person once per run and
        filters. When ``people`` not read yet would bring the run's reads one by one to the
        pages of the whole list (as many as its last read had, kept in the ledger; else
        estimated from the ``links``), the whole list is read instead."""
        read_as = (kind, tuple(sorted(params.items())))

        def index() -> Mapping[Key, Sequence[str]]:
            covered = self._covered.get(read_as, set())
            if covered is None:
                return self._found[read_as]
            unread = set(people) - covered
            if self._one_by_one.get(kind, 0) + len(unread) >= self._list_pages(kind, links):
                return self._whole(read_as, linked)
            self._found.setdefault(read_as, {})
            return OnAsking(
                lambda: self._found[read_as], lambda person: self._of(read_as, linked, person)
            )

        return index

    def _whole(
        self, read_as: ReadAs, linked: Callable[[], Iterable[str]]
    ) -> Mapping[Key, Sequence[str]]:
        """Every period of the list (what was read person by person is read again with it);
        how many pages it had is kept for the next runs."""
        kind, params = read_as[0], dict(read_as[1])
        self._found[read_as] = {}
        pages = 0
        for page in self._client().period_pages(kind, params):
            pages += 1
            self._add(read_as, page, linked)
        self._covered[read_as] = None
        self._pages[kind] = pages
        if self._kept is not None:
            self._kept().remember(list_pages(kind), pages)
        return self._found[read_as]

    def _of(self, read_as: ReadAs, linked: Callable[[], Iterable[str]], person: str) -> None:
        """The periods of one person (once per run and filters), read by ``person.id``."""
        covered = self._covered.setdefault(read_as, set())
        if covered is None or person in covered:
            return
        kind, params = read_as[0], dict(read_as[1])
        for page in self._client().period_pages(kind, {**params, "person.id": person}):
            self._one_by_one[kind] = self._one_by_one.get(kind, 0) + 1
            self._add(read_as, page, linked)
        covered.add(person)

    def _list_pages(self, kind: str, links: int) -> int:
        """The pages of the whole list of ``kind``: as many as its last read had, else about
        as many as hold the ``links``."""
        if kind not in self._pages:
            kept = self._kept().number(list_pages(kind)) if self._kept is not None else None
            self._pages[kind] = kept if kept is not None else links // LIST_PAGE + 1
        return self._pages[kind]

    def _add(
        self,
        read_as: ReadAs,
        items: Iterable[dict[str, Any]],
        linked: Callable[[], Iterable[str]],
    ) -> None:
        kind = read_as[0]
        skip = set(linked()) | self._taken.get(kind, set())
        found = self._found.setdefault(read_as, {})
        for item in items:
            if str(item.get("id")) in skip:
                continue
            key = (
                mapping.personio_attendance_key(item)
                if kind == ATTENDANCE
                else mapping.absence_key(item)
            )
            found.setdefault(key, []).append(str(item.get("id")))

    def taken(self, kind: str, ids: Iterable[str]) -> None:
        """Found periods a plan links are not offered to another record."""
        gone = set(ids)
        self._taken.setdefault(kind, set()).update(gone)
        for (read_kind, _), found in self._found.items():
            if read_kind == kind:
                for pids in found.values():
                    pids[:] = [pid for pid in pids if pid not in gone]
