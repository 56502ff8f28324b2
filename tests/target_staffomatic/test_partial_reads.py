"""Reads follow the changes: a run that is not a complete window read (a partial sync from
bookmarks, or tap-personio's ``only_ids``) reads Staffomatic only for the records of its batch,
so its requests do not grow with the company; look-ups are revalidated by ETag across runs.

Each test builds two companies from the demo seed, one with many more Staffomatic users (each
with absences in the window) that no Personio record names, syncs each completely, then sends
the same changes to both and compares the requests by endpoint (the sandbox's request log).
"""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import pytest
from sync_ledger import Ledger
from vendor_http.staffomatic_client import Revalidated, StaffomaticClient

Kit = Any  # the conftest's Kit
GONE_AT = "2026-01-01T00:00:00+00:00"
SYNCED = [
    ("a-1", 1001, "vac", 3, 5, "APPROVED"),
    ("a-2", 1011, "train", 8, 8, "PENDING"),
    ("a-3", 1002, "sick", -3, -2, "APPROVED"),
]
MORE_USERS = 350
"""Staffomatic users no employee names (four pages of users, more pages of absences)."""


def grow(kit: Kit, users: int) -> None:
    """``users`` more Staffomatic users, each with two absences in the window."""
    state = kit.admin.state()
    user, absence = state["users"][1], state["absences"][0]
    first_user = max(u["id"] for u in state["users"]) + 1
    first_absence = max(a["id"] for a in state["absences"]) + 1
    for n in range(users):
        uid = first_user + n
        state["users"].append(
            copy.deepcopy(user)
            | {"id": uid, "email": f"more{n}@example.com", "custom_id": None, "last_name": f"M{n}"}
        )
        for k in range(2):
            state["absences"].append(
                copy.deepcopy(absence) | {"id": first_absence + 2 * n + k, "applicant_id": uid}
            )
    kit.admin.load(state)


def company(kit: Kit, tmp_path: Path, more_users: int) -> str:
    """A fresh demo company with ``more_users`` unrelated users, synced completely; its ledger."""
    kit.admin.reset("demo")
    if more_users:
        grow(kit, more_users)
    ledger_url = f"sqlite:///{tmp_path / f'ledger-{more_users}.db'}"
    full = kit.singer(kit.demo_employees(), [kit.absence(*row) for row in SYNCED], version=1)
    kit.run(full, ledger_url=ledger_url)
    return ledger_url


def changed_employees(kit: Kit) -> dict[str, dict[str, Any]]:
    return {"1011": {"weekly_working_hours": 12.0}}


def changes(kit: Kit) -> list[dict[str, Any]]:
    """A linked absence moved, a new one (unlinked), for employees already linked."""
    return [
        kit.absence("a-2", 1011, "train", 9, 9, "PENDING"),
        kit.absence("a-new", 1011, "sick", 12, 13, "APPROVED"),
    ]


def partial_input(kit: Kit) -> str:
    employees = [kit.employee(kit.person(1011), **changed_employees(kit)["1011"])]
    return kit.singer(employees, changes(kit))


def reads(result: Any) -> dict[str, int]:
    return {k: v for k, v in result.requests["by_endpoint"].items() if k.startswith("GET")}


def test_a_partial_run_reads_only_its_records_whatever_the_size_of_the_company(
    kit: Kit, tmp_path: Path
) -> None:
    found = {}
    for more in (0, MORE_USERS):
        ledger_url = company(kit, tmp_path, more)
        result = kit.run(partial_input(kit), ledger_url=ledger_url)
        found[more] = result.requests["by_endpoint"]
        # the end state is a full run's: a complete run of the same data writes nothing
        absences = [kit.absence(*row) for row in SYNCED if row[0] != "a-2"] + changes(kit)
        full = kit.singer(kit.demo_employees(**changed_employees(kit)), absences, version=2)
        assert kit.run(full, ledger_url=ledger_url).writes == 0
    small, large = found[0], found[MORE_USERS]
    assert small == large
    assert "GET /v3/{account}/users.json" not in large  # no user list
    assert large["GET /v3/{account}/users/{id}.json"] == 1  # the linked user of 1011
    assert large["GET /v3/{account}/absences/{id}.json"] == 1  # the linked absence a-2
    # the new absence is looked for among its user's absences: one read, by user_ids[]
    assert large["GET /v3/{account}/absences.json"] == 1
    assert sum(large.values()) <= 16


