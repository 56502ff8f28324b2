"""The Staffomatic emulator behaves like the vendor: auth, headers, paging, filters, state."""

from __future__ import annotations

import base64
import json
from collections.abc import Iterator
from datetime import datetime, timedelta
from typing import Any

import httpx
import pytest
from sandbox.server import Sandbox
from sandbox.staffomatic import StaffomaticEmulator
from starlette.testclient import TestClient

from sandbox import roster

API = "/v3/demo"
AUTH = (roster.STAFFOMATIC_EMAIL, roster.STAFFOMATIC_PASSWORD)
UA = {"User-Agent": "SyncTests (tests@example.com)"}


def basic(email: str, password: str) -> dict[str, str]:
    token = base64.b64encode(f"{email}:{password}".encode()).decode()
    return {"Authorization": f"Basic {token}"}


SIGNED_IN = UA | basic(*AUTH)


@pytest.fixture
def emulator() -> StaffomaticEmulator:
    return StaffomaticEmulator("demo")


@pytest.fixture
def client(emulator: StaffomaticEmulator) -> Iterator[TestClient]:
    with TestClient(emulator.app(), headers=SIGNED_IN) as test_client:
        yield test_client


def user_by_custom_id(client: TestClient, custom_id: str) -> dict[str, Any]:
    users = client.get(f"{API}/users.json", params={"state": "all", "per_page": 100}).json()
    return next(u for u in users if u["custom_id"] == custom_id)


def test_basic_auth_and_bearer_token_are_accepted(emulator: StaffomaticEmulator) -> None:
    with TestClient(emulator.app(), headers=UA) as client:
        basic = client.get(f"{API}/account.json", auth=AUTH)
        bearer = client.get(
            f"{API}/account.json",
            headers={"Authorization": f"Bearer {roster.STAFFOMATIC_API_TOKEN}"},
        )
    assert basic.status_code == bearer.status_code == 200
    assert basic.json()["time_zone"] == "Europe/Berlin"
    assert basic.json()["subdomain"] == "demo"


@pytest.mark.parametrize(
    "headers",
    [
        {},
        {"Authorization": "Bearer wrong-token"},
        {"Authorization": "Basic bm90LWJhc2U2NA!!"},
        {"Authorization": "Basic YXBpQGRlbW8tZ2FzdHJvLmV4YW1wbGU6d3Jvbmc="},  # right e-mail, bad pw
    ],
)
def test_missing_or_wrong_credentials_get_401_in_plain_text(
    emulator: StaffomaticEmulator, headers: dict[str, str]
) -> None:
    with TestClient(emulator.app(), headers=UA) as client:
        response = client.get(f"{API}/users.json", headers=headers)
    assert response.status_code == 401
    assert response.headers["content-type"].startswith("text/plain")
    assert response.text


def test_basic_auth_email_is_case_insensitive(emulator: StaffomaticEmulator) -> None:
    with TestClient(emulator.app(), headers=UA) as client:
        response = client.get(f"{API}/user.json", auth=(AUTH[0].upper(), AUTH[1]))
    assert response.status_code == 200
    assert response.json()["email"] == roster.STAFFOMATIC_EMAIL


def test_request_without_user_agent_gets_400(emulator: StaffomaticEmulator) -> None:
    with TestClient(emulator.app(), headers={"User-Agent": ""} | basic(*AUTH)) as client:
        assert client.get(f"{API}/users.json").status_code == 400


def test_write_without_json_content_type_gets_415(client: TestClient) -> None:
    response = client.post(
        f"{API}/locations/24001/users.json",
        content=b"email=x@example.com",
        headers={"Content-Type": "application/x-www-form-urlencoded"},
    )
    assert response.status_code == 415
    assert client.get(f"{API}/users.xml").status_code == 415


def test_unknown_account_and_unknown_record_get_404_html(client: TestClient) -> None:
    for path in ("/v3/other/users.json", f"{API}/users/1.json", f"{API}/absences/abc.json"):
        response = client.get(path)
        assert response.status_code == 404
        assert response.headers["content-type"].startswith("text/html")


