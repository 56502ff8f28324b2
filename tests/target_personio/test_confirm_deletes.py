"""Verify before destroy, Staffomatic to Personio: the Personio periods of a timer or absence
that vanished from a complete read, or of a timer the read showed no longer eligible, are
deleted only after a read of that Staffomatic record by id confirms it.

Real HTTP against both emulators: the target writes to the Personio one and reads the
confirmation from the Staffomatic one (``source_*`` settings).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
import vendor_http.staffomatic_client
from sandbox.admin import Admin, Admins
from sync_ledger import Ledger

from tests.target_personio.helpers import ANNA, Harness, absence, singer_input, timer

STAFFOMATIC = {"absence_source": "staffomatic"}
SHIFT = ("2024-10-29 06:00", "2024-10-29 14:00")
VACATION = ("2024-11-04 00:00", "2024-11-06 23:59")


@pytest.fixture
def h(harness: Harness) -> Harness:
    state = harness.state()
    state["absence_periods"] = []
    harness.load(state)
    return harness


@pytest.fixture
def staffomatic(
    admins: Admins, monkeypatch: pytest.MonkeyPatch, no_sleep: list[float]
) -> Iterator[Admin]:
    """The Staffomatic admin; the target's Staffomatic client records its waits instead."""
    monkeypatch.setattr(vendor_http.staffomatic_client, "_sleep", no_sleep.append)
    yield admins.staffomatic
    admins.staffomatic.clear_faults()


def held_in_staffomatic(admin: Admin, collection: str, **fields: Any) -> int:
    """A record of the Staffomatic seed changed to ``fields``; its id."""
    state = admin.state()
    record = state[collection][0]
    record.update(fields)
    admin.load(state)
    return int(record["id"])


def stamp(text: str) -> str:
    return timer(0, ANNA, text, None)["starts_at"]


def held_timer(admin: Admin, state: str) -> int:
    return held_in_staffomatic(
        admin, "work_timers", state=state, starts_at=stamp(SHIFT[0]), ends_at=stamp(SHIFT[1])
    )


def held_absence(admin: Admin, state: str) -> int:
    return held_in_staffomatic(admin, "absences", state=state)


def logged(h: Harness, entity: str, sid: int) -> list[tuple[str, str]]:
    """(action, reason) of one record in the last run."""
    with Ledger(h.ledger_url) as ledger:
        run = ledger.runs(limit=1)[0]
        return [
            (a.action, a.reason)
            for a in ledger.actions(run.id)
            if a.entity == entity and a.source_id == str(sid)
        ]


def is_linked(h: Harness, entity: str, sid: int) -> bool:
    with Ledger(h.ledger_url) as ledger:
        return str(sid) in ledger.links("staffomatic", entity)


# ---- timers ----------------------------------------------------------------------------------


def shift(tid: int, state: str = "verified") -> dict[str, Any]:
    return timer(tid, ANNA, *SHIFT, state=state)


def test_deleted_timer_loses_its_periods_once_staffomatic_confirms(
    h: Harness, staffomatic: Admin
) -> None:
    h.run(singer_input([shift(7)]))
    assert len(h.attendances("1001")) == 1
    staffomatic.restart_counts()
    h.run(singer_input([]), **h.staffomatic_source())
    assert h.attendances("1001") == []
    [(action, reason)] = logged(h, "work_timers", 7)
    assert action == "delete"
    assert "confirmed: Staffomatic no longer has Staffomatic work timer 7" in reason
    assert staffomatic.counts()["GET /v3/{account}/work_timers/{id}.json"] == 1


def test_no_longer_eligible_timer_loses_its_periods_once_staffomatic_confirms(
    h: Harness, staffomatic: Admin
) -> None:
    tid = held_timer(staffomatic, "stopped")
    h.run(singer_input([shift(tid)]))
    assert len(h.attendances("1001")) == 1
    h.run(singer_input([shift(tid, "stopped")], full=False), **h.staffomatic_source())
    assert h.attendances("1001") == []
    [(action, reason)] = logged(h, "work_timers", tid)
    assert action == "delete"
    assert "confirmed by Staffomatic: the timer is not verified" in reason


@pytest.mark.parametrize("how", ["vanished", "no longer eligible"])
def test_timer_still_valid_in_staffomatic_keeps_its_periods(
    h: Harness, staffomatic: Admin, how: str
) -> None:
    tid = held_timer(staffomatic, "verified")
    h.run(singer_input([shift(tid)]))
    if how == "vanished":
        h.run(singer_input([]), **h.staffomatic_source())
    else:  # the read showed it unverified; Staffomatic itself says verified
        h.run(singer_input([shift(tid, "stopped")], full=False), **h.staffomatic_source())
    assert len(h.attendances("1001")) == 1
    [(action, reason)] = logged(h, "work_timers", tid)
    assert action == "skip"
    assert "still exists (eligible)" in reason
    assert "copy is kept" in reason
    assert is_linked(h, "work_timers", tid)


