"""Employees -> users against the Staffomatic emulator: each rule asserts the resulting state."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from sandbox import roster

Kit = Any  # the conftest's Kit (fixtures cannot be imported in importlib mode)


def test_first_sync_links_by_custom_id_then_email_and_creates_the_rest(kit: Kit) -> None:
    before = {u["id"]: u for u in kit.state()["users"]}
    kit.run(kit.singer(kit.demo_employees()))

    anna = kit.user("1001")
    assert anna is not None
    assert anna["id"] in before
    ben = kit.user("1002")
    assert ben is not None
    assert ben["id"] in before
    clara = kit.user("1003")
    assert clara is not None
    assert clara["id"] in before
    assert clara["email"] == f"Clara.Weber@{roster.DOMAIN.title()}"
    david = kit.user("1004")
    assert david is not None
    assert david["id"] not in before
    assert (david["first_name"], david["last_name"]) == ("David", "Fischer")
    assert david["email"] == "david.fischer@demo-gastro.example"
    assert kit.location_name(david["location_ids"][0]) == "Berlin"
    assert kit.department_names(david) == {"Bar"}
    marie = kit.user("1013")
    assert marie is not None
    assert kit.location_name(marie["location_ids"][0]) == "Hamburg"
    assert kit.department_names(marie) == {"Kitchen"}


def test_employee_without_email_and_ambiguous_namesake_are_reported_not_created(kit: Kit) -> None:
    users_before = len(kit.state()["users"])
    kit.run(kit.singer(kit.demo_employees()))

    assert kit.user("1005") is None  # Eva Wagner: no e-mail in Personio
    assert kit.user("1010") is None  # Jonas Richter: a user without e-mail has his name
    jonas = [u for u in kit.state()["users"] if u["last_name"] == "Richter"]
    assert len(jonas) == 1
    assert not jonas[0]["email"]
    assert jonas[0]["custom_id"] is None
    xaver = kit.user_by_email("xaver.unbekannt@demo-gastro.example")
    assert xaver is not None
    assert xaver["custom_id"] is None
    created = len(roster.EMPLOYEES) - 2 - sum(1 for p in roster.EMPLOYEES if p.staffomatic_email)
    assert len(kit.state()["users"]) == users_before + created

    with kit.ledger() as ledger:
        run = ledger.runs(limit=1)[0]
        skips = {a.source_id: a.reason for a in ledger.actions(run.id, only=["skip"])}
    assert "no e-mail" in skips["1005"]
    assert "ambiguous" in skips["1010"]
    assert "Richter" not in skips["1010"]


def test_two_users_with_the_same_email_are_ambiguous_and_not_merged(kit: Kit) -> None:
    state = kit.state()
    ben = next(u for u in state["users"] if u["last_name"] == "Müller")  # 1002, not linked
    state["users"].append({**ben, "id": 299999, "email": ben["email"].upper()})
    pid = 1002
    kit.run(kit.singer([kit.employee(kit.person(pid))]))

    assert kit.user(str(pid)) is None
    with kit.ledger() as ledger:
        run = ledger.runs(limit=1)[0]
        (skip,) = ledger.actions(run.id, only=["skip"])
    assert skip.source_id == str(pid)
    assert "share the employee's e-mail" in skip.reason


def test_owned_fields_follow_personio_and_other_fields_are_left_alone(kit: Kit) -> None:
    kit.run(kit.singer(kit.demo_employees()))
    ben = kit.user("1002")
    assert ben is not None
    assert ben["max_hours_per_month"] == 130  # 30 h/week x 52 / 12 = 130
    assert kit.user("1012")["max_hours_per_month"] == 167  # 38.5 -> 166.8
    assert kit.user("1020")["max_vacation_days"] == 30
    ben["phone_number_mobile"] = "0170 1234"  # set by hand in Staffomatic

    changed = kit.demo_employees(
        **{"1002": {"email": "ben.mueller@new.example", "weekly_working_hours": 20}}
    )
    result = kit.run(kit.singer(changed))

    ben = kit.user("1002")
    assert ben is not None
    assert ben["email"] == "ben.mueller@new.example"
    assert ben["max_hours_per_month"] == 87
    assert ben["phone_number_mobile"] == "0170 1234"
    assert result.writes == 1


def test_sync_fields_switch_off_hours_vacation_and_departments(kit: Kit) -> None:
    kit.run(kit.singer(kit.demo_employees()), sync_fields=[])
    david = kit.user("1004")
    assert david is not None
    assert david["max_hours_per_month"] is None
    assert david["max_vacation_days"] is None
    assert david["department_ids"] == []


def test_department_from_team_through_department_map(kit: Kit) -> None:
    kit.run(
        kit.singer(kit.demo_employees()),
        department_source="team",
        department_map={"Early shift": "Kitchen", "Late shift": "Service"},
    )
    rosa = kit.user("1016")  # team Early shift, Berlin
    assert rosa is not None
    assert kit.department_names(rosa) == {"Kitchen"}
    ben = kit.user("1002")  # team Late shift; his Service department stays (same one)
    assert ben is not None
    assert kit.department_names(ben) == {"Service"}


def test_department_change_replaces_only_the_department_the_sync_set(kit: Kit) -> None:
    kit.run(kit.singer(kit.demo_employees()))
    david = kit.user("1004")
    assert david is not None
    bar_and_service = [d["id"] for d in kit.state()["departments"] if d["name"] == "Service"]
    david["department_ids"] = [*david["department_ids"], bar_and_service[0]]  # added by hand
    kit.run(kit.singer(kit.demo_employees(**{"1004": {"department_name": "Kitchen"}})))
    david = kit.user("1004")
    assert david is not None
    assert kit.department_names(david) == {"Kitchen", "Service"}


def test_office_without_location_uses_location_map_or_default_or_is_skipped(kit: Kit) -> None:
    munich = kit.employee(kit.person(1004), office_name="Munich")
    kit.run(kit.singer([munich]))
    assert kit.user("1004") is None
    with kit.ledger() as ledger:
        run = ledger.runs(limit=1)[0]
        (skip,) = ledger.actions(run.id, only=["skip"])
    assert "office 'Munich'" in skip.reason

    kit.run(kit.singer([munich]), location_map={"munich": "Hamburg"})
    david = kit.user("1004")
    assert david is not None
    assert kit.location_name(david["location_ids"][0]) == "Hamburg"

    rosa = kit.employee(kit.person(1016), office_name="Munich")
    berlin = next(loc["id"] for loc in kit.state()["locations"] if loc["name"] == "Berlin")
    kit.run(kit.singer([rosa]), default_location_id=berlin)
    assert kit.user("1016")["location_ids"] == [berlin]


def test_lifecycle_locks_leavers_and_future_hires_and_unlocks_rehires(kit: Kit) -> None:
    kit.run(kit.singer(kit.demo_employees()))
    assert kit.user("1006")["locked_at"] is not None  # hire date ahead
    assert kit.user("1007")["locked_at"] is not None  # last day passed
    assert kit.user("1008")["locked_at"] is not None  # inactive
    assert kit.user("1009")["locked_at"] is None  # on leave: active
    assert kit.user("1019")["locked_at"] is None  # rehired: unlocked
    assert kit.user("1001")["locked_at"] is None

    hired = (kit.today() - timedelta(days=1)).isoformat()
    kit.run(kit.singer(kit.demo_employees(**{"1006": {"hire_date": hired, "status": "active"}})))
    assert kit.user("1006")["locked_at"] is None  # unlocked on hire date


def test_lifecycle_settings_off_leave_locks_alone(kit: Kit) -> None:
    kit.run(
        kit.singer(kit.demo_employees()), lock_before_hire_date=False, lock_after_last_day=False
    )
    assert kit.user("1006")["locked_at"] is None
    assert kit.user("1007")["locked_at"] is None
    assert kit.user("1008")["locked_at"] is None


def test_users_are_never_deleted(kit: Kit) -> None:
    before = {u["id"] for u in kit.state()["users"]}
    kit.run(kit.singer([]))
    kit.run(kit.singer(kit.demo_employees(**{"1001": {"status": "inactive"}})))
    assert before <= {u["id"] for u in kit.state()["users"]}
    assert "DELETE /v3/{account}/locations/{location_id}/users/{id}.json" not in str(kit.requests())


def test_invite_users_sends_the_invitation_once_at_creation(kit: Kit) -> None:
    kit.run(kit.singer(kit.demo_employees()), invite_users=True)
    invited = {i["email"] for i in kit.state()["invitations"]}
    assert "david.fischer@demo-gastro.example" in invited
    assert "anna.schmidt@demo-gastro.example" not in invited  # existing users are not invited
    count = len(kit.state()["invitations"])
    kit.run(kit.singer(kit.demo_employees()), invite_users=True)
    assert len(kit.state()["invitations"]) == count


def test_employee_filtered_by_a_stream_map_is_not_touched(kit: Kit) -> None:
    kit.run(
        kit.singer(kit.demo_employees()),
        stream_maps={"employees": {"__filter__": "shift_planning != False"}},
    )
    assert kit.user("1014") is None  # Olivia Schwarz: shift_planning false
    assert kit.user("1013") is not None