def test_paths_work_without_the_json_suffix_and_count_under_one_template(
    client: TestClient,
) -> None:
    assert client.get(f"{API}/absences").json() == client.get(f"{API}/absences.json").json()
    counts = client.get("/_sandbox/requests").json()["by_endpoint"]
    assert counts["GET /v3/{account}/absences.json"] == 2


def test_paging_sends_link_headers_and_ends_with_an_empty_page(client: TestClient) -> None:
    seen: list[int] = []
    page = 1
    while True:
        response = client.get(
            f"{API}/users.json", params={"state": "all", "per_page": 4, "page": page}
        )
        assert response.status_code == 200
        items = response.json()
        if not items:
            break
        seen += [u["id"] for u in items]
        page += 1
    assert len(seen) == len(set(seen)) == 15
    first = client.get(f"{API}/users.json", params={"state": "all", "per_page": 4})
    assert 'rel="next"' in first.headers["Link"]
    assert "page=4&per_page=4" in first.headers["Link"].split(",")[0]  # rel=last first
    assert first.headers["Total"] == "15"
    second = client.get(f"{API}/users.json", params={"state": "all", "per_page": 4, "page": 2})
    assert 'rel="first"' in second.headers["Link"]
    assert 'rel="prev"' in second.headers["Link"]
    assert "state=all" in second.headers["Link"]


def test_per_page_defaults_to_50_and_is_capped_at_100(emulator: StaffomaticEmulator) -> None:
    emulator.reset("scale", employees=400)
    with TestClient(emulator.app(), headers=SIGNED_IN) as client:
        default = client.get(f"{API}/users.json", params={"state": "all"})
        capped = client.get(f"{API}/users.json", params={"state": "all", "per_page": 300})
    assert len(default.json()) == 50
    assert len(capped.json()) == 100


def test_bad_query_parameters_get_400_not_a_crash(client: TestClient) -> None:
    for params in (
        {"page": "x"},
        {"per_page": "0"},
        {"from": "yesterday"},
        {"user_ids[]": "abc"},
    ):
        response = client.get(f"{API}/absences.json", params=params)
        assert response.status_code == 400, params
        assert "error" in response.json()


def test_etag_answers_304_when_nothing_changed(client: TestClient) -> None:
    first = client.get(f"{API}/locations.json")
    again = client.get(f"{API}/locations.json", headers={"If-None-Match": first.headers["ETag"]})
    assert again.status_code == 304


def test_users_state_filter_selects_active_locked_and_all(client: TestClient) -> None:
    def ids(state: str | None) -> set[int]:
        params = {"per_page": 100} | ({"state": state} if state else {})
        return {u["id"] for u in client.get(f"{API}/users.json", params=params).json()}

    locked = ids("locked")
    assert len(locked) == 1  # Uwe Lange
    assert ids(None) == ids("active") == ids("all") - locked
    assert client.get(f"{API}/users.json", params={"state": "nope"}).status_code == 400


def test_users_of_a_location_and_department(client: TestClient) -> None:
    locations = {loc["name"]: loc for loc in client.get(f"{API}/locations.json").json()}
    hamburg = locations["Hamburg"]["id"]
    users = client.get(f"{API}/locations/{hamburg}/users.json", params={"state": "all"}).json()
    assert users
    assert {u["id"] for u in users} == set(locations["Hamburg"]["user_ids"])
    departments = client.get(f"{API}/locations/{hamburg}/departments.json").json()
    assert {d["name"] for d in departments} == {"Kitchen", "Logistics"}
    assert all(d["location_id"] == hamburg for d in departments)
    kitchen = next(d for d in departments if d["name"] == "Kitchen")
    in_kitchen = client.get(
        f"{API}/users.json", params={"state": "all", "department_ids[]": kitchen["id"]}
    ).json()
    assert {u["id"] for u in in_kitchen} == set(kitchen["user_ids"])


