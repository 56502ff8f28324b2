"""target-staffomatic on the shared engine: the user-field table, re-links recorded as ``link``,
and a POST whose answer was lost read back instead of sent again blindly."""

from __future__ import annotations

import json
from datetime import date
from zoneinfo import ZoneInfo

import httpx
from sync_ledger.engine import Op, Plan
from sync_ledger.engine.apply import Applier
from target_staffomatic.client import StaffomaticClient
from target_staffomatic.destination import StaffomaticDestination
from target_staffomatic.rules import (
    EMPLOYEE_TEXT,
    SYNC_FIELDS,
    AbsenceIn,
    Lookups,
    absence_times,
    plan_absence,
)
from target_staffomatic.rules.user_fields import owned_fields
from target_staffomatic.settings import Settings

BERLIN = ZoneInfo("Europe/Berlin")
RULES = Settings.from_config({"account": "demo"}).rules(BERLIN, date(2026, 3, 10))
EMPLOYEE = {
    "id": 12,
    "first_name": " Ada ",
    "last_name": "Lovelace",
    "email": "ada@x.example",
    "weekly_working_hours": 40,
    "absence_entitlement": [{"category": "paid_vacation", "entitlement": 27.5}],
}


def test_the_user_field_table_names_the_settings_and_the_fields_sent() -> None:
    assert SYNC_FIELDS == ("max_vacation_days", "max_hours_per_month", "departments")
    assert EMPLOYEE_TEXT == ("first_name", "last_name", "email")
    assert owned_fields(EMPLOYEE, SYNC_FIELDS) == {
        "first_name": "Ada",
        "last_name": "Lovelace",
        "email": "ada@x.example",
        "custom_id": "12",
        "max_vacation_days": 28,
        "max_hours_per_month": 173,
    }
    assert set(owned_fields(EMPLOYEE, ["departments"])) == {
        "first_name",
        "last_name",
        "email",
        "custom_id",
    }


def test_an_absence_found_after_the_ledger_was_lost_is_linked_not_created() -> None:
    absence = AbsenceIn("p-1", "12", "t", "Vacation", date(2026, 4, 1), date(2026, 4, 2))
    starts_at, ends_at, _ = absence_times(absence, BERLIN)
    existing = {
        "id": 900,
        "applicant_id": 5,
        "absence_type_id": 3,
        "starts_at": starts_at,
        "ends_at": ends_at,
        "state": "approved",
        "location_id": 1,
    }
    lookups = Lookups(
        absence_types=[{"id": 3, "name": "Vacation", "location_id": 1}], absences=[existing]
    )
    plan = plan_absence(absence, RULES, lookups, None, 5, 1, set())
    assert [(op.action, op.sends, op.record_id) for op in plan.ops] == [("link", False, 900)]
    assert plan.dest_id == 900
    assert plan.reason == "re-linked to the matching Staffomatic absence"


class Server:
    """A Staffomatic stand-in whose first POST is applied but its answer lost."""

    def __init__(self, *, applied: bool) -> None:
        self.applied = applied
        self.users: list[dict[str, object]] = []
        self.posts = 0

    def __call__(self, request: httpx.Request) -> httpx.Response:
        if request.method == "POST":
            self.posts += 1
            body = json.loads(request.content)
            if self.posts == 1:
                if self.applied:
                    self.users.append({"id": 41, **body})
                raise httpx.ReadError("connection reset", request=request)
            self.users.append({"id": 42, **body})
            return httpx.Response(201, json=self.users[-1])
        if request.url.path.endswith("/users.json"):
            return httpx.Response(200, json=self.users)
        return httpx.Response(200, json={})


def apply_create(server: Server) -> tuple[list[str], object]:
    client = StaffomaticClient(
        "https://api.example/v3", "demo", api_token="t", transport=httpx.MockTransport(server)
    )
    body = {"email": "ada@x.example", "custom_id": "12"}
    plan = Plan("employee", "12", ops=[Op("create", "POST", "/locations/1/users.json", body)])
    applier = Applier(StaffomaticDestination(client, Lookups()))
    (result,) = applier.apply([plan])
    applier.close()
    client.close()
    return [op.action for op, _ in result.done], result.dest_id


def test_a_user_created_but_unanswered_is_read_back_and_linked() -> None:
    server = Server(applied=True)
    assert apply_create(server) == (["link"], 41)
    assert server.posts == 1
    assert len(server.users) == 1


def test_a_user_the_read_proves_absent_is_created_once_more() -> None:
    server = Server(applied=False)
    assert apply_create(server) == (["create"], 42)
    assert server.posts == 2
    assert len(server.users) == 1
