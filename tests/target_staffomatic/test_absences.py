"""Absences into Staffomatic against the emulator: each rule asserts the resulting state."""

from __future__ import annotations

from datetime import datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest

Kit = Any  # the conftest's Kit

BERLIN = ZoneInfo("Europe/Berlin")


def local(kit: Kit, days: int, at: time) -> datetime:
    return datetime.combine(kit.today() + timedelta(days=days), at, BERLIN)


def created(kit: Kit, custom_id: str, before: set[int]) -> list[dict[str, Any]]:
    return [a for a in kit.absences_of(custom_id) if a["id"] not in before]


def absence_ids(kit: Kit) -> set[int]:
    return {a["id"] for a in kit.state()["absences"]}


def test_full_day_absences_are_created_with_matched_type_and_approval(kit: Kit) -> None:
    before = absence_ids(kit)
    absences = [
        kit.absence("a-1", 1001, "vac", 3, 5, "APPROVED"),
        kit.absence("a-2", 1011, "train", 8, 8, "PENDING"),  # Staffomatic calls it "training"
    ]
    kit.run(kit.singer(kit.demo_employees(), absences))

    (vacation,) = created(kit, "1001", before)
    assert kit.type_name(vacation["absence_type_id"]) == "Vacation"
    assert vacation["state"] == "approved"
    assert vacation["all_day"] is True
    assert datetime.fromisoformat(vacation["starts_at"]) == local(kit, 3, time(0, 0))
    assert datetime.fromisoformat(vacation["ends_at"]) == local(kit, 5, time(23, 59, 59))
    assert kit.location_name(vacation["location_id"]) == "Berlin"
    (training,) = created(kit, "1011", before)
    assert kit.type_name(training["absence_type_id"]) == "training"
    assert training["state"] == "new"


def test_approval_is_not_mirrored_when_switched_off(kit: Kit) -> None:
    before = absence_ids(kit)
    kit.run(
        kit.singer(kit.demo_employees(), [kit.absence("a-1", 1001, "vac", 3, 5)]),
        mirror_absence_approval=False,
    )
    (vacation,) = created(kit, "1001", before)
    assert vacation["state"] == "new"


def test_half_days_are_split_at_noon_and_sent_as_part_day(kit: Kit) -> None:
    before = absence_ids(kit)
    absences = [
        kit.absence("h-1", 1001, "vac", 30, 31, half_start=True),
        kit.absence("h-2", 1011, "vac", 40, 42, half_end=True),
    ]
    kit.run(kit.singer(kit.demo_employees(), absences))
    (afternoon,) = created(kit, "1001", before)
    assert afternoon["all_day"] is False
    assert datetime.fromisoformat(afternoon["starts_at"]) == local(kit, 30, time(12, 0))
    assert datetime.fromisoformat(afternoon["ends_at"]) == local(kit, 31, time(23, 59, 59))
    (morning,) = created(kit, "1011", before)
    assert datetime.fromisoformat(morning["starts_at"]) == local(kit, 40, time(0, 0))
    assert datetime.fromisoformat(morning["ends_at"]) == local(kit, 42, time(12, 0))


def test_missing_type_holds_absences_back_and_is_named_once_with_count(kit: Kit) -> None:
    before = absence_ids(kit)
    absences = [
        kit.absence("p-1", 1001, "parental", 10, 20),
        kit.absence("p-2", 1011, "parental", 30, 40),
        kit.absence("v-1", 1011, "vac", 50, 51),
    ]
    result = kit.run(kit.singer(kit.demo_employees(), absences))
    assert result.stderr.count("Parental leave") == 1
    assert (
        "'Parental leave' has no Staffomatic counterpart: 2 absence(s) held back" in result.stderr
    )
    assert created(kit, "1001", before) == []
    assert len(created(kit, "1011", before)) == 1


def test_missing_type_is_created_in_the_location_when_asked(kit: Kit) -> None:
    before = absence_ids(kit)
    absences = [kit.absence("p-1", 1001, "parental", 10, 20)]
    kit.run(kit.singer(kit.demo_employees(), absences), create_missing_absence_types=True)
    (parental,) = created(kit, "1001", before)
    berlin = parental["location_id"]
    new_type = next(
        t for t in kit.state()["absence_types"] if t["id"] == parental["absence_type_id"]
    )
    assert new_type["name"] == "Parental leave"
    assert new_type["location_id"] == berlin


