"""target-staffomatic under every value of the Staffomatic switches no vendor document settles.

``user_fields`` (documented users, or the 2014 extras with a writable ``location_ids``),
``create_status`` (201 as documented, 200 as recorded) and ``user_without_email`` (created as
documented, or refused): real runs over loopback against the session's sandbox, asserting what
Staffomatic holds afterwards. The ledger backend plays no part here, so these run on SQLite only.
"""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest

from sandbox import roster

Kit = Any  # the conftest's Kit (fixtures cannot be imported in importlib mode)

EVA = "1005"  # no e-mail in Personio, Hamburg
NOT_CREATED = {EVA, "1010"}  # 1010: a user without e-mail has Jonas Richter's name


@pytest.fixture
def ledger_url(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'sync-ledger.db'}"


def linked(kit: Kit) -> dict[str, dict[str, Any]]:
    users = kit.state()["users"]
    return {str(u["custom_id"]): u for u in users if u.get("custom_id")}


def reasons(kit: Kit, action: str) -> dict[str, str]:
    with kit.ledger() as ledger:
        run = ledger.runs(limit=1)[0]
        return {a.source_id: a.reason for a in ledger.actions(run.id, only=[action])}


@pytest.mark.parametrize("create_status", ["201", "200"])
@pytest.mark.parametrize("user_fields", ["documented", "extended"])
def test_users_and_absences_sync_once_under_every_user_fields_and_create_status(
    kit: Kit, lose_ledger: Any, user_fields: str, create_status: str
) -> None:
    kit.admin.variants(user_fields=user_fields, create_status=create_status)
    employees = kit.demo_employees()
    absences = [kit.absence("p-1", 1004, "vac", 10, 12), kit.absence("p-2", 1013, "sick", 3, 3)]
    first = kit.run(kit.singer(employees, absences, version=1))

    users = linked(kit)
    expected = {str(p.id) for p in roster.EMPLOYEES} - NOT_CREATED
    assert set(users) >= expected
    assert not NOT_CREATED & set(users)
    assert first.writes > 0
    offices = {str(p.id): p.office for p in roster.EMPLOYEES}
    for sid in expected:
        assert kit.location_name(users[sid]["location_ids"][0]) == offices[sid], sid
    in_ten_days = (kit.today() + timedelta(days=10)).isoformat()
    assert [a["starts_at"][:10] for a in kit.absences_of("1004")] == [in_ten_days]
    assert len(kit.absences_of("1013")) == 1

    again = kit.run(kit.singer(employees, absences, version=2))
    assert again.writes == 0  # the look-ups found every user and absence just written

    # A lost ledger and a changed name: re-linked by custom_id, updated under the user's location.
    lose_ledger(kit.ledger_url)
    renamed = kit.demo_employees(**{"1013": {"last_name": "Neumann"}})
    count = len(kit.state()["users"])
    after = kit.run(kit.singer(renamed, absences, version=3))
    assert len(kit.state()["users"]) == count
    assert linked(kit)["1013"]["last_name"] == "Neumann"
    hamburg = users["1013"]["location_ids"][0]
    put = "PUT /v3/{account}/locations/{location_id}/users/{id}.json"
    assert after.requests["by_endpoint"].get(put) == 1, after.requests["by_endpoint"]
    assert after.writes == 1
    assert kit.location_name(hamburg) == "Hamburg"


@pytest.mark.parametrize("user_without_email", ["created", "refused"])
def test_employee_without_email_is_skipped_by_default_under_both_values(
    kit: Kit, user_without_email: str
) -> None:
    kit.admin.variants(user_without_email=user_without_email)
    result = kit.run(kit.singer([kit.employee(kit.person(int(EVA)))]))
    assert result.writes == 0
    assert EVA not in linked(kit)
    assert "create_users_without_email" in reasons(kit, "skip")[EVA]


def test_employee_without_email_is_created_when_allowed_and_staffomatic_takes_it(kit: Kit) -> None:
    kit.admin.variants(user_without_email="created")
    eva = [kit.employee(kit.person(int(EVA)))]
    users_before = len(kit.state()["users"])
    kit.run(kit.singer(eva), create_users_without_email=True, invite_users=True)

    user = linked(kit)[EVA]
    assert user["email"] is None
    assert (user["first_name"], user["last_name"]) == ("Eva", "Wagner")
    assert kit.location_name(user["location_ids"][0]) == "Hamburg"
    assert not kit.state()["invitations"]  # nobody to invite
    assert "not invited: no e-mail" in reasons(kit, "create")[EVA]
    assert len(kit.state()["users"]) == users_before + 1

    again = kit.run(kit.singer(eva), create_users_without_email=True)
    assert again.writes == 0


def test_employee_without_email_is_reported_when_staffomatic_refuses_it(kit: Kit) -> None:
    kit.admin.variants(user_without_email="refused")
    eva, david = kit.employee(kit.person(int(EVA))), kit.employee(kit.person(1004))
    users_before = len(kit.state()["users"])
    kit.run(kit.singer([eva, david]), create_users_without_email=True)

    assert EVA not in linked(kit)
    assert "1004" in linked(kit)  # the rest syncs
    assert len(kit.state()["users"]) == users_before + 1
    assert "blank" in reasons(kit, "fail")[EVA]
    with kit.ledger() as ledger:
        assert EVA in {r.source_id for r in ledger.all_retries(given_up=False)}


def test_employee_without_email_is_not_created_beside_an_unlinked_namesake(kit: Kit) -> None:
    kit.admin.variants(user_without_email="created")
    hand_made = {
        "first_name": "Eva",
        "last_name": "Wagner",
        "email": "eva.private@example.com",
    }
    made = httpx.post(
        f"{kit.sandbox.staffomatic_api}/{roster.STAFFOMATIC_ACCOUNT}/users.json",
        json=hand_made,
        headers={
            "Authorization": f"Bearer {roster.STAFFOMATIC_API_TOKEN}",
            "User-Agent": "tests (tests@example.com)",
        },
    )
    assert made.status_code == 201, made.text
    users_before = len(kit.state()["users"])
    result = kit.run(
        kit.singer([kit.employee(kit.person(int(EVA)))]), create_users_without_email=True
    )

    assert result.writes == 0
    assert len(kit.state()["users"]) == users_before
    reason = reasons(kit, "skip")[EVA]
    assert "ambiguous" in reason
    assert str(made.json()["id"]) in reason
    assert "Wagner" not in reason  # the run log keeps no names


@pytest.mark.parametrize("shape", ["rails", "error", "errors_list", "message", "text"])
def test_a_refused_user_is_reported_in_staffomatics_words_under_every_error_body(
    kit: Kit, shape: str
) -> None:
    kit.admin.variants(user_without_email="refused", error_bodies=shape)
    eva, david = kit.employee(kit.person(int(EVA))), kit.employee(kit.person(1004))
    kit.run(kit.singer([eva, david]), create_users_without_email=True)

    assert EVA not in linked(kit)
    assert "1004" in linked(kit)  # the rest syncs
    reason = reasons(kit, "fail")[EVA]
    assert "http 422: email can't be blank" in reason.lower()
    assert not set("{}[]\"'") & set(reason.replace("can't", "")), reason  # no raw JSON
