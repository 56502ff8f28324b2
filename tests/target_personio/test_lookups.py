"""The run's look-ups: Personio is read once, on first need; found periods are offered once."""

from __future__ import annotations

import logging
from typing import Any, cast

import pytest
from target_personio.client import PersonioClient, RunStopped
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
