"""Verify before destroy, Personio to Staffomatic: an absence that vanished from a complete window
read is deleted in Staffomatic only after a read of its Personio period by id proves it gone.

Real HTTP against both emulators: the target writes to the Staffomatic one and reads the
confirmation from the Personio one (``source_*`` settings).
"""

from __future__ import annotations

from typing import Any

import pytest
import vendor_http.personio_client
from sandbox.admin import Admins
from sync_ledger import Ledger

Kit = Any  # the conftest's Kit
AID = "gone-from-personio"


@pytest.fixture
def personio(kit: Kit, admins: Admins, monkeypatch: pytest.MonkeyPatch, no_sleep: list[float]):
    """The Personio admin; the target's Personio client records its waits instead of sleeping."""
    monkeypatch.setattr(vendor_http.personio_client, "_sleep", no_sleep.append)
    yield admins.personio
    admins.personio.clear_faults()


def linked(kit: Kit, aid: str) -> int:
    """Sync one absence of Katharina (1011) with the id ``aid``; its Staffomatic id."""
    kit.run(kit.singer(kit.demo_employees(), [kit.absence(aid, 1011, "vac", 9, 9)], version=1))
    with Ledger(kit.ledger_url) as ledger:
        return int(ledger.links("personio", "absence")[aid].dest_id)


def vanish(kit: Kit, **settings: Any) -> None:
    """A complete window read in which the absence is missing."""
    kit.run(kit.singer(kit.demo_employees(), [], version=2), **settings)


def logged(kit: Kit, aid: str) -> list[tuple[str, str]]:
    """(action, reason) of the absence in the last run."""
    with Ledger(kit.ledger_url) as ledger:
        run = ledger.runs(limit=1)[0]
        return [(a.action, a.reason) for a in ledger.actions(run.id) if a.source_id == aid]


def in_staffomatic(kit: Kit, dest: int) -> bool:
    return dest in {a["id"] for a in kit.state()["absences"]}


def is_linked(kit: Kit, aid: str) -> bool:
    with Ledger(kit.ledger_url) as ledger:
        return aid in ledger.links("personio", "absence")


def seeded_period(personio: Any, status: str | None = None) -> str:
    """An approved period of the Personio seed; ``status`` set on it first when given."""
    state = personio.state()
    period = next(p for p in state["absence_periods"] if p["approval"]["status"] == "APPROVED")
    if status is not None:
        period["approval"] = {"status": status}
        personio.load(state)
    return str(period["id"])


def test_absence_gone_from_personio_is_deleted_after_the_read_confirms_it(
    kit: Kit, personio: Any
) -> None:
    dest = linked(kit, AID)
    personio.restart_counts()
    vanish(kit, **kit.personio_source())
    assert not in_staffomatic(kit, dest)
    [(action, reason)] = logged(kit, AID)
    assert action == "delete"
    assert "confirmed: Personio no longer has" in reason
    assert personio.counts()["GET /v2/absence-periods/{id}"] == 1  # one read per deletion
    assert not is_linked(kit, AID)


def test_absence_rejected_in_personio_is_deleted_after_the_read_confirms_it(
    kit: Kit, personio: Any
) -> None:
    aid = seeded_period(personio, status="REJECTED")
    dest = linked(kit, aid)
    vanish(kit, **kit.personio_source())
    assert not in_staffomatic(kit, dest)
    [(action, reason)] = logged(kit, aid)
    assert action == "delete"
    assert "confirmed: Personio shows" in reason
    assert "rejected" in reason


def test_absence_still_in_personio_but_missed_by_the_read_is_kept(kit: Kit, personio: Any) -> None:
    aid = seeded_period(personio)
    dest = linked(kit, aid)
    vanish(kit, **kit.personio_source())
    assert in_staffomatic(kit, dest)
    [(action, reason)] = logged(kit, aid)
    assert action == "skip"
    assert reason.startswith("not deleted:")
    assert "still exists (status approved)" in reason
    assert "copy is kept" in reason
    assert is_linked(kit, aid)


