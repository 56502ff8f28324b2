"""Staffomatic emulator: each switch in ``state.variants`` changes what the API answers."""

from __future__ import annotations

import base64
from collections.abc import Iterator
from typing import Any

import pytest
from sandbox.staffomatic import StaffomaticEmulator
from starlette.testclient import TestClient

from sandbox import roster

API = "/v3/demo"
BERLIN, HAMBURG = 24001, 24002
CREDENTIAL = f"{roster.STAFFOMATIC_EMAIL}:{roster.STAFFOMATIC_PASSWORD}"
HEADERS = {
    "User-Agent": "SyncTests (tests@example.com)",
    "Authorization": f"Basic {base64.b64encode(CREDENTIAL.encode()).decode()}",
}
UNDOCUMENTED = {"location_ids", "full_name", "shift_category_ids", "account_id", "invitation_token"}


@pytest.fixture
def client() -> Iterator[TestClient]:
    with TestClient(StaffomaticEmulator("demo").app(), headers=HEADERS) as test_client:
        yield test_client


def switch(client: TestClient, **variants: str) -> None:
    response = client.post("/_sandbox/variants", json=variants)
    assert response.status_code == 200, response.text
    assert response.json().items() >= variants.items()


def user(client: TestClient, custom_id: str) -> dict[str, Any]:
    users = client.get(f"{API}/users.json", params={"state": "all", "per_page": 100}).json()
    return next(u for u in users if u.get("custom_id") == custom_id)


def vacation_type(client: TestClient) -> int:
    types = client.get(f"{API}/locations/{BERLIN}/absence_types.json").json()
    return int(next(t["id"] for t in types if t["name"] == "Vacation"))


def absence(client: TestClient, starts: str, ends: str) -> Any:
    body = {
        "starts_at": starts,
        "ends_at": ends,
        "applicant_id": user(client, "1001")["id"],
        "absence_type_id": vacation_type(client),
        "all_day": True,
    }
    return client.post(f"{API}/locations/{BERLIN}/absences.json", json=body)


WINDOW = {"from": "2031-03-10T00:00:00+01:00", "until": "2031-03-20T23:59:59+01:00"}


@pytest.mark.parametrize(("mode", "sees_long"), [("overlapping", True), ("starting_inside", False)])
def test_from_until_read_as_the_switch_says(client: TestClient, mode: str, sees_long: bool) -> None:
    long = absence(client, "2031-03-01T00:00:00+01:00", "2031-03-12T00:00:00+01:00").json()
    inside = absence(client, "2031-03-15T00:00:00+01:00", "2031-03-16T00:00:00+01:00").json()
    night = client.post(
        f"{API}/work_timers.json",
        json={
            "user_id": user(client, "1001")["id"],
            "starts_at": "2031-03-09T22:00:00+01:00",
            "ends_at": "2031-03-10T06:00:00+01:00",
        },
    ).json()
    switch(client, date_filters=mode)
    absences = {a["id"] for a in client.get(f"{API}/absences.json", params=WINDOW).json()}
    timers = {t["id"] for t in client.get(f"{API}/work_timers.json", params=WINDOW).json()}
    assert inside["id"] in absences
    assert (long["id"] in absences) is sees_long
    assert (night["id"] in timers) is sees_long


def test_documented_user_fields_only(client: TestClient) -> None:
    shown = user(client, "1001")  # the default
    assert not UNDOCUMENTED & set(shown)
    assert {"id", "email", "first_name", "last_name", "department_ids", "custom_id"} <= set(shown)
    created = client.post(
        f"{API}/users.json", json={"email": "loc@example.com", "location_ids": [HAMBURG]}
    ).json()
    assert not UNDOCUMENTED & set(created)
    in_hamburg = client.get(f"{API}/locations/{HAMBURG}/users.json").json()
    assert created["id"] not in {u["id"] for u in in_hamburg}  # location_ids was ignored
    placed = client.post(
        f"{API}/locations/{HAMBURG}/users.json", json={"email": "path@example.com"}
    ).json()
    in_hamburg = client.get(f"{API}/locations/{HAMBURG}/users.json").json()
    assert placed["id"] in {u["id"] for u in in_hamburg}  # the documented path still places


