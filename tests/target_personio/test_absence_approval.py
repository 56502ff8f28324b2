"""An absence sent to Personio pending and approved later in Staffomatic, and an approved one
that changed, under every answer of the sandbox to the undocumented ``skip_approval`` on a PATCH
(switch ``absence_patch_approval``: it approves, it keeps the status, or it is ignored and a
changed period needs approval again): the period is deleted and created again with
``skip_approval`` (documented calls only), and a run stopped or refused between the two
recovers on the next run without a duplicate. A PATCH (of an absence sent pending) never
carries ``skip_approval``; where it may leave the period pending, the run log says so."""

from __future__ import annotations

from typing import Any

import pytest
from target_personio.destination import PersonioDestination

from tests.target_personio.helpers import Harness, singer_input
from tests.target_personio.test_absences import PENDING, STAFFOMATIC

APPROVED = dict(PENDING, state="approved")
LONGER = dict(APPROVED, ends_at="2024-11-14T23:59:00+01:00")
SETTINGS = {"only_approved_absences": False, **STAFFOMATIC}
PATCH_ANSWERS = ["approves", "keeps_status", "revalidates"]


class Killed(BaseException):
    """The process stopping at a given request (as a kill would)."""


def periods(h: Harness) -> list[dict[str, Any]]:
    return h.absences("1017")


def send_pending(h: Harness, answer: str) -> str:
    h.admin.variants(absence_patch_approval=answer)
    h.run(singer_input(absences=[PENDING]), **SETTINGS)
    [period] = periods(h)
    assert period["approval"]["status"] == "PENDING"
    return str(period["id"])


def writes_since(h: Harness, before: dict[str, int]) -> dict[str, int]:
    """Write requests by endpoint since ``before`` (``h.requests()["by_endpoint"]`` then); the
    counts are not restarted, as a restart reloads the sandbox, which forgets issued ids."""
    now = h.requests()["by_endpoint"]
    return {
        key: now[key] - before.get(key, 0)
        for key in now
        if key.split()[0] in ("POST", "PATCH", "DELETE")
        and "/auth" not in key
        and now[key] != before.get(key, 0)
    }


def assert_one_approved_and_linked(
    h: Harness, pending_id: str | None, record: dict[str, Any] = APPROVED
) -> dict[str, Any]:
    """One period, approved and linked; a new one unless ``pending_id`` is None (the sandbox
    was loaded in between, which restarts its ids); a run of ``record`` again writes nothing."""
    [period] = periods(h)
    assert period["approval"]["status"] == "APPROVED"
    assert pending_id is None or period["id"] != pending_id
    links = h.ledger().links("staffomatic", "absences")
    assert links["3"].dest_id == period["id"]
    assert links["3"].data["approved"] is True
    assert h.ledger().retries("staffomatic", "absences") == {}
    h.reset_counts()
    h.run(singer_input(absences=[record]), **SETTINGS)
    assert h.writes() == 0
    return period


@pytest.mark.parametrize("answer", PATCH_ANSWERS)
def test_an_absence_approved_later_is_deleted_and_created_again_approved(
    h: Harness, answer: str
) -> None:
    pending_id = send_pending(h, answer)
    before = h.requests()["by_endpoint"]
    h.run(singer_input(absences=[APPROVED]), **SETTINGS)
    assert writes_since(h, before) == {
        "DELETE /v2/absence-periods/{id}": 1,
        "POST /v2/absence-periods": 1,
    }
    ledger = h.ledger()
    run = ledger.runs()[0]
    assert run.counts == {"absences": {"approve": 1}}
    [row] = ledger.actions(run.id)
    assert "deleted and created again" in row.reason
    assert_one_approved_and_linked(h, pending_id)


@pytest.mark.parametrize("answer", PATCH_ANSWERS)
def test_with_skip_approval_off_the_absence_stays_pending_and_the_run_log_says_so(
    h: Harness, answer: str
) -> None:
    h.admin.variants(absence_patch_approval=answer)
    h.run(singer_input(absences=[PENDING]), skip_approval=False, **SETTINGS)
    h.run(singer_input(absences=[APPROVED]), skip_approval=False, **SETTINGS)
    [period] = periods(h)
    assert period["approval"]["status"] == "PENDING"
    ledger = h.ledger()
    [row] = ledger.actions(ledger.runs()[0].id)
    assert row.action == "update"
    assert "left pending for approval in Personio" in row.reason