def test_an_only_ids_run_reads_and_writes_only_what_the_events_name(
    kit: Kit, tmp_path: Path
) -> None:
    """An event-driven run (tap-personio's ``only_ids``): a changed employee, a new absence and
    an absence Personio no longer has; the deletion still waits for the confirmation read."""
    found = {}
    for more in (0, MORE_USERS):
        ledger_url = company(kit, tmp_path, more)
        with Ledger(ledger_url) as ledger:
            gone_dest = int(ledger.links("personio", "absence")["a-3"].dest_id)
        employees = [kit.employee(kit.person(1011), **changed_employees(kit)["1011"])]
        absences = [*changes(kit)[1:], {"id": "a-3", "_sdc_deleted_at": GONE_AT}]
        result = kit.run(
            kit.singer(employees, absences), ledger_url=ledger_url, **kit.personio_source()
        )
        found[more] = result.requests["by_endpoint"]
        assert gone_dest not in {a["id"] for a in kit.state()["absences"]}
        rest = [kit.absence(*row) for row in SYNCED if row[0] != "a-3"] + changes(kit)[1:]
        full = kit.singer(kit.demo_employees(**changed_employees(kit)), rest, version=2)
        assert kit.run(full, ledger_url=ledger_url, **kit.personio_source()).writes == 0
    small, large = found[0], found[MORE_USERS]
    assert small == large
    assert "GET /v3/{account}/users.json" not in large
    assert large["DELETE /v3/{account}/locations/{location_id}/absences/{id}.json"] == 1


def test_look_ups_are_revalidated_and_a_run_after_a_change_reads_the_new_ones(
    kit: Kit, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Locations, departments, absence types and the account's time zone are kept in the ledger
    with their ETag: the next run's reads answer 304; a department renamed is read again."""
    answers: list[tuple[str, bool]] = []
    real = StaffomaticClient.revalidate

    def spy(self: StaffomaticClient, path: str, *args: Any) -> Revalidated:
        found = real(self, path, *args)
        answers.append((path, found.not_modified))
        return found

    monkeypatch.setattr(StaffomaticClient, "revalidate", spy)
    kit.run(kit.singer(kit.demo_employees()))
    assert answers
    assert not any(cached for _, cached in answers)
    with Ledger(kit.ledger_url) as ledger, ledger.engine.connect() as conn:
        kept = conn.exec_driver_sql("SELECT what, body FROM ledger_lookups").all()
    assert any(what.startswith("GET /locations.json") for what, _ in kept)
    text = " ".join(str(body) for _, body in kept)
    assert "@" not in text  # no user's e-mail or name is kept
    assert "Schmidt" not in text

    kit.run(kit.singer(kit.demo_employees()))  # the users the first run created, in their locations
    answers.clear()
    assert kit.run(kit.singer(kit.demo_employees())).writes == 0
    assert answers
    assert all(cached for _, cached in answers)

    state = kit.admin.state()
    department = state["departments"][0]
    department["name"] = "Renamed in Staffomatic"
    kit.admin.load(state)
    answers.clear()
    kit.run(kit.singer(kit.demo_employees()))
    fresh = [path for path, cached in answers if not cached]
    assert fresh == [f"/locations/{department['location_id']}/departments.json"]
    with Ledger(kit.ledger_url) as ledger, ledger.engine.connect() as conn:
        bodies = conn.exec_driver_sql("SELECT body FROM ledger_lookups").all()
    assert "Renamed in Staffomatic" in " ".join(str(b) for (b,) in bodies)
