"""The run's look-ups: Personio is read once, on first need; found periods are offered once."""

from __future__ import annotations

import logging
from typing import Any, cast

import pytest
from sync_ledger.lookups import LookupStore
from target_personio.client import ABSENCE, PersonioClient, RunStopped
from target_personio.lookups import Lookups

PERIOD = {
    "id": "p-1",
    "person": {"id": "1001"},
    "type": "WORK",
    "start": {"date_time": "2024-10-29T08:00:00"},
    "end": {"date_time": "2024-10-29T12:00:00"},
}
KEY = ("1001", "WORK", "2024-10-29T08:00:00", "2024-10-29T12:00:00")


class Reads:
    def __init__(self) -> None:
        self.calls: list[str] = []

    def employees(self) -> list[dict[str, Any]]:
        self.calls.append("employees")
        return [{"id": 1001, "email": "anna@x.example"}]

    def absence_types(self) -> list[dict[str, Any]]:
        self.calls.append("absence_types")
        return [{"id": "t-1", "name": "Vacation"}]

    def periods(self, kind: str, params: dict[str, Any]) -> list[dict[str, Any]]:
        self.calls.append(kind)
        return [PERIOD, {**PERIOD, "id": "p-linked"}, {**PERIOD, "id": "p-2"}]

    def period_pages(self, kind: str, params: dict[str, Any]) -> list[list[dict[str, Any]]]:
        return [self.periods(kind, params)]


class AbsenceReads:
    """Absence periods of people 1001 to 1005 (one each), read a page at a time."""

    def __init__(self) -> None:
        self.reads: list[str] = []  # the person read, or "all"

    def period_pages(self, kind: str, params: dict[str, Any]) -> list[list[dict[str, Any]]]:
        person = params.get("person.id")
        self.reads.append(person or "all")
        periods = [absence_period(str(p)) for p in range(1001, 1006)]
        return [[p for p in periods if person in (None, p["person"]["id"])]]


class Kept:
    """The ledger's kept numbers, in memory."""

    def __init__(self, **numbers: int) -> None:
        self.numbers = dict(numbers)

    def number(self, what: str) -> int | None:
        return self.numbers.get(what)

    def remember(self, what: str, number: int) -> None:
        self.numbers[what] = number


def absence_period(person: str) -> dict[str, Any]:
    return {
        "id": f"a-{person}",
        "person": {"id": person},
        "absence_type": {"id": "t-1"},
        "starts_from": {"date_time": "2024-11-04T00:00:00", "type": "FIRST_HALF"},
        "ends_at": {"date_time": "2024-11-04T00:00:00", "type": "SECOND_HALF"},
    }


def absence_key(person: str) -> tuple[str, ...]:
    return (
        person,
        "t-1",
        "2024-11-04T00:00:00",
        "FIRST_HALF",
        "2024-11-04T00:00:00",
        "SECOND_HALF",
    )


def lookups(reads: Reads, **kwargs: Any) -> Lookups:
    return Lookups(lambda: cast(PersonioClient, reads), logging.getLogger("test"), **kwargs)


def test_personio_is_read_once_and_only_when_needed() -> None:
    reads = Reads()
    look = lookups(reads)
    look.add_user({"id": 501, "custom_id": " 1001 ", "email": "Anna@X.example"})
    assert reads.calls == []
    assert look.people.person_for(501) == ("1001", "")
    assert look.people.person_for("501") == ("1001", "")
    assert look.absence_types.type_for({"absence_type_name": "vacation"}) == ("t-1", "vacation")
    assert look.absence_types is look.absence_types
    assert reads.calls == ["employees", "absence_types"]


def test_found_periods_leave_out_linked_ones_and_each_is_taken_once() -> None:
    reads = Reads()
    look = lookups(reads)
    found = look.found("attendance-periods", {}, lambda: ["p-linked"])
    assert reads.calls == []
    assert found()[KEY] == ["p-1", "p-2"]
    look.taken("attendance-periods", ["p-1"])
    assert found()[KEY] == ["p-2"]
    assert reads.calls == ["attendance-periods"]


def test_the_time_zone_setting_wins_over_the_account_and_a_bad_one_stops_the_run() -> None:
    look = lookups(Reads(), time_zone="Europe/Vienna")
    look.account_time_zone = "Europe/Berlin"
    assert str(look.zone) == "Europe/Vienna"
    with pytest.raises(RunStopped, match="company time zone is unknown"):
        _ = lookups(Reads()).zone
    with pytest.raises(RunStopped, match="'Mars/Base' is unknown"):
        _ = lookups(Reads(), time_zone="Mars/Base").zone


def test_absence_periods_are_read_for_the_people_asked_for_one_by_one_each_once() -> None:
    reads, kept = AbsenceReads(), Kept(**{"pages GET /v2/absence-periods": 4})
    look = lookups(cast(Reads, reads), kept=lambda: cast(LookupStore, kept))
    found = look.found_one_by_one(ABSENCE, {}, list, ["1001", "1002", "1003"], links=0)
    assert reads.reads == []
    assert found().get(absence_key("1002")) == ["a-1002"]
    assert found().get(absence_key("1002")) == ["a-1002"]
    assert found().get(absence_key("1003"), ()) == ["a-1003"]
    assert reads.reads == ["1002", "1003"]  # never 1001: no plan asked for one of its keys


def test_absence_periods_are_read_as_the_whole_list_when_the_people_reach_its_pages() -> None:
    reads, kept = AbsenceReads(), Kept(**{"pages GET /v2/absence-periods": 3})
    look = lookups(cast(Reads, reads), kept=lambda: cast(LookupStore, kept))
    first = look.found_one_by_one(ABSENCE, {}, list, ["1001", "1002"], links=0)
    assert first().get(absence_key("1001")) == ["a-1001"]
    # One read so far and two people not read yet: three, as many as the list's pages.
    second = look.found_one_by_one(ABSENCE, {}, list, ["1004", "1005"], links=0)
    assert second().get(absence_key("1005")) == ["a-1005"]
    assert second().get(absence_key("1002")) == ["a-1002"]
    assert reads.reads == ["1001", "all"]
    assert kept.numbers["pages GET /v2/absence-periods"] == 1  # what the list had this time


def test_without_a_kept_page_count_the_links_estimate_the_list() -> None:
    reads = AbsenceReads()
    look = lookups(cast(Reads, reads), kept=lambda: cast(LookupStore, Kept()))
    found = look.found_one_by_one(ABSENCE, {}, list, ["1001", "1002"], links=250)
    assert found().get(absence_key("1001")) == ["a-1001"]
    assert reads.reads == ["1001"]  # 250 links: about three pages, more than two people
    reads = AbsenceReads()
    look = lookups(cast(Reads, reads), kept=lambda: cast(LookupStore, Kept()))
    found = look.found_one_by_one(ABSENCE, {}, list, ["1001", "1002"], links=150)
    assert found().get(absence_key("1001")) == ["a-1001"]
    assert reads.reads == ["all"]  # about two pages: no fewer than the two people