@pytest.mark.parametrize("answer", PATCH_ANSWERS)
def test_a_create_refused_after_the_delete_is_reported_and_done_on_the_next_run(
    h: Harness, answer: str
) -> None:
    pending_id = send_pending(h, answer)
    # an approved day entered by hand in Personio inside the same days blocks the create
    state = h.state()
    [mine] = [p for p in state["absence_periods"] if p["id"] == pending_id]
    day = dict(mine["starts_from"], type="SECOND_HALF")
    blocker = dict(mine, id="hand-made", ends_at=day, approval={"status": "APPROVED"})
    state["absence_periods"].append(blocker)
    h.load(state)
    h.run(singer_input(absences=[APPROVED]), **SETTINGS)
    assert [p["id"] for p in periods(h)] == ["hand-made"]
    retries = h.ledger().retries("staffomatic", "absences")
    assert "HTTP 409" in retries["3"].reason
    state = h.state()
    state["absence_periods"] = [p for p in state["absence_periods"] if p["id"] != "hand-made"]
    h.load(state)
    before = h.requests()["by_endpoint"]
    h.run(singer_input(absences=[APPROVED]), **SETTINGS)
    assert writes_since(h, before) == {
        "DELETE /v2/absence-periods/{id}": 1,  # the deleted period again: 404, done
        "POST /v2/absence-periods": 1,
    }
    assert_one_approved_and_linked(h, None)


@pytest.mark.parametrize("answer", PATCH_ANSWERS)
@pytest.mark.parametrize("after", ["DELETE", "POST"])
@pytest.mark.parametrize("change", ["approved", "changed"])
def test_a_run_killed_between_delete_and_create_recovers_without_a_duplicate(
    h: Harness, monkeypatch: pytest.MonkeyPatch, answer: str, after: str, change: str
) -> None:
    pending_id = send_pending(h, answer)
    record = APPROVED
    if change == "changed":  # approved first, then changed
        h.run(singer_input(absences=[APPROVED]), **SETTINGS)
        [period] = periods(h)
        pending_id, record = str(period["id"]), LONGER
    send = PersonioDestination.send

    def killed_after(self: PersonioDestination, op: Any, path: str) -> Any:
        answer = send(self, op, path)
        if op.method == after and path.startswith("/v2/absence-periods"):
            raise Killed(f"killed after {after} {path}")
        return answer

    monkeypatch.setattr(PersonioDestination, "send", killed_after)
    with pytest.raises(Killed):
        h.run(singer_input(absences=[record]), **SETTINGS)
    monkeypatch.undo()
    assert len(periods(h)) == (0 if after == "DELETE" else 1)
    ledger = h.ledger()
    stopped = ledger.runs()[0]
    assert stopped.status == "failed"
    # the write-ahead record shows the write in flight when the run stopped
    in_flight = "delete" if after == "DELETE" else "create"
    reasons = [a.reason for a in ledger.actions(stopped.id) if a.action == "fail"]
    assert [r.split(":")[0] for r in reasons] == [in_flight]
    before = h.requests()["by_endpoint"]
    h.run(singer_input(absences=[record]), **SETTINGS)
    created = writes_since(h, before).get("POST /v2/absence-periods", 0)
    assert created == (1 if after == "DELETE" else 0)  # killed after the POST: found, linked
    assert_one_approved_and_linked(h, pending_id, record)


@pytest.mark.parametrize("answer", PATCH_ANSWERS)
def test_a_changed_approved_absence_is_deleted_and_created_again_still_approved(
    h: Harness, answer: str
) -> None:
    h.admin.variants(absence_patch_approval=answer)
    h.run(singer_input(absences=[APPROVED]), **SETTINGS)
    [first] = periods(h)
    before = h.requests()["by_endpoint"]
    h.run(singer_input(absences=[LONGER]), **SETTINGS)
    assert writes_since(h, before) == {
        "DELETE /v2/absence-periods/{id}": 1,
        "POST /v2/absence-periods": 1,
    }  # no PATCH: skip_approval is documented on create only
    ledger = h.ledger()
    run = ledger.runs()[0]
    assert run.counts == {"absences": {"update": 1}}
    [row] = ledger.actions(run.id)
    assert "deleted and created again approved" in row.reason
    period = assert_one_approved_and_linked(h, str(first["id"]), LONGER)
    assert period["ends_at"]["date_time"] == "2024-11-14T00:00:00"


@pytest.mark.parametrize("answer", PATCH_ANSWERS)
def test_with_skip_approval_off_a_changed_absence_is_patched_and_the_run_log_says_it_may_be_pending(
    h: Harness, answer: str
) -> None:
    h.admin.variants(absence_patch_approval=answer)
    h.run(singer_input(absences=[APPROVED]), skip_approval=False, **SETTINGS)
    [first] = periods(h)
    # approved by hand in Personio
    state = h.state()
    for item in state["absence_periods"]:
        item["approval"] = {"status": "APPROVED"}
    h.load(state)
    h.run(singer_input(absences=[LONGER]), skip_approval=False, **SETTINGS)
    [period] = periods(h)
    assert period["id"] == first["id"]
    assert period["ends_at"]["date_time"] == "2024-11-14T00:00:00"
    # the sandbox: a changed range needs approval again; a PATCH with skip_approval=true would
    # have approved it ("approves") or kept it approved ("keeps_status")
    assert period["approval"]["status"] == "PENDING"
    ledger = h.ledger()
    [row] = ledger.actions(ledger.runs()[0].id)
    assert row.action == "update"
    assert "may ask for approval of the changed period again" in row.reason


@pytest.fixture
def h(harness: Harness) -> Harness:
    state = harness.state()
    state["absence_periods"] = []
    harness.load(state)
    return harness