def test_create_user_with_invitation_records_one_invitation(
    client: TestClient, emulator: StaffomaticEmulator
) -> None:
    body = {
        "email": "new.person@demo-gastro.example",
        "first_name": "New",
        "last_name": "Person",
        "custom_id": 1021,
        "department_ids": [39101],
        "max_vacation_days": 28.5,
        "max_hours_per_month": 160,
        "do": "send_invitation",
    }
    response = client.post(f"{API}/locations/24001/users.json", json=body)
    assert response.status_code == 201  # as documented (create_status)
    user = response.json()
    assert user["custom_id"] == "1021"
    assert user["max_vacation_days"] == 28
    berlin = client.get(f"{API}/locations/24001.json").json()
    assert user["id"] in berlin["user_ids"]
    assert user["invitation_state"] == "pending"
    invitations = emulator.state["invitations"]
    assert [(i["user_id"], i["email"]) for i in invitations] == [(user["id"], body["email"])]


def test_create_user_validates_email_presence_uniqueness_and_departments(
    client: TestClient,
) -> None:
    url = f"{API}/locations/24001/users.json"
    client.post("/_sandbox/variants", json={"user_without_email": "refused"}).raise_for_status()
    missing = client.post(url, json={"first_name": "No", "last_name": "Mail"})
    taken = client.post(url, json={"email": "ANNA.schmidt@demo-gastro.example"})
    unknown = client.post(url, json={"email": "x@example.com", "department_ids": [1]})
    wrong_type = client.post(url, json={"email": "x@example.com", "max_vacation_days": "many"})
    assert missing.status_code == taken.status_code == unknown.status_code == 422
    assert missing.json() == {"errors": {"email": ["can't be blank"]}}
    assert taken.json() == {"errors": {"email": ["has already been taken"]}}
    assert "department_ids" in unknown.json()["errors"]
    assert wrong_type.status_code == 422
    assert "max_vacation_days" in wrong_type.json()["errors"]


def test_malformed_json_body_gets_400(client: TestClient) -> None:
    response = client.post(
        f"{API}/absences.json", content=b"{not json", headers={"Content-Type": "application/json"}
    )
    assert response.status_code == 400
    assert "error" in response.json()


def test_lock_and_unlock_set_and_clear_locked_at_and_bump_updated_at(client: TestClient) -> None:
    user = user_by_custom_id(client, "1001")
    url = f"{API}/users/{user['id']}.json"
    locked = client.put(url, json={"do": "lock"}).json()
    assert locked["locked_at"] is not None
    assert locked["updated_at"] >= user["updated_at"]
    assert user["id"] in {
        u["id"] for u in client.get(f"{API}/users.json", params={"state": "locked"}).json()
    }
    unlocked = client.patch(url, json={"do": "unlock", "custom_id": "1001"}).json()
    assert unlocked["locked_at"] is None
    assert client.put(url, json={"do": "explode"}).status_code == 422


def test_user_update_writes_the_fields_the_sync_uses(client: TestClient) -> None:
    user = user_by_custom_id(client, "1011")
    changes = {
        "email": "k.klein@demo-gastro.example",
        "first_name": "Kathi",
        "max_vacation_days": 30,
        "max_hours_per_month": 120,
        "department_ids": [39102],
    }
    updated = client.put(f"{API}/users/{user['id']}.json", json=changes).json()
    assert {k: updated[k] for k in changes} == changes
    assert client.get(f"{API}/users/{user['id']}.json").json() == updated


def test_absence_lifecycle_new_approve_and_refused_edit(client: TestClient) -> None:
    user = user_by_custom_id(client, "1001")
    types = client.get(f"{API}/locations/24001/absence_types.json").json()
    vacation = next(t for t in types if t["name"] == "Vacation")
    created = client.post(
        f"{API}/locations/24001/absences.json",
        json={
            "starts_at": "2030-07-20T07:20:00+02:00",
            "ends_at": "2030-07-22T10:00:00+02:00",
            "applicant_id": user["id"],
            "absence_type_id": vacation["id"],
            "all_day": True,
        },
    )
    assert created.status_code == 201
    absence = created.json()
    assert absence["state"] == "new"
    assert absence["starts_at"] == "2030-07-20T00:00:00+02:00"
    assert absence["ends_at"] == "2030-07-22T23:59:59+02:00"
    assert absence["adjusted_duration"] == 3 * 86400
    url = f"{API}/absences/{absence['id']}.json"
    edited = client.patch(url, json={"justification": "Family"}).json()
    assert edited["justification"] == "Family"
    approved = client.patch(url, json={"do": "approve"}).json()
    assert approved["state"] == "approved"
    assert approved["processed_at"] is not None
    refused = client.put(url, json={"ends_at": "2030-07-25T00:00:00+02:00"})
    assert refused.status_code == 422
    assert "errors" in refused.json()
    assert client.put(url, json={"do": "decline"}).status_code == 422
    assert client.delete(url).status_code == 204
    assert client.get(url).status_code == 404