def test_failed_confirmation_read_deletes_nothing_and_the_next_run_deletes(
    kit: Kit, personio: Any
) -> None:
    dest = linked(kit, AID)
    personio.faults(error_rate=1.0)
    vanish(kit, **kit.personio_source())
    assert in_staffomatic(kit, dest)
    [(action, reason)] = logged(kit, AID)
    assert action == "skip"
    assert "the confirmation read of Personio absence period" in reason
    assert "the next run tries again" in reason
    assert is_linked(kit, AID)

    personio.clear_faults()
    vanish(kit, **kit.personio_source())
    assert not in_staffomatic(kit, dest)
    assert [action for action, _ in logged(kit, AID)] == ["delete"]


def test_without_source_credentials_nothing_is_deleted_and_the_reason_says_what_to_set(
    kit: Kit, personio: Any
) -> None:
    dest = linked(kit, AID)
    personio.restart_counts()
    vanish(kit)
    assert in_staffomatic(kit, dest)
    [(action, reason)] = logged(kit, AID)
    assert action == "skip"
    assert "set source_client_id and source_client_secret" in reason
    assert personio.counts().get("GET /v2/absence-periods/{id}", 0) == 0
    assert is_linked(kit, AID)


def test_unreadable_source_credentials_file_stops_the_run_with_one_sentence(kit: Kit) -> None:
    reason = kit.fails(kit.singer(kit.demo_employees()), source_credentials_file="/nonexistent")
    assert "source_credentials_file /nonexistent cannot be read" in reason


def test_plain_http_source_base_url_off_loopback_stops_the_run(kit: Kit) -> None:
    reason = kit.fails(
        kit.singer(kit.demo_employees()), source_base_url="http://personio.example.com"
    )
    assert "source_base_url" in reason
    assert "https" in reason


GONE_AT = "2026-01-01T00:00:00+00:00"


def test_absence_read_by_id_and_gone_is_deleted_after_the_read_confirms_it(
    kit: Kit, personio: Any
) -> None:
    """tap-personio's ``only_ids`` read sends a period Personio no longer has as its id with
    ``_sdc_deleted_at``; no ACTIVATE_VERSION frames it."""
    dest = linked(kit, AID)
    personio.restart_counts()
    gone = [{"id": AID, "_sdc_deleted_at": GONE_AT}]
    kit.run(kit.singer(absences=gone), **kit.personio_source())
    assert not in_staffomatic(kit, dest)
    [(action, reason)] = logged(kit, AID)
    assert action == "delete"
    assert "confirmed: Personio no longer has" in reason
    assert personio.counts()["GET /v2/absence-periods/{id}"] == 1
    assert not is_linked(kit, AID)


def test_absence_read_by_id_as_gone_but_still_in_personio_is_kept(kit: Kit, personio: Any) -> None:
    aid = seeded_period(personio)
    dest = linked(kit, aid)
    gone = [{"id": aid, "_sdc_deleted_at": GONE_AT}]
    kit.run(kit.singer(absences=gone), **kit.personio_source())
    assert in_staffomatic(kit, dest)
    [(action, reason)] = logged(kit, aid)
    assert action == "skip"
    assert "still exists" in reason
    assert is_linked(kit, aid)


def test_employee_read_by_id_as_gone_never_deletes_or_changes_the_user(
    kit: Kit, personio: Any
) -> None:
    kit.run(kit.singer(kit.demo_employees()))
    before = kit.state()["users"]
    result = kit.run(kit.singer([{"id": 1011, "_sdc_deleted_at": GONE_AT}]))
    assert result.writes == 0
    assert kit.state()["users"] == before
    [(action, reason)] = logged(kit, "1011")
    assert action == "skip"
    assert "users are never deleted" in reason
