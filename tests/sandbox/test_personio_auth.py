"""Personio emulator: v1 and v2 authentication, token life, 401/403 in each version's shape."""

from __future__ import annotations

import time

import pytest
from sandbox.personio import PersonioEmulator
from sandbox.roster import PERSONIO_CLIENT_ID, PERSONIO_CLIENT_SECRET
from starlette.testclient import TestClient

CREDENTIALS = {"client_id": PERSONIO_CLIENT_ID, "client_secret": PERSONIO_CLIENT_SECRET}


@pytest.fixture
def emulator() -> PersonioEmulator:
    return PersonioEmulator("demo")


@pytest.fixture
def client(emulator: PersonioEmulator) -> TestClient:
    return TestClient(emulator.app())


def v1_token(client: TestClient) -> str:
    response = client.post("/v1/auth", json=CREDENTIALS)
    assert response.status_code == 200
    return str(response.json()["data"]["token"])


def test_v1_auth_with_json_body_returns_a_stable_papi_token(client: TestClient) -> None:
    first = client.post("/v1/auth", json=CREDENTIALS)
    second = client.post("/v1/auth", data=CREDENTIALS)  # form body works too
    body = first.json()
    assert first.status_code == 200
    assert body["success"] is True
    assert body["data"]["token"].startswith("papi-")
    assert 86000 < body["data"]["expires_in"] <= 86400
    assert first.headers["authorization"] == f"Bearer {body['data']['token']}"
    assert second.json()["data"]["token"] == body["data"]["token"]


def test_v1_auth_with_credentials_in_query_string_is_forbidden(client: TestClient) -> None:
    response = client.post("/v1/auth", params=CREDENTIALS)
    assert response.status_code == 403
    assert response.json()["success"] is False
    assert "body" in response.json()["error"]["message"]


@pytest.mark.parametrize(
    ("body", "status"),
    [
        ({"client_id": PERSONIO_CLIENT_ID, "client_secret": "wrong"}, 401),
        ({"client_id": PERSONIO_CLIENT_ID}, 400),
    ],
)
def test_v1_auth_rejects_wrong_or_missing_credentials(
    client: TestClient, body: dict[str, str], status: int
) -> None:
    response = client.post("/v1/auth", json=body)
    assert response.status_code == status
    assert response.json()["error"]["code"] == status


def test_v1_auth_with_malformed_json_answers_400_not_500(client: TestClient) -> None:
    response = client.post(
        "/v1/auth", content=b"{not json", headers={"content-type": "application/json"}
    )
    assert response.status_code == 400
    assert response.json()["success"] is False


def test_v1_call_without_token_is_401_and_with_bad_token_is_403(client: TestClient) -> None:
    missing = client.get("/v1/company/employees")
    invalid = client.get("/v1/company/employees", headers={"Authorization": "Bearer papi-nope"})
    assert missing.status_code == 401
    assert missing.json() == {
        "success": False,
        "error": {"code": 401, "message": "Authorization is not provided"},
    }
    assert invalid.status_code == 403
    assert invalid.json()["error"]["code"] == 403


