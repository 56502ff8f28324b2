"""Staffomatic absences into Personio absence periods, asserted on the sandbox's Personio state."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.target_personio.helpers import (
    ANNA,
    KATHARINA,
    SEBASTIAN,
    Harness,
    absence,
    singer_input,
    sqlite_url,
)

VACATION = absence(1, ANNA, 71, "2024-11-04 00:00", "2024-11-06 23:59", "approved")
COURSE = absence(2, KATHARINA, 73, "2024-11-07 09:00", "2024-11-07 13:00", "approved", False)
PENDING = absence(3, SEBASTIAN, 71, "2024-11-11 00:00", "2024-11-12 23:59", "new")
SABBATICAL = absence(4, ANNA, 74, "2024-12-02 00:00", "2024-12-20 23:59", "approved")
SABBATICAL_2 = absence(5, KATHARINA, 74, "2024-12-02 00:00", "2024-12-20 23:59", "approved")

STAFFOMATIC = {"absence_source": "staffomatic"}


@pytest.fixture
def h(harness: Harness) -> Harness:
    state = harness.state()
    state["absence_periods"] = []
    harness.load(state)
    return harness


def edges(period: dict) -> tuple[str, str, str, str]:
    return (
        period["starts_from"]["date_time"],
        period["starts_from"]["type"],
        period["ends_at"]["date_time"],
        period["ends_at"]["type"],
    )


def test_absences_are_ignored_with_one_info_line_when_personio_is_the_source(
    h: Harness, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level("INFO")
    h.run(singer_input(absences=[VACATION, COURSE]))
    assert h.writes() == 0
    lines = [r for r in caplog.records if "absence_source is 'personio'" in r.getMessage()]
    assert len(lines) == 1


def test_approved_all_day_and_part_day_absences_become_day_and_half_day_periods(
    h: Harness,
) -> None:
    h.run(singer_input(absences=[VACATION, COURSE, PENDING]), **STAFFOMATIC)
    [vacation] = h.absences("1001")
    assert edges(vacation) == (
        "2024-11-04T00:00:00",
        "FIRST_HALF",
        "2024-11-06T00:00:00",
        "SECOND_HALF",
    )
    assert vacation["absence_type"]["id"] == h.type_id("Vacation")
    assert vacation["approval"]["status"] == "APPROVED"
    [course] = h.absences("1011")
    assert edges(course) == (
        "2024-11-07T00:00:00",
        "FIRST_HALF",
        "2024-11-07T00:00:00",
        "FIRST_HALF",
    )
    assert course["absence_type"]["id"] == h.type_id("Training")  # names differ only in case
    assert h.absences("1017") == []  # new, and only approved ones are sent


def test_without_only_approved_new_absences_go_pending_and_are_approved_later(
    h: Harness,
) -> None:
    h.run(singer_input(absences=[PENDING]), only_approved_absences=False, **STAFFOMATIC)
    [period] = h.absences("1017")
    assert period["approval"]["status"] == "PENDING"
    h.reset_counts()
    h.run(
        singer_input(absences=[dict(PENDING, state="approved")]),
        only_approved_absences=False,
        **STAFFOMATIC,
    )
    [again] = h.absences("1017")
    assert again["approval"]["status"] == "APPROVED"
    assert h.writes() == 2  # deleted and created again approved (test_absence_approval.py)
    ledger = h.ledger()
    assert ledger.runs()[0].counts == {"absences": {"approve": 1}}


def test_absence_declined_after_approval_deletes_its_personio_period(h: Harness) -> None:
    h.run(singer_input(absences=[VACATION]), **STAFFOMATIC)
    assert len(h.absences("1001")) == 1
    h.run(singer_input(absences=[dict(VACATION, state="declined")], full=False), **STAFFOMATIC)
    assert h.absences("1001") == []


def test_changed_approved_absence_is_deleted_and_created_again_approved(h: Harness) -> None:
    h.run(singer_input(absences=[VACATION]), **STAFFOMATIC)
    [before] = h.absences("1001")
    longer = dict(VACATION, ends_at="2024-11-08T23:59:00+01:00")
    counts = h.requests()["by_endpoint"]  # not restarted: that would restart the ids
    h.run(singer_input(absences=[longer]), **STAFFOMATIC)
    [after] = h.absences("1001")
    assert after["id"] != before["id"]  # skip_approval is documented on create only
    assert after["approval"]["status"] == "APPROVED"
    assert edges(after)[2] == "2024-11-08T00:00:00"
    now = h.requests()["by_endpoint"]
    assert "PATCH /v2/absence-periods/{id}" not in now
    assert now["DELETE /v2/absence-periods/{id}"] == 1 + counts.get(
        "DELETE /v2/absence-periods/{id}", 0
    )
    assert now["POST /v2/absence-periods"] == 1 + counts["POST /v2/absence-periods"]


def test_unmatched_type_is_held_back_and_named_once_with_its_count(
    h: Harness, caplog: pytest.LogCaptureFixture
) -> None:
    h.run(singer_input(absences=[SABBATICAL, SABBATICAL_2, VACATION]), **STAFFOMATIC)
    assert [p["absence_type"]["id"] for p in h.absences("1001")] == [h.type_id("Vacation")]
    named = [r.getMessage() for r in caplog.records if "'Sabbatical'" in r.getMessage()]
    assert len(named) == 1
    assert "2 absences held back" in named[0]


def test_absence_type_map_sends_a_differently_named_type(h: Harness) -> None:
    h.run(
        singer_input(absences=[SABBATICAL]),
        absence_type_map={"Sabbatical": "Parental leave"},
        **STAFFOMATIC,
    )
    [period] = h.absences("1001")
    assert period["absence_type"]["id"] == h.type_id("Parental leave")


def test_absence_rerun_writes_nothing_and_lost_ledger_relinks(h: Harness, tmp_path: Path) -> None:
    text = singer_input(absences=[VACATION, COURSE])
    h.run(text, **STAFFOMATIC)
    h.reset_counts()
    h.run(text, **STAFFOMATIC)
    assert h.writes() == 0
    h.ledger_url = sqlite_url(tmp_path, "lost.db")
    h.run(text, **STAFFOMATIC)
    assert h.writes() == 0
    assert len(h.absences("1001")) == 1
    assert set(h.ledger().links("staffomatic", "absences")) == {"1", "2"}


def test_full_sync_removes_absences_that_vanished_from_staffomatic(h: Harness) -> None:
    h.run(singer_input(absences=[VACATION, COURSE]), **STAFFOMATIC)
    # absence 1 is not in the Staffomatic emulator: the confirmation read answers 404
    h.run(singer_input(absences=[COURSE]), **STAFFOMATIC, **h.staffomatic_source())
    assert h.absences("1001") == []
    assert len(h.absences("1011")) == 1


def test_overlapping_absence_is_refused_queued_and_the_others_go_on(h: Harness) -> None:
    clash = absence(6, ANNA, 72, "2024-11-05 00:00", "2024-11-05 23:59", "approved")
    h.run(singer_input(absences=[VACATION, clash, COURSE]), **STAFFOMATIC)
    assert len(h.absences("1001")) == 1
    assert len(h.absences("1011")) == 1
    retries = h.ledger().retries("staffomatic", "absences")
    assert "HTTP 409" in retries["6"].reason
