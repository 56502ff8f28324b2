"""Every action the target records in the ledger names its rule, with ids and dates only."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from sandbox import roster

Kit = Any  # the conftest's Kit


def personal_words() -> set[str]:
    """Names and e-mails of the roster: none of them may appear in a ledger reason."""
    words: set[str] = set()
    for person in roster.PEOPLE:
        words |= {person.first_name.lower(), person.last_name.lower()}
        words |= {e.lower() for e in (person.personio_email, person.staffomatic_email) if e}
    return words


def test_every_recorded_action_has_a_reason_naming_its_rule_without_personal_data(
    kit: Kit,
) -> None:
    today = kit.today()
    employees = kit.demo_employees(
        **{"1001": {"last_name": "Schmidt-Neu", "email": "anna.neu@demo-gastro.example"}}
    )
    absences = [
        kit.absence("r-1", 1001, "vac", 3, 5, "APPROVED"),
        kit.absence("r-2", 1004, "train", 8, 8, "PENDING"),
    ]
    kit.run(kit.singer(employees, absences, version=1))

    with kit.ledger() as ledger:
        run = ledger.runs(limit=1)[0]
        logged = ledger.actions(run.id)
    reasons = {(a.entity, a.source_id, a.action): a.reason for a in logged}
    felix = kit.user("1006")
    assert felix is not None
    hire = today + timedelta(days=14)
    assert reasons["employee", "1006", "create"] == (
        f"new employee in location {felix['location_ids'][0]}"
    )
    assert reasons["employee", "1006", "lock"] == f"hire date {hire} in the future"
    greta_last_day = today - timedelta(days=10)
    assert reasons["employee", "1007", "lock"] == f"last working day {greta_last_day} passed"
    assert reasons["employee", "1008", "lock"] == "status inactive"
    assert reasons["employee", "1019", "unlock"] == "active again in Personio"
    assert reasons["employee", "1001", "update"] == "fields changed: email, last_name"
    assert reasons["absence", "r-1", "create"] == "new absence"
    assert reasons["absence", "r-1", "approve"] == "approved in Personio"
    assert reasons["absence", "r-2", "create"] == "new absence"

    assert logged
    assert all(a.reason for a in logged), [a for a in logged if not a.reason]
    words = personal_words() | {"schmidt-neu", "anna.neu@demo-gastro.example"}
    for action in logged:
        assert not {w for w in words if w in action.reason.lower()}, action


def test_a_dry_run_plan_carries_the_same_reasons(kit: Kit) -> None:
    kit.run(kit.singer(kit.demo_employees()), dry_run=True)

    with kit.ledger() as ledger:
        run = ledger.runs(limit=1)[0]
        logged = ledger.actions(run.id)
    assert run.dry_run
    locks = {a.source_id: a.reason for a in logged if a.action in ("lock", "unlock")}
    assert locks["1008"] == "status inactive"
    assert locks["1019"] == "active again in Personio"
    assert all(a.reason for a in logged)