def test_declined_absence_refuses_edits(client: TestClient) -> None:
    absences = client.get(f"{API}/absences.json", params={"state[]": "declined"}).json()
    assert absences
    assert {a["state"] for a in absences} == {"declined"}
    refused = client.patch(f"{API}/absences/{absences[0]['id']}.json", json={"paid": False})
    assert refused.status_code == 422


def test_absence_validation_errors_are_rails_style_422(client: TestClient) -> None:
    url = f"{API}/absences.json"
    blank = client.post(url, json={})
    assert blank.status_code == 422
    assert set(blank.json()["errors"]) == {
        "starts_at",
        "ends_at",
        "applicant_id",
        "absence_type_id",
    }
    body = {
        "starts_at": "2030-01-02T10:00:00+01:00",
        "ends_at": "2030-01-01T10:00:00+01:00",
        "applicant_id": 286001,
        "absence_type_id": 14501,
        "all_day": False,
    }
    assert "ends_at" in client.post(url, json=body).json()["errors"]
    unknown = client.post(url, json=body | {"applicant_id": 1, "ends_at": "2030-01-03T10:00:00Z"})
    assert unknown.json() == {"errors": {"applicant": ["must exist"]}}
    bad_date = client.post(url, json=body | {"starts_at": "soon"})
    assert bad_date.json() == {"errors": {"starts_at": ["is not a valid date-time"]}}


def test_absence_filters_by_user_state_and_time_range(client: TestClient) -> None:
    anna = user_by_custom_id(client, "1001")
    mine = client.get(f"{API}/absences.json", params={"user_ids[]": anna["id"]}).json()
    assert len(mine) == 2
    assert {a["applicant_id"] for a in mine} == {anna["id"]}
    today = datetime.now().astimezone()
    window = {"from": today.isoformat(), "until": (today + timedelta(days=40)).isoformat()}
    upcoming = client.get(f"{API}/absences.json", params=window).json()
    assert upcoming
    for absence in upcoming:
        assert datetime.fromisoformat(absence["ends_at"]) >= today
        assert datetime.fromisoformat(absence["starts_at"]) <= today + timedelta(days=40)
    both = client.get(f"{API}/absences.json", params={"state[]": ["new", "approved"]}).json()
    assert {a["state"] for a in both} == {"new", "approved"}


def test_work_timer_lifecycle_start_break_stop_verify(client: TestClient) -> None:
    user = user_by_custom_id(client, "1022")
    started = client.post(
        f"{API}/work_timers.json",
        json={"user_id": user["id"], "starts_at": "2030-03-02 08:00:00.000+01:00", "do": "start"},
    ).json()
    assert started["state"] == "running"
    assert started["ends_at"] is None
    url = f"{API}/work_timers/{started['id']}.json"
    assert client.patch(url, json={"do": "verify"}).status_code == 422
    pause = client.post(
        f"{API}/work_timers/{started['id']}/break_timers.json",
        json={"starts_at": "2030-03-02T12:00:00+01:00", "do": "start"},
    ).json()
    stopped_break = client.put(
        f"{API}/break_timers/{pause['id']}.json",
        json={"do": "stop", "ends_at": "2030-03-02T12:45:00+01:00"},
    ).json()
    assert stopped_break["duration"] == 45 * 60
    assert stopped_break["user_id"] == user["id"]
    stopped = client.put(url, json={"do": "stop", "ends_at": "2030-03-02T16:30:00+01:00"}).json()
    assert stopped["state"] == "stopped"
    assert (stopped["duration"], stopped["break_duration"]) == (8.5 * 3600, 45 * 60)
    assert stopped["net_duration"] == 8.5 * 3600 - 45 * 60
    verified = client.patch(url, json={"do": "verify"}).json()
    assert verified["state"] == "verified"
    report = client.get(f"{API}/work_reports/{verified['work_report_id']}.json").json()
    assert report["cached_net_duration"] == verified["net_duration"]
    assert client.delete(url).status_code == 204
    assert client.get(f"{API}/break_timers/{pause['id']}.json").status_code == 404