def test_absence_type_map_names_the_staffomatic_type(kit: Kit) -> None:
    before = absence_ids(kit)
    absences = [kit.absence("p-1", 1001, "parental", 10, 20)]
    kit.run(
        kit.singer(kit.demo_employees(), absences), absence_type_map={"Parental leave": "Vacation"}
    )
    (mapped,) = created(kit, "1001", before)
    assert kit.type_name(mapped["absence_type_id"]) == "Vacation"


def test_rejected_or_cancelled_absence_removes_the_linked_one(kit: Kit) -> None:
    before = absence_ids(kit)
    absences = [
        kit.absence("a-1", 1001, "vac", 3, 5),
        kit.absence("a-2", 1011, "vac", 9, 9, "PENDING"),
    ]
    kit.run(kit.singer(kit.demo_employees(), absences))
    assert len(created(kit, "1001", before)) == 1
    assert len(created(kit, "1011", before)) == 1

    absences = [
        kit.absence("a-1", 1001, "vac", 3, 5, "REJECTED"),
        kit.absence("a-2", 1011, "vac", 9, 9, "CANCELLED"),
    ]
    kit.run(kit.singer(kit.demo_employees(), absences))
    assert created(kit, "1001", before) == []
    assert created(kit, "1011", before) == []
    assert before <= absence_ids(kit)  # the absences made by hand are untouched


def test_change_updates_a_new_absence_and_replaces_an_approved_one(kit: Kit) -> None:
    before = absence_ids(kit)
    absences = [
        kit.absence("a-1", 1001, "vac", 3, 5),
        kit.absence("a-2", 1011, "vac", 9, 9, "PENDING"),
    ]
    kit.run(kit.singer(kit.demo_employees(), absences))
    (approved,) = created(kit, "1001", before)
    (pending,) = created(kit, "1011", before)

    absences = [
        kit.absence("a-1", 1001, "vac", 4, 6),
        kit.absence("a-2", 1011, "vac", 10, 11, "PENDING"),
    ]
    result = kit.run(kit.singer(kit.demo_employees(), absences))
    (replaced,) = created(kit, "1001", before)
    assert replaced["id"] != approved["id"]
    assert replaced["state"] == "approved"
    assert datetime.fromisoformat(replaced["starts_at"]) == local(kit, 4, time(0, 0))
    (updated,) = created(kit, "1011", before)
    assert updated["id"] == pending["id"]
    assert datetime.fromisoformat(updated["ends_at"]) == local(kit, 11, time(23, 59, 59))
    by_endpoint = result.requests["by_endpoint"]
    assert by_endpoint["DELETE /v3/{account}/locations/{location_id}/absences/{id}.json"] == 1
    assert by_endpoint["POST /v3/{account}/locations/{location_id}/absences.json"] == 1


def test_pending_then_approved_in_personio_approves_the_linked_absence(kit: Kit) -> None:
    before = absence_ids(kit)
    kit.run(kit.singer(kit.demo_employees(), [kit.absence("a-1", 1001, "vac", 3, 5, "PENDING")]))
    (pending,) = created(kit, "1001", before)
    result = kit.run(kit.singer(kit.demo_employees(), [kit.absence("a-1", 1001, "vac", 3, 5)]))
    (approved,) = created(kit, "1001", before)
    assert approved["id"] == pending["id"]
    assert approved["state"] == "approved"
    assert result.writes == 1


def test_full_window_read_removes_linked_absences_that_vanished(kit: Kit) -> None:
    before = absence_ids(kit)
    absences = [kit.absence("a-1", 1001, "vac", 3, 5), kit.absence("a-2", 1011, "vac", 9, 9)]
    kit.run(kit.singer(kit.demo_employees(), absences, version=1))
    assert len(created(kit, "1011", before)) == 1

    # a-2 is not in the Personio emulator: the confirmation read answers 404
    kit.run(kit.singer(kit.demo_employees(), absences[:1], version=2), **kit.personio_source())
    assert len(created(kit, "1001", before)) == 1
    assert created(kit, "1011", before) == []
    assert before <= absence_ids(kit)  # nothing the sync did not create is touched