def test_failed_timer_confirmation_deletes_nothing_and_the_next_run_deletes(
    h: Harness, staffomatic: Admin
) -> None:
    h.run(singer_input([shift(7)]))
    staffomatic.faults(error_rate=1.0)
    h.run(singer_input([]), **h.staffomatic_source())
    assert len(h.attendances("1001")) == 1
    [(action, reason)] = logged(h, "work_timers", 7)
    assert action == "skip"
    assert "the confirmation read of Staffomatic work timer 7 failed" in reason
    assert "the next run tries again" in reason
    staffomatic.clear_faults()
    h.run(singer_input([]), **h.staffomatic_source())
    assert h.attendances("1001") == []
    assert [action for action, _ in logged(h, "work_timers", 7)] == ["delete"]


@pytest.mark.parametrize("how", ["vanished", "no longer eligible"])
def test_without_source_credentials_no_timer_period_is_deleted(
    h: Harness, staffomatic: Admin, how: str
) -> None:
    h.run(singer_input([shift(7)]))
    staffomatic.restart_counts()
    text = singer_input([]) if how == "vanished" else singer_input([shift(7, "running")])
    h.run(text)
    assert len(h.attendances("1001")) == 1
    [(action, reason)] = logged(h, "work_timers", 7)
    assert action == "skip"
    assert "set source_account and source_api_token" in reason
    assert not any("work_timers/{id}" in key for key in staffomatic.counts())


# ---- absences --------------------------------------------------------------------------------


def vacation(aid: int, state: str = "approved") -> dict[str, Any]:
    return absence(aid, ANNA, 71, *VACATION, state)


def test_deleted_absence_loses_its_period_once_staffomatic_confirms(
    h: Harness, staffomatic: Admin
) -> None:
    h.run(singer_input(absences=[vacation(8)]), **STAFFOMATIC)
    assert len(h.absences("1001")) == 1
    h.run(singer_input(absences=[]), **STAFFOMATIC, **h.staffomatic_source())
    assert h.absences("1001") == []
    [(action, reason)] = logged(h, "absences", 8)
    assert action == "delete"
    assert "confirmed: Staffomatic no longer has Staffomatic absence 8" in reason


def test_vanished_absence_declined_in_staffomatic_loses_its_period(
    h: Harness, staffomatic: Admin
) -> None:
    aid = held_absence(staffomatic, "declined")
    h.run(singer_input(absences=[vacation(aid)]), **STAFFOMATIC)
    h.run(singer_input(absences=[]), **STAFFOMATIC, **h.staffomatic_source())
    assert h.absences("1001") == []
    [(action, reason)] = logged(h, "absences", aid)
    assert action == "delete"
    assert "confirmed by Staffomatic: the absence was declined" in reason


def test_absence_still_approved_in_staffomatic_keeps_its_period(
    h: Harness, staffomatic: Admin
) -> None:
    aid = held_absence(staffomatic, "approved")
    h.run(singer_input(absences=[vacation(aid)]), **STAFFOMATIC)
    h.run(singer_input(absences=[]), **STAFFOMATIC, **h.staffomatic_source())
    assert len(h.absences("1001")) == 1
    [(action, reason)] = logged(h, "absences", aid)
    assert action == "skip"
    assert "still exists (approved)" in reason
    assert is_linked(h, "absences", aid)


def test_absence_in_a_state_staffomatic_is_not_known_to_have_keeps_its_period(
    h: Harness, staffomatic: Admin
) -> None:
    # the states on record are new, approved and declined; the full list is not documented
    aid = held_absence(staffomatic, "cancel_requested")
    h.run(singer_input(absences=[vacation(aid)]), **STAFFOMATIC)
    # vanished from the read: the confirmation read finds the odd state, no evidence
    h.run(singer_input(absences=[]), **STAFFOMATIC, **h.staffomatic_source())
    assert len(h.absences("1001")) == 1
    [(action, reason)] = logged(h, "absences", aid)
    assert action == "skip"
    assert "cancel_requested, a state Staffomatic is not known to have" in reason
    # read in that state: kept and linked as well
    h.run(singer_input(absences=[vacation(aid, "cancel_requested")]), **STAFFOMATIC)
    assert len(h.absences("1001")) == 1
    [(action, reason)] = logged(h, "absences", aid)
    assert action == "skip"
    assert "its Personio period is kept" in reason
    assert is_linked(h, "absences", aid)


def test_failed_absence_confirmation_deletes_nothing_and_the_next_run_deletes(
    h: Harness, staffomatic: Admin
) -> None:
    h.run(singer_input(absences=[vacation(8)]), **STAFFOMATIC)
    staffomatic.faults(error_rate=1.0)
    h.run(singer_input(absences=[]), **STAFFOMATIC, **h.staffomatic_source())
    assert len(h.absences("1001")) == 1
    [(action, reason)] = logged(h, "absences", 8)
    assert action == "skip"
    assert "failed" in reason
    assert "next run tries again" in reason
    staffomatic.clear_faults()
    h.run(singer_input(absences=[]), **STAFFOMATIC, **h.staffomatic_source())
    assert h.absences("1001") == []


def test_without_source_credentials_no_absence_period_is_deleted(
    h: Harness, staffomatic: Admin
) -> None:
    h.run(singer_input(absences=[vacation(8)]), **STAFFOMATIC)
    h.run(singer_input(absences=[]), **STAFFOMATIC)
    assert len(h.absences("1001")) == 1
    [(action, reason)] = logged(h, "absences", 8)
    assert action == "skip"
    assert "set source_account" in reason