def test_work_timer_filters_and_breaks_of_many_timers_in_one_request(client: TestClient) -> None:
    now = datetime.now().astimezone()
    window = {"from": (now - timedelta(days=7)).isoformat(), "until": now.isoformat()}
    timers = client.get(f"{API}/work_timers.json", params=window | {"per_page": 100}).json()
    assert {t["state"] for t in timers} == {"running", "stopped", "verified"}
    breaks = client.get(f"{API}/break_timers.json", params=window | {"per_page": 100}).json()
    with_breaks = {b["work_timer_id"] for b in breaks}
    assert with_breaks <= {t["id"] for t in timers}
    assert sum(1 for t in timers if t["break_duration"] > 0) == len(with_breaks)
    first = timers[0]
    only = client.get(f"{API}/work_timers.json", params={"user_ids[]": first["user_id"]}).json()
    assert {t["user_id"] for t in only} == {first["user_id"]}


def test_rate_limit_answers_429_with_retry_after(emulator: StaffomaticEmulator) -> None:
    emulator.state["rate_limit"] = {"requests": 5, "seconds": 10}
    with TestClient(emulator.app(), headers=SIGNED_IN) as client:
        statuses = [client.get(f"{API}/account.json") for _ in range(6)]
        log = client.get("/_sandbox/requests").json()
    assert [r.status_code for r in statuses] == [200] * 5 + [429]
    assert int(statuses[-1].headers["Retry-After"]) >= 1
    assert log["throttled"] == 1


def test_rate_limit_can_be_switched_off(emulator: StaffomaticEmulator) -> None:
    emulator.state["rate_limit"] = {"requests": 2, "seconds": 10}
    with TestClient(emulator.app(), headers=SIGNED_IN) as client:
        client.post("/_sandbox/faults", json={"rate_limits": False})
        statuses = {client.get(f"{API}/account.json").status_code for _ in range(5)}
    assert statuses == {200}


def test_invalidated_tokens_get_401_and_the_new_token_works(client: TestClient) -> None:
    bearer = {"Authorization": f"Bearer {roster.STAFFOMATIC_API_TOKEN}"}
    client.post("/_sandbox/faults", json={"invalidate_tokens": True})
    assert client.get(f"{API}/account.json", headers=bearer).status_code == 401
    token = client.get("/_sandbox/state").json()["credentials"][0]["api_token"]
    assert token != roster.STAFFOMATIC_API_TOKEN
    fresh = client.get(f"{API}/account.json", headers={"Authorization": f"Bearer {token}"})
    assert fresh.status_code == 200
    assert client.get(f"{API}/account.json").status_code == 200  # Basic auth is unaffected


def test_state_load_and_reset_round_trip(client: TestClient) -> None:
    state = client.get("/_sandbox/state").json()
    user = user_by_custom_id(client, "1001")
    client.put(f"{API}/users/{user['id']}.json", json={"first_name": "Changed"})
    assert client.post("/_sandbox/load", json=state).status_code == 200
    assert user_by_custom_id(client, "1001")["first_name"] == "Anna"
    empty = client.post("/_sandbox/reset", json={"seed": "empty"})
    assert empty.status_code == 200
    assert client.get(f"{API}/absences.json").json() == []
    assert len(client.get(f"{API}/users.json").json()) == 1  # the API user
    assert client.post("/_sandbox/load", json={"account": {}}).status_code == 400


def test_injected_errors_use_plain_text_5xx(client: TestClient) -> None:
    client.post("/_sandbox/faults", json={"error_rate": 1.0})
    response = client.get(f"{API}/account.json")
    assert response.status_code in (500, 502, 503)
    client.post("/_sandbox/faults", json={"clear": True})
    assert client.get(f"{API}/account.json").status_code == 200


