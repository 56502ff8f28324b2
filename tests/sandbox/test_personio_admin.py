"""Personio emulator: seeds, state round trip, rate limits, injected faults, serving on loopback."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

import httpx
import pytest
from sandbox.core import SandboxError
from sandbox.personio import PersonioEmulator
from sandbox.personio.seed import build
from sandbox.roster import PERSONIO_CLIENT_ID, PERSONIO_CLIENT_SECRET, company_today
from sandbox.server import Sandbox
from starlette.testclient import TestClient

from tests.sandbox.personio_clients import V1_JSON, connect

CREDENTIALS = V1_JSON


@pytest.fixture
def emulator() -> PersonioEmulator:
    return PersonioEmulator("demo")


# ---- seeds -------------------------------------------------------------------------------------


def test_demo_seed_holds_every_edge_case_of_the_issue() -> None:
    state = build("demo")
    employees = {e["id"]: e["attributes"] for e in state["employees"]}
    today = company_today()
    assert len(employees) >= 20
    assert {e["office"]["name"] for e in employees.values()} == {"Berlin", "Hamburg"}
    assert len({e["department"]["name"] for e in employees.values()}) >= 3
    assert employees[1005]["email"] == ""
    assert date.fromisoformat(employees[1006]["hire_date"]) > today
    assert date.fromisoformat(employees[1007]["last_working_day"]) < today
    assert employees[1007]["status"] == "active"
    assert employees[1008]["status"] == "inactive"
    assert employees[1014]["dynamic_4711001"] is False
    assert state["company"]["time_zone"] == "Europe/Berlin"
    periods = state["absence_periods"]
    types = {t["id"]: t["name"] for t in state["absence_types"]}
    assert {p["approval"]["status"] for p in periods} == {"PENDING", "APPROVED", "REJECTED"}
    assert "Parental leave" in {types[p["absence_type"]["id"]] for p in periods}
    assert any(p["starts_from"]["type"] == "SECOND_HALF" for p in periods)
    assert any(p["ends_at"]["type"] == "FIRST_HALF" for p in periods)
    single = [p for p in periods if p["starts_from"]["date_time"] == p["ends_at"]["date_time"]]
    assert single
    assert len(single) < len(periods)  # multi-day ones too
    window = (today - timedelta(days=60)).isoformat(), (today + timedelta(days=365)).isoformat()
    assert all(window[0] <= p["starts_from"]["date_time"][:10] <= window[1] for p in periods)
    assert {p["type"] for p in state["attendance_periods"]} == {"WORK", "BREAK"}


def test_seeds_are_deterministic() -> None:
    assert build("demo") == build("demo")
    assert build("scale", employees=30) == build("scale", employees=30)


def test_scale_seed_is_sized_by_its_parameters() -> None:
    state = build("scale", employees=1000, absences_per_employee=2, timers_per_week=5, weeks=1)
    assert len(state["employees"]) == 1000
    assert len(state["absence_periods"]) == 2000
    assert len({p["id"] for p in state["absence_periods"]}) == 2000


def test_empty_seed_has_only_credentials_and_types() -> None:
    state = build("empty")
    assert state["employees"] == state["absence_periods"] == state["attendance_periods"] == []
    assert len(state["api_clients"]) == 2
    assert len(state["absence_types"]) == 4


@pytest.mark.parametrize(
    ("seed", "params"),
    [
        ("nonsense", {}),
        ("scale", {"employees": -1}),
        ("scale", {"people": 3}),
        ("demo", {"employees": 3}),
        ("scale", {"employees": "many"}),
    ],
)
def test_unknown_seed_or_bad_parameter_is_a_sandbox_error(
    seed: str, params: dict[str, Any]
) -> None:
    with pytest.raises(SandboxError):
        build(seed, **params)


def test_describe_names_the_credentials_and_the_counts(emulator: PersonioEmulator) -> None:
    text = "\n".join(emulator.describe())
    assert PERSONIO_CLIENT_ID in text
    assert PERSONIO_CLIENT_SECRET in text
    assert "restricted-client-id" in text
    assert "22 employees" in text


# ---- state ---------------------------------------------------------------------------------


def test_state_load_round_trip_keeps_tokens_working(emulator: PersonioEmulator) -> None:
    client = connect(emulator)
    state = client.get("/_sandbox/state").json()
    assert state["tokens"]
    assert client.post("/_sandbox/load", json=state).status_code == 200
    assert client.get("/_sandbox/state").json() == state
    assert client.get("/v1/company/employees", params={"limit": 1}).status_code == 200


def test_load_replaces_data_and_reset_restores_a_seed(emulator: PersonioEmulator) -> None:
    client = connect(emulator)
    state = client.get("/_sandbox/state").json()
    state["employees"] = state["employees"][:3]
    client.post("/_sandbox/load", json=state)
    body = client.get("/v1/company/employees").json()
    assert body["metadata"]["total_elements"] == 3
    reset = client.post("/_sandbox/reset", json={"seed": "scale", "employees": 7})
    assert reset.status_code == 200
    assert len(emulator.state["employees"]) == 7
    assert emulator.state["tokens"] == []


@pytest.mark.parametrize(
    "change",
    [{"employees": {}}, {"api_clients": [{"client_id": "x"}]}, {"company": {"time_zone": "Mars"}}],
)
def test_invalid_state_documents_are_refused_with_a_reason(
    emulator: PersonioEmulator, change: dict[str, Any]
) -> None:
    client = TestClient(emulator.app())
    state = {**client.get("/_sandbox/state").json(), **change}
    response = client.post("/_sandbox/load", json=state)
    assert response.status_code == 400
    assert "cannot load" in response.json()["error"]
    assert len(emulator.state["employees"]) == 22  # nothing changed


def test_bad_reset_is_400(emulator: PersonioEmulator) -> None:
    client = TestClient(emulator.app())
    assert client.post("/_sandbox/reset", json={"seed": "galaxy"}).status_code == 400


# ---- rate limits ---------------------------------------------------------------------------


def test_employees_list_burst_limit_gives_v1_429_with_retry_after(
    emulator: PersonioEmulator,
) -> None:
    emulator.state["limits"]["v1_employees_per_second"] = 2
    client = connect(emulator)
    statuses = [client.get("/v1/company/employees").status_code for _ in range(3)]
    assert statuses == [200, 200, 429]
    response = client.get("/v1/company/employees")
    assert response.json() == {
        "success": False,
        "error": {"code": 429, "message": "Too Many Requests"},
    }
    assert int(response.headers["retry-after"]) >= 1
    assert client.get("/v1/company/employees/attributes").status_code == 200  # other endpoints
    assert client.get("/_sandbox/requests").json()["throttled"] == 2


def test_overall_v1_limit_and_auth_limit(emulator: PersonioEmulator) -> None:
    emulator.state["limits"]["v1_auth_per_minute"] = 2
    client = TestClient(emulator.app())
    statuses = [client.post("/v1/auth", json=CREDENTIALS).status_code for _ in range(3)]
    assert statuses == [200, 200, 429]
    emulator.state["limits"]["v1_per_minute"] = 3
    emulator.on_reset()
    client = connect(emulator)  # authenticating counts for the address, not the client
    statuses = [client.get("/v1/company/employees/1001").status_code for _ in range(4)]
    assert statuses == [200, 200, 200, 429]


def test_v2_token_bucket_announces_itself_and_429s_without_retry_after(
    emulator: PersonioEmulator,
) -> None:
    emulator.state["limits"]["v2"] = {
        "/v2/absence-periods": {"replenish_rate": 0.01, "burst_capacity": 2}
    }
    client = connect(emulator, v2=True)
    responses = [client.get("/v2/absence-periods") for _ in range(3)]
    assert [r.status_code for r in responses] == [200, 200, 429]
    assert [r.headers["x-ratelimit-remaining"] for r in responses] == ["1", "0", "0"]
    for response in responses:
        assert response.headers["x-ratelimit-burst-capacity"] == "2"
        assert response.headers["x-ratelimit-replenish-rate"] == "0.01"
        assert response.headers["x-ratelimit-requested-tokens"] == "1"
    assert "retry-after" not in responses[2].headers
    assert responses[2].headers["content-type"].startswith("application/problem+json")
    other = client.get("/v2/attendance-periods")  # another endpoint, another bucket
    assert other.status_code == 200
    assert other.headers["x-ratelimit-burst-capacity"] == "10"


def test_rate_limits_can_be_switched_off(emulator: PersonioEmulator) -> None:
    emulator.state["limits"]["v1_employees_per_second"] = 1
    client = connect(emulator)
    client.post("/_sandbox/faults", json={"rate_limits": False})
    statuses = {client.get("/v1/company/employees").status_code for _ in range(5)}
    assert statuses == {200}
    assert "x-ratelimit-remaining" in client.get("/v2/absence-types").headers


# ---- faults --------------------------------------------------------------------------------


def test_burst_of_429s_has_retry_after_on_v1_only(emulator: PersonioEmulator) -> None:
    client = connect(emulator)
    client.post("/_sandbox/faults", json={"burst_429": 2, "retry_after": 3})
    v1 = client.get("/v1/company/employees")
    v2 = client.get("/v2/absence-types")
    assert (v1.status_code, v2.status_code) == (429, 429)
    assert v1.headers["retry-after"] == "3"
    assert "retry-after" not in v2.headers
    assert v2.headers["x-ratelimit-remaining"] == "0"
    assert client.get("/v1/company/employees").status_code == 200


def test_injected_server_errors_use_each_versions_error_shape(emulator: PersonioEmulator) -> None:
    client = connect(emulator)
    client.post("/_sandbox/faults", json={"error_rate": 1.0})
    v1 = client.get("/v1/company/employees")
    v2 = client.get("/v2/absence-types")
    assert v1.status_code in (500, 502, 503)
    assert v1.json()["success"] is False
    assert v2.status_code in (500, 502, 503)
    assert v2.json()["errors"][0]["type"].startswith("https://developer.personio.de/")
    client.post("/_sandbox/faults", json={"clear": True})
    assert client.get("/v1/company/employees").status_code == 200


def test_requests_are_counted_by_path_template(emulator: PersonioEmulator) -> None:
    client = connect(emulator)
    client.get("/v1/company/employees")
    client.get("/v2/absence-periods/nope")
    counts = client.get("/_sandbox/requests").json()["by_endpoint"]
    assert counts["POST /v1/auth"] == 1
    assert counts["GET /v1/company/employees"] == 1
    assert counts["GET /v2/absence-periods/{id}"] == 1


# ---- loopback ------------------------------------------------------------------------------


def test_served_over_loopback_with_absolute_next_links(sandbox: Sandbox) -> None:
    with httpx.Client(base_url=sandbox.personio_url) as http:
        token = http.post("/v1/auth", json=CREDENTIALS).json()["data"]["token"]
        headers = {"Authorization": f"Bearer {token}"}
        employees = http.get("/v1/company/employees", params={"limit": 100}, headers=headers)
        assert employees.json()["metadata"]["total_elements"] == 22
        form = {**CREDENTIALS, "grant_type": "client_credentials"}
        v2_token = http.post("/v2/auth/token", data=form).json()["access_token"]
        headers = {"Authorization": f"Bearer {v2_token}"}
        page = http.get("/v2/absence-periods", params={"limit": 5}, headers=headers).json()
        next_url = page["_meta"]["links"]["next"]["href"]
        assert next_url.startswith(f"{sandbox.personio_url}/v2/absence-periods?")
        assert http.get(next_url, headers=headers).status_code == 200
