"""An absence sent to Personio pending and approved later in Staffomatic, under both answers of
the sandbox's undocumented approving PATCH (switch ``absence_patch_approval``): the period is
deleted and created again with ``skip_approval`` (documented calls only), and a run stopped or
refused between the two recovers on the next run without a duplicate."""

from __future__ import annotations

from typing import Any

import pytest
from target_personio.destination import PersonioDestination

from tests.target_personio.helpers import Harness, singer_input
from tests.target_personio.test_absences import PENDING, STAFFOMATIC

APPROVED = dict(PENDING, state="approved")
SETTINGS = {"only_approved_absences": False, **STAFFOMATIC}
PATCH_ANSWERS = ["approves", "keeps_status"]


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


def assert_one_approved_and_linked(h: Harness, pending_id: str | None) -> None:
    """One period, approved and linked; a new one unless ``pending_id`` is None (the sandbox
    was loaded in between, which restarts its ids)."""
    [period] = periods(h)
    assert period["approval"]["status"] == "APPROVED"
    assert pending_id is None or period["id"] != pending_id
    links = h.ledger().links("staffomatic", "absences")
    assert links["3"].dest_id == period["id"]
    assert links["3"].data["approved"] is True
    assert h.ledger().retries("staffomatic", "absences") == {}
    h.reset_counts()
    h.run(singer_input(absences=[APPROVED]), **SETTINGS)
    assert h.writes() == 0


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
def test_a_run_killed_between_delete_and_create_recovers_without_a_duplicate(
    h: Harness, monkeypatch: pytest.MonkeyPatch, answer: str, after: str
) -> None:
    pending_id = send_pending(h, answer)
    send = PersonioDestination.send

    def killed_after(self: PersonioDestination, op: Any, path: str) -> Any:
        answer = send(self, op, path)
        if op.method == after and path.startswith("/v2/absence-periods"):
            raise Killed(f"killed after {after} {path}")
        return answer

    monkeypatch.setattr(PersonioDestination, "send", killed_after)
    with pytest.raises(Killed):
        h.run(singer_input(absences=[APPROVED]), **SETTINGS)
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
    h.run(singer_input(absences=[APPROVED]), **SETTINGS)
    created = writes_since(h, before).get("POST /v2/absence-periods", 0)
    assert created == (1 if after == "DELETE" else 0)  # killed after the POST: found, linked
    assert_one_approved_and_linked(h, pending_id)


@pytest.fixture
def h(harness: Harness) -> Harness:
    state = harness.state()
    state["absence_periods"] = []
    harness.load(state)
    return harness
