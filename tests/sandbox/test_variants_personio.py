"""Personio emulator: each switch in ``state.variants`` changes what the API answers."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

import pytest
from sandbox.personio import PersonioEmulator
from starlette.testclient import TestClient

from tests.sandbox.personio_clients import V1_JSON, V2_FORM, connect

DAY = date.today() + timedelta(days=400)  # far from every seeded period
PERSON = "1004"


@pytest.fixture
def emulator() -> PersonioEmulator:
    return PersonioEmulator("demo")


@pytest.fixture
def client(emulator: PersonioEmulator) -> TestClient:
    return connect(emulator, v2=True)


def switch(client: TestClient, **variants: str) -> None:
    response = client.post("/_sandbox/variants", json=variants)
    assert response.status_code == 200, response.text
    assert response.json().items() >= variants.items()


def at(days: int, clock: str = "00:00:00") -> str:
    return f"{DAY + timedelta(days=days)}T{clock}"


def vacation(client: TestClient, first: int, last: int) -> str:
    types = client.get("/v2/absence-types").json()["_data"]
    body = {
        "person": {"id": PERSON},
        "absence_type": {"id": next(t["id"] for t in types if t["name"] == "Vacation")},
        "starts_from": {"date_time": at(first), "type": "FIRST_HALF"},
        "ends_at": {"date_time": at(last), "type": "SECOND_HALF"},
    }
    created = client.post("/v2/absence-periods", json=body)
    assert created.status_code == 201, created.text
    return str(created.json()["id"])


def work(client: TestClient, start: str, end: str | None) -> Any:
    body = {
        "person": {"id": PERSON},
        "type": "WORK",
        "start": {"date_time": start},
        "end": None if end is None else {"date_time": end},
    }
    return client.post("/v2/attendance-periods", json=body)


def ids(client: TestClient, path: str, params: dict[str, str]) -> set[str]:
    response = client.get(path, params={"person.id": PERSON, **params})
    assert response.status_code == 200, response.text
    return {str(p["id"]) for p in response.json()["_data"]}


# ---- absence_period_filters -----------------------------------------------------------------

TAP_WINDOW = {"ends_at.date_time.gte": at(0), "starts_from.date_time.lte": at(10, "23:59:59")}
"""How tap-personio reads a window (AbsencesStream.window_params)."""
STARTS_AFTER = {"starts_from.date_time.gte": at(0)}
"""How target-personio looks for absences it may have created (AbsencesSink._create)."""


@pytest.mark.parametrize(
    ("mode", "tap_sees_long", "target_sees_long"),
    [
        ("overlapping", True, True),
        ("as_named", True, False),
        ("starting_inside", False, False),
    ],
)
def test_absence_date_filters_read_as_the_switch_says(
    client: TestClient, mode: str, tap_sees_long: bool, target_sees_long: bool
) -> None:
    long = vacation(client, -10, 5)  # began before the window, ends inside it
    inside = vacation(client, 7, 8)
    switch(client, absence_period_filters=mode)
    tap = ids(client, "/v2/absence-periods", TAP_WINDOW)
    target = ids(client, "/v2/absence-periods", STARTS_AFTER)
    assert inside in tap
    assert inside in target
    assert (long in tap) is tap_sees_long
    assert (long in target) is target_sees_long


def test_absence_filters_default_to_overlapping(emulator: PersonioEmulator) -> None:
    assert emulator.state["variants"]["absence_period_filters"] == "overlapping"


# ---- attendance_period_filters --------------------------------------------------------------


@pytest.mark.parametrize(
    ("mode", "day_window", "ending_late"),
    [
        ("as_named", {"day"}, {"day"}),
        ("overlapping", {"night", "day"}, {"day"}),
        ("starting_inside", {"day"}, set()),
    ],
)
def test_attendance_date_filters_read_as_the_switch_says(
    client: TestClient, mode: str, day_window: set[str], ending_late: set[str]
) -> None:
    made = {
        "night": work(client, at(0, "22:00:00"), at(1, "06:00:00")).json()["id"],
        "day": work(client, at(1, "08:00:00"), at(1, "12:00:00")).json()["id"],
    }
    names = {v: k for k, v in made.items()}
    switch(client, attendance_period_filters=mode)
    # the window tap-personio reads (AttendancesStream.window_params): the second day
    window = {"start.date_time.gte": at(1), "start.date_time.lte": at(1, "23:59:59")}
    seen = ids(client, "/v2/attendance-periods", window)
    late = ids(client, "/v2/attendance-periods", {"end.date_time.gte": at(1, "10:00:00")})
    assert {names[i] for i in seen} == day_window
    assert {names[i] for i in late} == ending_late


# ---- overnight_attendance -------------------------------------------------------------------


def test_overnight_period_is_refused_with_a_422_when_the_account_has_none(
    client: TestClient,
) -> None:
    switch(client, overnight_attendance="refused")
    refused = work(client, at(0, "22:00:00"), at(1, "06:00:00"))
    assert refused.status_code == 422
    assert refused.headers["content-type"].startswith("application/problem+json")
    error = refused.json()["errors"][0]
    assert "midnight" in error["detail"]
    assert error["_meta"] == {"field": "end.date_time"}
    assert ids(client, "/v2/attendance-periods", {}) == set()
    # up to midnight and from midnight on are the same day each
    evening = work(client, at(0, "22:00:00"), at(1))
    morning = work(client, at(1), at(1, "06:00:00"))
    assert evening.status_code == morning.status_code == 201
    stretched = client.patch(
        f"/v2/attendance-periods/{morning.json()['id']}",
        json={"end": {"date_time": at(2, "01:00:00")}},
    )
    assert stretched.status_code == 422
    kept = client.get(f"/v2/attendance-periods/{morning.json()['id']}").json()
    assert kept["end"]["date_time"] == at(1, "06:00:00")


def test_overnight_period_is_accepted_by_default(client: TestClient) -> None:
    created = work(client, at(0, "22:00:00"), at(1, "06:00:00"))
    assert created.status_code == 201
    assert created.json()["attribution_date"] == str(DAY)


# ---- attendance_24_hours --------------------------------------------------------------------


@pytest.mark.parametrize(("mode", "code"), [("accepted", 201), ("refused", 422)])
def test_a_period_of_exactly_24_hours_is_taken_as_the_switch_says(
    client: TestClient, mode: str, code: int
) -> None:
    switch(client, attendance_24_hours=mode)
    # fixed summer days: no DST change in between
    full_day = work(client, "2030-06-10T08:00:00", "2030-06-11T08:00:00")
    assert full_day.status_code == code, full_day.text
    if code == 422:
        error = full_day.json()["errors"][0]
        assert "too long" in error["detail"]
        assert error["_meta"] == {"field": "end.date_time"}
    # a second less is always taken, a second more never
    assert work(client, "2030-06-12T08:00:00", "2030-06-13T07:59:59").status_code == 201
    assert work(client, "2030-06-14T08:00:00", "2030-06-15T08:00:01").status_code == 422


# ---- absence_patch_approval -----------------------------------------------------------------


@pytest.mark.parametrize(
    ("mode", "status"), [("approves", "APPROVED"), ("keeps_status", "PENDING")]
)
def test_patch_with_skip_approval_approves_only_when_switched_on(
    client: TestClient, mode: str, status: str
) -> None:
    period = vacation(client, 0, 1)
    switch(client, absence_patch_approval=mode)
    for body in ({"comment": "approve please"}, {"ends_at": {"date_time": at(2)}}):
        patched = client.patch(
            f"/v2/absence-periods/{period}", params={"skip_approval": "true"}, json=body
        )
        assert patched.status_code == 204
        assert client.get(f"/v2/absence-periods/{period}").json()["approval"]["status"] == status


@pytest.mark.parametrize("mode", ["keeps_status", "revalidates"])
def test_patch_without_skip_approval_still_makes_a_changed_absence_pending(
    client: TestClient, mode: str
) -> None:
    switch(client, absence_patch_approval=mode)
    created = client.post(
        "/v2/absence-periods",
        params={"skip_approval": "true"},
        json={
            "person": {"id": PERSON},
            "absence_type": {
                "id": client.get("/v2/absence-types").json()["_data"][0]["id"],
            },
            "starts_from": {"date_time": at(0)},
            "ends_at": {"date_time": at(0)},
        },
    ).json()
    assert created["approval"]["status"] == "APPROVED"  # creating with skip_approval approves
    url = f"/v2/absence-periods/{created['id']}"
    assert client.patch(url, json={"ends_at": {"date_time": at(1)}}).status_code == 204
    assert client.get(url).json()["approval"]["status"] == "PENDING"


def test_revalidates_ignores_skip_approval_on_patch(client: TestClient) -> None:
    period = vacation(client, 0, 1)
    url = f"/v2/absence-periods/{period}"
    client.patch(url, params={"skip_approval": "true"}, json={})  # approves under the default
    assert client.get(url).json()["approval"]["status"] == "APPROVED"
    switch(client, absence_patch_approval="revalidates")
    skip = {"skip_approval": "true"}
    assert client.patch(url, params=skip, json={"comment": "noted"}).status_code == 204
    assert client.get(url).json()["approval"]["status"] == "APPROVED"  # nothing to approve
    assert client.patch(url, params=skip, json={"ends_at": {"date_time": at(2)}}).status_code == 204
    assert client.get(url).json()["approval"]["status"] == "PENDING"


# ---- token_generations ----------------------------------------------------------------------


def test_separate_token_generations_refuse_each_other(emulator: PersonioEmulator) -> None:
    client = TestClient(emulator.app())
    switch(client, token_generations="separate")
    v1 = client.post("/v1/auth", json=V1_JSON).json()["data"]["token"]
    v2 = client.post("/v2/auth/token", data=V2_FORM).json()["access_token"]
    assert v1 != v2

    def status(path: str, token: str) -> int:
        return client.get(path, headers={"Authorization": f"Bearer {token}"}).status_code

    assert status("/v1/company/employees", v1) == status("/v2/absence-types", v2) == 200
    assert status("/v2/absence-types", v1) == status("/v1/company/employees", v2) == 403
    # asking again gives the same token of each generation
    assert client.post("/v1/auth", json=V1_JSON).json()["data"]["token"] == v1


def test_shared_token_generations_work_on_both(emulator: PersonioEmulator) -> None:
    client = TestClient(emulator.app())
    switch(client, token_generations="shared")
    v1 = client.post("/v1/auth", json=V1_JSON).json()["data"]["token"]
    response = client.get("/v2/absence-types", headers={"Authorization": f"Bearer {v1}"})
    assert response.status_code == 200


# ---- expired_attendance_status --------------------------------------------------------------


@pytest.mark.parametrize(("mode", "code"), [("unknown", 400), ("listed", 200)])
def test_expired_attendance_status_filter(client: TestClient, mode: str, code: int) -> None:
    switch(client, expired_attendance_status=mode)
    response = client.get("/v2/attendance-periods", params={"status": "EXPIRED"})
    assert response.status_code == code
    if code == 200:
        assert response.json()["_data"] == []