def test_staff_users_may_read_but_not_write(emulator: StaffomaticEmulator) -> None:
    emulator.state["credentials"].append({"user_id": 286001, "password": "pw", "api_token": None})
    headers = UA | basic("anna.schmidt@demo-gastro.example", "pw")
    with TestClient(emulator.app(), headers=headers) as c:
        assert c.get(f"{API}/user.json").json()["custom_id"] == "1001"
        assert c.put(f"{API}/users/286001.json", json={"first_name": "A"}).status_code == 403


def test_served_over_loopback_by_the_sandbox_server(sandbox: Sandbox) -> None:
    response = httpx.get(
        f"{sandbox.staffomatic_api}/demo/users.json",
        params={"state": "all"},
        auth=AUTH,
        headers=UA,
    )
    assert response.status_code == 200
    assert len(response.json()) == 15
    assert response.headers["Link"].startswith("<http://127.0.0.1:")


ODD_BODIES: list[Any] = [
    [],
    "text",
    {"starts_at": 5, "ends_at": "0001-01-01T00:00:00+14:00"},
    {"starts_at": "9999-12-31T23:59:59-12:00", "user_id": 286001, "work_timer_id": 91002},
    {"user_id": "x", "applicant_id": None, "absence_type_id": [1], "work_timer_id": {"a": 1}},
    {"department_ids": "x", "location_ids": [None], "email": ["a"], "role": "king"},
    {"do": ["approve"], "all_day": None, "paid": "maybe", "max_vacation_days": float("nan")},
    {"time_zone": "Mars/Base", "name": None, "custom_id": {"id": 1}, "user_ids": [1.5, "z"]},
]
WRITES = [
    ("PUT", "/account.json"),
    ("POST", "/locations/24001/users.json"),
    ("PATCH", "/users/286001.json"),
    ("POST", "/locations/24001/absence_types.json"),
    ("PUT", "/absence_types/14501.json"),
    ("POST", "/absences.json"),
    ("PATCH", "/absences/565003.json"),
    ("POST", "/work_timers.json"),
    ("PATCH", "/work_timers/91002.json"),
    ("POST", "/break_timers.json"),
    ("PUT", "/break_timers/40001.json"),
    ("POST", "/locations/24001/departments.json"),
    ("PUT", "/departments/39101/add_users.json"),
]


@pytest.mark.parametrize(("method", "path"), WRITES, ids=lambda v: str(v))
def test_odd_write_bodies_get_a_vendor_error_never_a_crash(
    client: TestClient, method: str, path: str
) -> None:
    for body in ODD_BODIES:
        content = json.dumps(body).encode()
        response = client.request(
            method, f"{API}{path}", content=content, headers={"Content-Type": "application/json"}
        )
        assert response.status_code in (200, 201, 400, 422), (body, response.text)


def test_odd_query_parameters_get_a_vendor_error_never_a_crash(client: TestClient) -> None:
    for params in (
        {"page": "²"},
        {"user_ids[]": "٣"},
        {"from": "0001-01-01T00:00:00+14:00", "until": "9999-12-31"},
        {"paid": "maybe"},
        {"state[]": "nope"},
    ):
        for path in ("/absences.json", "/work_timers.json", "/break_timers.json"):
            response = client.get(f"{API}{path}", params=params)
            assert response.status_code in (200, 400), (params, response.text)
    assert client.get(f"{API}/users/٣.json").status_code == 404


def test_a_deleted_absences_id_is_never_handed_out_again(client: TestClient) -> None:
    user = user_by_custom_id(client, "1001")
    types = client.get(f"{API}/locations/24001/absence_types.json").json()
    body = {
        "starts_at": "2030-08-01T00:00:00+02:00",
        "ends_at": "2030-08-01T23:59:59+02:00",
        "applicant_id": user["id"],
        "absence_type_id": types[0]["id"],
        "all_day": True,
    }
    first = client.post(f"{API}/locations/24001/absences.json", json=body).json()["id"]
    assert client.delete(f"{API}/absences/{first}.json").status_code == 204
    second = client.post(f"{API}/locations/24001/absences.json", json=body).json()["id"]
    assert second != first