def test_incremental_read_without_activate_version_removes_nothing(kit: Kit) -> None:
    before = absence_ids(kit)
    absences = [kit.absence("a-1", 1001, "vac", 3, 5), kit.absence("a-2", 1011, "vac", 9, 9)]
    kit.run(kit.singer(kit.demo_employees(), absences, version=1))
    kit.run(kit.singer(kit.demo_employees(), absences[:1]))
    assert len(created(kit, "1011", before)) == 1


def test_absences_wait_for_their_employee_in_the_same_run(kit: Kit) -> None:
    before = absence_ids(kit)
    # tap-personio sends absences before employees; David (1004) is created in this run.
    kit.run(kit.singer(kit.demo_employees(), [kit.absence("a-1", 1004, "sick", -2, -1)]))
    (sick,) = created(kit, "1004", before)
    assert kit.type_name(sick["absence_type_id"]) == "Sick leave"


def test_absences_are_ignored_when_staffomatic_is_the_source(kit: Kit) -> None:
    before = absence_ids(kit)
    result = kit.run(
        kit.singer(kit.demo_employees(), [kit.absence("a-1", 1001, "vac", 3, 5)], version=1),
        absence_source="staffomatic",
    )
    assert absence_ids(kit) == before
    assert result.requests["by_endpoint"].get("GET /v3/{account}/absences.json") is None


def test_wrong_absence_source_stops_with_one_sentence(kit: Kit) -> None:
    message = kit.fails(kit.singer([]), absence_source="both")
    assert message.startswith("absence_source is 'both'; set it to personio or staffomatic")


@pytest.mark.parametrize("kind", ["vac", "sick"])
def test_open_ended_absence_runs_to_the_end_of_the_window(kit: Kit, kind: str) -> None:
    before = absence_ids(kit)
    record = kit.absence("o-1", 1001, kind, 2, 2)
    record["ends_at"] = None
    kit.run(kit.singer(kit.demo_employees(), [record]), absence_window_future_days=100)
    (open_ended,) = created(kit, "1001", before)
    assert datetime.fromisoformat(open_ended["ends_at"]) == local(kit, 100, time(23, 59, 59))


def test_absence_of_a_linked_employee_is_written_before_the_employees_stream_arrives(
    kit: Kit,
) -> None:
    absences = [
        kit.absence("e-1", 1001, "vac", 3, 5),  # Anna: her user carries custom_id 1001
        kit.absence("e-2", 1004, "vac", 6, 7),  # David: his user is created in this run
    ]
    kit.run(kit.singer(kit.demo_employees(), absences, version=1))

    with kit.ledger() as ledger:
        run = ledger.runs(limit=1)[0]
        order = [(a.entity, a.source_id, a.action) for a in ledger.actions(run.id)]
    first_employee = next(i for i, (entity, _, _) in enumerate(order) if entity == "employee")
    assert order.index(("absence", "e-1", "create")) < first_employee
    assert order.index(("employee", "1004", "create")) < order.index(("absence", "e-2", "create"))
    assert len(kit.absences_of("1001")) >= 1
    assert len(kit.absences_of("1004")) == 1


def test_the_same_absence_twice_in_one_stream_is_one_linked_absence(kit: Kit) -> None:
    before = absence_ids(kit)
    twice = [kit.absence("a-1", 1001, "vac", 3, 5), kit.absence("a-1", 1001, "vac", 3, 5)]
    kit.run(kit.singer(kit.demo_employees(), twice))
    (vacation,) = created(kit, "1001", before)
    with kit.ledger() as ledger:
        assert ledger.links("personio", "absence")["a-1"].dest_id == str(vacation["id"])
    assert kit.run(kit.singer(kit.demo_employees(), twice)).writes == 0


def test_an_older_version_after_a_newer_one_leaves_the_newer_in_staffomatic(kit: Kit) -> None:
    before = absence_ids(kit)
    newer = {**kit.absence("a-1", 1001, "vac", 3, 7), "updated_at": "2026-01-02T09:00:00+00:00"}
    older = kit.absence("a-1", 1001, "vac", 3, 5)  # updated 2026-01-01
    kit.run(kit.singer(kit.demo_employees(), [newer, older]))
    (vacation,) = created(kit, "1001", before)
    assert datetime.fromisoformat(vacation["ends_at"]) == local(kit, 7, time(23, 59, 59))
