"""Personio emulator: v2 absence types, absence periods and attendance periods."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from sandbox.personio import PersonioEmulator
from sandbox.roster import company_today
from starlette.testclient import TestClient

from tests.sandbox.personio_clients import connect

TODAY = company_today()


@pytest.fixture
def emulator() -> PersonioEmulator:
    return PersonioEmulator("demo")


@pytest.fixture
def client(emulator: PersonioEmulator) -> TestClient:
    return connect(emulator, v2=True)


def type_id(client: TestClient, name: str) -> str:
    types = client.get("/v2/absence-types").json()["_data"]
    return next(t["id"] for t in types if t["name"] == name)


def absence(client: TestClient, type_name: str = "Vacation", **changes: Any) -> dict[str, Any]:
    day = (TODAY + timedelta(days=200)).isoformat()
    body = {
        "person": {"id": "1004"},
        "absence_type": {"id": type_id(client, type_name)},
        "starts_from": {"date_time": f"{day}T00:00:00", "type": "FIRST_HALF"},
        "ends_at": {"date_time": f"{day}T00:00:00", "type": "SECOND_HALF"},
        "comment": "From a test",
    }
    body.update(changes)
    return body


def work(person: str, start: str, end: str | None, kind: str = "WORK") -> dict[str, Any]:
    return {
        "person": {"id": person},
        "type": kind,
        "start": {"date_time": start},
        "end": None if end is None else {"date_time": end},
    }


def problem(response: Any, status: int) -> str:
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    return str(response.json()["errors"][0]["detail"])


def test_absence_types_include_one_without_counterpart_and_one_differing_in_case(
    client: TestClient,
) -> None:
    types = client.get("/v2/absence-types").json()["_data"]
    assert {t["name"] for t in types} == {"Vacation", "Sick leave", "Training", "Parental leave"}
    assert all(set(t) == {"id", "name", "category", "unit"} for t in types)
    one = client.get(f"/v2/absence-types/{types[0]['id']}")
    assert one.json()["name"] == types[0]["name"]


def test_absence_cursor_paging_visits_every_period_once_with_absolute_next_links(
    client: TestClient, emulator: PersonioEmulator
) -> None:
    url: str | None = "/v2/absence-periods?limit=4&person.id=1001,1002,1003,1009,1011,1012,1015"
    seen: list[str] = []
    while url:
        body = client.get(url).json()
        seen += [p["id"] for p in body["_data"]]
        url = body["_meta"]["links"].get("next", {}).get("href")
        if url:
            assert url.startswith("http://testserver/v2/absence-periods?")
            assert "person.id=1001" in url
    expected = [
        p["id"]
        for p in emulator.state["absence_periods"]
        if p["person"]["id"] in {"1001", "1002", "1003", "1009", "1011", "1012", "1015"}
    ]
    assert sorted(seen) == sorted(expected)
    assert len(seen) == len(set(seen)) == 8


def test_absence_window_filter_matches_overlapping_periods(client: TestClient) -> None:
    low, high = TODAY + timedelta(days=-2), TODAY + timedelta(days=12)
    params = {
        "starts_from.date_time.gte": f"{low}T00:00:00",
        "ends_at.date_time.lte": f"{high}T00:00:00",
    }
    data = client.get("/v2/absence-periods", params=params).json()["_data"]
    people = sorted(p["person"]["id"] for p in data)
    # Anna's single day, Katharina's training, Lukas' sick day and Ida's long parental leave
    # (started 50 days ago, still running): the last overlaps the window without lying inside it.
    assert people == ["1001", "1009", "1011", "1012"]


def test_date_time_with_offset_or_z_is_400(client: TestClient) -> None:
    detail = problem(
        client.get("/v2/absence-periods", params={"updated_at.gte": "2025-01-01T00:00:00Z"}), 400
    )
    assert "without offset" in detail
    body = absence(client, starts_from={"date_time": "2030-01-01T00:00:00+01:00"})
    problem(client.post("/v2/absence-periods", json=body), 400)


def test_new_absence_is_pending_unless_approval_is_skipped(client: TestClient) -> None:
    created = client.post("/v2/absence-periods", json=absence(client))
    assert created.status_code == 201
    period = created.json()
    assert period["approval"]["status"] == "PENDING"
    assert period["timezone_id"] == "Europe/Berlin"
    assert period["_meta"]["links"]["self"]["href"].endswith(period["id"])
    fetched = client.get(f"/v2/absence-periods/{period['id']}").json()
    assert fetched["starts_from"] == period["starts_from"]
    later = (TODAY + timedelta(days=210)).isoformat()
    skipped = client.post(
        "/v2/absence-periods?skip_approval=true",
        json=absence(
            client,
            starts_from={"date_time": f"{later}T00:00:00"},
            ends_at={"date_time": f"{later}T00:00:00", "type": "FIRST_HALF"},
        ),
    )
    assert skipped.json()["approval"]["status"] == "APPROVED"
    assert skipped.json()["ends_at"]["type"] == "FIRST_HALF"


@pytest.mark.parametrize(
    ("changes", "status", "words"),
    [
        ({"person": {"id": "4242"}}, 422, "Person 4242"),
        ({"absence_type": {"id": "no-such-type"}}, 422, "no-such-type"),
        ({"ends_at": {"date_time": f"{TODAY}T00:00:00"}}, 422, "greater than end"),
        ({"person": {}}, 400, "person.id"),
        ({"starts_from": {"date_time": "tomorrow"}}, 400, "starts_from.date_time"),
        ({"starts_from": {"date_time": "2030-01-01T00:00:00", "type": "NOON"}}, 400, "type"),
    ],
)
def test_invalid_absences_are_rejected_with_a_reason(
    client: TestClient, changes: dict[str, Any], status: int, words: str
) -> None:
    detail = problem(client.post("/v2/absence-periods", json=absence(client, **changes)), status)
    assert words in detail


def test_single_day_absence_with_both_half_days_is_422(client: TestClient) -> None:
    body = absence(client)
    body["starts_from"]["type"] = "SECOND_HALF"
    body["ends_at"]["type"] = "FIRST_HALF"
    assert "single-day" in problem(client.post("/v2/absence-periods", json=body), 422)


def test_overlapping_absence_of_the_same_person_is_409(client: TestClient) -> None:
    assert client.post("/v2/absence-periods", json=absence(client)).status_code == 201
    detail = problem(client.post("/v2/absence-periods", json=absence(client, "Training")), 409)
    assert "overlaps" in detail


@pytest.mark.parametrize("payload", [b"{broken", b"[1, 2]"])
def test_malformed_body_is_400_not_500(client: TestClient, payload: bytes) -> None:
    response = client.post(
        "/v2/absence-periods", content=payload, headers={"content-type": "application/json"}
    )
    problem(response, 400)


def test_patch_revalidates_needs_new_approval_and_delete_removes(client: TestClient) -> None:
    created = client.post("/v2/absence-periods?skip_approval=true", json=absence(client)).json()
    url = f"/v2/absence-periods/{created['id']}"
    bad = {"ends_at": {"date_time": f"{TODAY}T00:00:00"}}
    problem(client.patch(url, json=bad), 422)
    later = (TODAY + timedelta(days=201)).isoformat()
    moved = client.patch(url, json={"ends_at": {"date_time": f"{later}T00:00:00"}})
    assert moved.status_code == 204
    after = client.get(url).json()
    assert after["ends_at"]["date_time"] == f"{later}T00:00:00"
    assert after["approval"]["status"] == "PENDING"
    assert after["updated_at"] >= created["updated_at"]
    assert client.patch(f"{url}?skip_approval=true", json={}).status_code == 204
    assert client.get(url).json()["approval"]["status"] == "APPROVED"
    assert client.delete(url).status_code == 204
    problem(client.get(url), 404)


def test_attendance_work_and_break_in_sequence_are_accepted(client: TestClient) -> None:
    day = "2025-03-10"
    periods = [
        work("1004", f"{day}T08:00:00", f"{day}T12:00:00"),
        work("1004", f"{day}T12:00:00", f"{day}T12:30:00", "BREAK"),
        work("1004", f"{day}T12:30:00", f"{day}T16:30:00"),
    ]
    responses = [client.post("/v2/attendance-periods", json=p) for p in periods]
    assert [r.status_code for r in responses] == [201, 201, 201]
    assert responses[0].json()["approval"]["status"] == "PENDING"
    listed = client.get(
        "/v2/attendance-periods",
        params={"person.id": "1004", "start.date_time.gte": f"{day}T00:00:00"},
    ).json()["_data"]
    assert [p["type"] for p in listed] == ["WORK", "BREAK", "WORK"]
    assert all(p["attribution_date"] == day for p in listed)


@pytest.mark.parametrize(
    ("second", "status", "words"),
    [
        (work("1004", "2025-03-10T11:00:00", "2025-03-10T13:00:00"), 409, "overlaps"),
        (work("1004", "2025-03-11T08:00:00", "2025-03-12T08:30:00"), 422, "too long"),
        (work("1004", "2025-03-11T18:00:00", "2025-03-11T08:00:00"), 422, "greater than end"),
        (work("1004", "2025-03-11T08:00:00", None, "NAP"), 400, "WORK or BREAK"),
        (work("4242", "2025-03-11T08:00:00", "2025-03-11T09:00:00"), 422, "Person 4242"),
        (
            {**work("1004", "2025-03-11T08:00:00", None, "BREAK"), "project": {"id": "p1"}},
            422,
            "project",
        ),
    ],
)
def test_invalid_attendance_is_rejected_with_a_reason(
    client: TestClient, second: dict[str, Any], status: int, words: str
) -> None:
    first = work("1004", "2025-03-10T08:00:00", "2025-03-10T12:00:00")
    assert client.post("/v2/attendance-periods?skip_approval=true", json=first).status_code == 201
    assert words in problem(client.post("/v2/attendance-periods", json=second), status)


def test_period_length_is_measured_in_real_time_across_the_dst_change(client: TestClient) -> None:
    # 2025-10-26 03:00 CEST became 02:00 CET: 22:00 to 21:30 local is 24.5 real hours.
    too_long = work("1004", "2025-10-25T22:00:00", "2025-10-26T21:30:00")
    problem(client.post("/v2/attendance-periods", json=too_long), 422)
    night = work("1004", "2025-10-25T22:00:00", "2025-10-26T06:00:00")
    assert client.post("/v2/attendance-periods", json=night).status_code == 201


def test_attendance_patch_revalidates_and_delete_is_204(client: TestClient) -> None:
    first = client.post(
        "/v2/attendance-periods", json=work("1004", "2025-03-10T08:00:00", "2025-03-10T12:00:00")
    ).json()
    second = client.post(
        "/v2/attendance-periods", json=work("1004", "2025-03-10T13:00:00", "2025-03-10T17:00:00")
    ).json()
    url = f"/v2/attendance-periods/{second['id']}"
    clash = {"start": {"date_time": "2025-03-10T11:00:00"}}
    problem(client.patch(url, json=clash), 409)
    response = client.patch(f"{url}?skip_approval=true", json={"comment": "checked"})
    assert response.status_code == 204
    after = client.get(url).json()
    assert (after["comment"], after["approval"]["status"]) == ("checked", "CONFIRMED")
    assert client.delete(f"/v2/attendance-periods/{first['id']}").status_code == 204
    problem(client.delete(f"/v2/attendance-periods/{first['id']}"), 404)


def test_attendance_filters_and_sort(client: TestClient) -> None:
    everything = client.get("/v2/attendance-periods").json()["_data"]
    assert [p["person"]["id"] for p in everything] == ["1001", "1001", "1001", "1002", "1011"]
    confirmed = client.get("/v2/attendance-periods", params={"status": "CONFIRMED"}).json()
    assert len(confirmed["_data"]) == 4
    newest = client.get("/v2/attendance-periods", params={"sort": "-start.date_time"}).json()
    starts = [p["start"]["date_time"] for p in newest["_data"]]
    assert starts == sorted(starts, reverse=True)
    problem(client.get("/v2/attendance-periods", params={"sort": "colour"}), 400)


@pytest.mark.parametrize(
    "params", [{"limit": "101"}, {"limit": "0"}, {"cursor": "%%%"}, {"status": "MAYBE"}]
)
def test_bad_list_parameters_are_400(client: TestClient, params: dict[str, str]) -> None:
    problem(client.get("/v2/attendance-periods", params=params), 400)


def test_unknown_ids_are_404_problems(client: TestClient) -> None:
    problem(client.get("/v2/attendance-periods/nope"), 404)
    problem(client.patch("/v2/absence-periods/nope", json={}), 404)
    problem(client.get("/v2/absence-types/nope"), 404)


def test_a_deleted_periods_id_is_never_handed_out_again(client: TestClient) -> None:
    body = work("1004", "2025-03-10T08:00:00", "2025-03-10T12:00:00")
    first = client.post("/v2/attendance-periods", json=body).json()["id"]
    assert client.delete(f"/v2/attendance-periods/{first}").status_code == 204
    second = client.post("/v2/attendance-periods", json=body).json()["id"]
    assert second != first