def test_extended_user_fields_write_location_ids(client: TestClient) -> None:
    switch(client, user_fields="extended")
    assert set(user(client, "1001")) >= UNDOCUMENTED
    created = client.post(
        f"{API}/users.json", json={"email": "loc@example.com", "location_ids": [HAMBURG]}
    ).json()
    assert created["location_ids"] == [HAMBURG]
    assert created["full_name"] == ""


@pytest.mark.parametrize(("mode", "code"), [("refused", 422), ("created", 201)])
def test_user_without_email(client: TestClient, mode: str, code: int) -> None:
    switch(client, user_without_email=mode)
    body = {"first_name": "Peter", "last_name": "Quill", "department_ids": [39101]}
    response = client.post(f"{API}/locations/{BERLIN}/users.json", json=body)
    assert response.status_code == code
    if code == 201:
        assert response.json()["email"] is None
        names = {(u["first_name"], u["last_name"]) for u in client.get(f"{API}/users.json").json()}
        assert ("Peter", "Quill") in names
    else:
        assert response.json() == {"errors": {"email": ["can't be blank"]}}


@pytest.mark.parametrize(("mode", "code"), [("200", 200), ("201", 201)])
def test_create_status(client: TestClient, mode: str, code: int) -> None:
    switch(client, create_status=mode)
    created = absence(client, "2031-05-01T00:00:00+02:00", "2031-05-02T00:00:00+02:00")
    assert created.status_code == code
    url = f"{API}/absences/{created.json()['id']}.json"
    assert client.patch(url, json={"justification": "x"}).status_code == 200


@pytest.mark.parametrize(("mode", "days"), [("recomputed", 5), ("kept", 2)])
def test_adjusted_duration_on_update(client: TestClient, mode: str, days: int) -> None:
    switch(client, adjusted_duration=mode)
    created = absence(client, "2031-05-01T00:00:00+02:00", "2031-05-02T00:00:00+02:00").json()
    assert created["adjusted_duration"] == 2 * 86400  # a create always computes it
    url = f"{API}/absences/{created['id']}.json"
    updated = client.patch(url, json={"ends_at": "2031-05-05T00:00:00+02:00"}).json()
    assert updated["ends_at"] == "2031-05-05T23:59:59+02:00"
    assert updated["adjusted_duration"] == days * 86400
    given = client.patch(url, json={"adjusted_duration": 3600}).json()
    assert given["adjusted_duration"] == 3600  # a value sent is always stored


@pytest.mark.parametrize(("mode", "sees_locked"), [("active", False), ("all", True)])
def test_users_without_state(client: TestClient, mode: str, sees_locked: bool) -> None:
    switch(client, users_without_state=mode)
    everyone = client.get(f"{API}/users.json", params={"state": "all", "per_page": 100}).json()
    locked = next(u for u in everyone if u["locked_at"])
    listed = {u["id"] for u in client.get(f"{API}/users.json", params={"per_page": 100}).json()}
    assert (locked["id"] in listed) is sees_locked


@pytest.mark.parametrize(
    ("shape", "unprocessable", "bad"),
    [
        ("rails", {"errors": {"ends_at": ["must be after starts_at"]}}, {"error": "{message}"}),
        ("error", {"error": "Ends at must be after starts_at"}, {"error": "{message}"}),
        ("errors_list", {"errors": ["Ends at must be after starts_at"]}, {"errors": ["{message}"]}),
        ("message", {"message": "Ends at must be after starts_at"}, {"message": "{message}"}),
        ("text", "Ends at must be after starts_at\n", "{message}\n"),
    ],
)  # fmt: skip
def test_error_bodies_take_the_shape_the_switch_says(
    client: TestClient, shape: str, unprocessable: Any, bad: Any
) -> None:
    switch(client, error_bodies=shape)
    refused = absence(client, "2031-03-12T00:00:00+01:00", "2031-03-11T00:00:00+01:00")
    assert refused.status_code == 422
    unparsable = client.get(f"{API}/users.json", params={"page": "x"})
    assert unparsable.status_code == 400
    message = "The query parameter page must be a whole number of at least 1."
    for answer, expected in ((refused, unprocessable), (unparsable, bad)):
        if isinstance(expected, str):
            assert answer.headers["content-type"].startswith("text/plain")
            assert answer.text == expected.format(message=message)
        else:
            filled = str(expected).replace("{message}", message)
            assert str(answer.json()) == filled
    # what is not a 400 or 422 keeps its shape: the 404 page
    assert client.get(f"{API}/users/999999.json").text.startswith("<!DOCTYPE html>")