def test_expired_token_is_403(client: TestClient, emulator: PersonioEmulator) -> None:
    token = v1_token(client)
    emulator.state["tokens"][0]["expires_at"] = time.time() - 1
    response = client.get("/v1/company/employees", headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 403
    assert v1_token(client) != token  # a new token is issued once the old one expired


def test_invalidated_tokens_force_reauthentication(client: TestClient) -> None:
    token = v1_token(client)
    headers = {"Authorization": f"Bearer {token}"}
    assert client.get("/v1/company/employees", headers=headers).status_code == 200
    assert client.post("/_sandbox/faults", json={"invalidate_tokens": True}).status_code == 200
    assert client.get("/v1/company/employees", headers=headers).status_code == 403
    fresh = {"Authorization": f"Bearer {v1_token(client)}"}
    assert client.get("/v1/company/employees", headers=fresh).status_code == 200


def test_v2_token_from_form_body_works_on_v2_endpoints(client: TestClient) -> None:
    response = client.post(
        "/v2/auth/token", data={**CREDENTIALS, "grant_type": "client_credentials"}
    )
    body = response.json()
    assert response.status_code == 200
    assert body["token_type"] == "Bearer"
    assert body["access_token"].startswith("papi-")
    assert body["expires_in"] > 86000
    assert "personio:absences:read" in body["scope"].split()
    headers = {"Authorization": f"Bearer {body['access_token']}"}
    assert client.get("/v2/absence-types", headers=headers).status_code == 200


def test_v1_token_is_refused_on_v2_unless_the_generations_share_tokens(client: TestClient) -> None:
    headers = {"Authorization": f"Bearer {v1_token(client)}"}
    refused = client.get("/v2/absence-periods", headers=headers)
    assert refused.status_code == 403  # each generation has its own tokens, as documented
    assert refused.headers["content-type"].startswith("application/problem+json")
    client.post("/_sandbox/variants", json={"token_generations": "shared"}).raise_for_status()
    assert client.get("/v2/absence-periods", headers=headers).status_code == 200


@pytest.mark.parametrize(
    ("form", "status", "error"),
    [
        ({**CREDENTIALS, "grant_type": "password"}, 400, "unsupported_grant_type"),
        ({**CREDENTIALS}, 400, "invalid_request"),
        (
            {**CREDENTIALS, "client_secret": "x", "grant_type": "client_credentials"},
            401,
            "invalid_client",
        ),
        (
            {**CREDENTIALS, "grant_type": "client_credentials", "scope": "personio:payroll:write"},
            400,
            "invalid_scope",
        ),
    ],
)
def test_v2_token_errors_are_oauth_style(
    client: TestClient, form: dict[str, str], status: int, error: str
) -> None:
    response = client.post("/v2/auth/token", data=form)
    assert response.status_code == status
    assert response.json()["error"] == error
    assert response.json()["error_description"]


def test_v2_token_refuses_a_json_body(client: TestClient) -> None:
    response = client.post(
        "/v2/auth/token", json={**CREDENTIALS, "grant_type": "client_credentials"}
    )
    assert response.status_code == 400
    assert response.json()["error"] == "invalid_request"


def test_v2_errors_for_missing_and_invalid_tokens_are_problem_json(client: TestClient) -> None:
    missing = client.get("/v2/attendance-periods")
    invalid = client.get("/v2/attendance-periods", headers={"Authorization": "Bearer papi-x"})
    assert (missing.status_code, invalid.status_code) == (401, 403)
    for response in (missing, invalid):
        assert response.headers["content-type"].startswith("application/problem+json")
        body = response.json()
        assert body["personio_trace_id"]
        assert body["timestamp"]
        assert body["errors"][0]["type"].startswith(
            "https://developer.personio.de/reference/errors#"
        )


def test_token_with_narrow_scope_cannot_write_attendances(client: TestClient) -> None:
    form = {**CREDENTIALS, "grant_type": "client_credentials", "scope": "personio:attendances:read"}
    token = client.post("/v2/auth/token", data=form).json()["access_token"]
    headers = {"Authorization": f"Bearer {token}"}
    assert client.get("/v2/attendance-periods", headers=headers).status_code == 200
    response = client.post("/v2/attendance-periods", headers=headers, json={})
    assert response.status_code == 403
    assert "personio:attendances:write" in response.json()["errors"][0]["detail"]


def test_revoked_v2_token_stops_working(client: TestClient) -> None:
    form = {**CREDENTIALS, "grant_type": "client_credentials"}
    token = client.post("/v2/auth/token", data=form).json()["access_token"]
    assert client.post("/v2/auth/revoke", data={"token": token}).status_code == 200
    response = client.get("/v2/absence-types", headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 403
