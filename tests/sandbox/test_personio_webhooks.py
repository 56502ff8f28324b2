"""Personio emulator: webhook management (``/v2/webhooks``), its checks, scopes and switches."""

from __future__ import annotations

from typing import Any

import pytest
from sandbox.personio import PersonioEmulator
from starlette.testclient import TestClient

from tests.sandbox.personio_clients import V2_FORM, connect
from tests.sandbox.test_personio_periods import problem

HOOK = "https://sync.example/personio/events"


def webhook(**changes: Any) -> dict[str, Any]:
    body = {
        "url": HOOK,
        "description": "Staffomatic sync",
        "token": "Bearer s3cret",
        "enabled_events": ["absence-period.created", "person.created"],
    }
    body.update(changes)
    return body


@pytest.fixture
def emulator() -> PersonioEmulator:
    return PersonioEmulator("demo")


@pytest.fixture
def client(emulator: PersonioEmulator) -> TestClient:
    return connect(emulator, v2=True)


def test_a_created_webhook_is_disabled_with_token_auth_until_told_otherwise(
    client: TestClient,
) -> None:
    created = client.post("/v2/webhooks", json=webhook())
    assert created.status_code == 201
    hook = created.json()
    assert hook["status"] == "DISABLED"
    assert hook["auth_type"] == "TOKEN"
    assert hook["token"] == "Bearer s3cret"
    assert hook["enabled_events"] == ["absence-period.created", "person.created"]
    assert hook["_meta"]["links"]["self"]["href"].endswith(f"/v2/webhooks/{hook['id']}")
    assert client.get(f"/v2/webhooks/{hook['id']}").json() == hook
    assert [h["id"] for h in client.get("/v2/webhooks").json()["_data"]] == [hook["id"]]


def test_a_webhook_is_updated_and_deleted(client: TestClient) -> None:
    hook = client.post("/v2/webhooks", json=webhook()).json()
    changed = client.patch(
        f"/v2/webhooks/{hook['id']}",
        json={"status": "ENABLED", "enabled_events": ["absence-period.deleted"]},
    )
    assert changed.status_code == 200
    assert changed.json()["status"] == "ENABLED"
    assert changed.json()["enabled_events"] == ["absence-period.deleted"]
    assert changed.json()["url"] == HOOK  # left as it was
    to_none = client.patch(f"/v2/webhooks/{hook['id']}", json={"auth_type": "NONE"}).json()
    assert "token" not in to_none
    assert client.delete(f"/v2/webhooks/{hook['id']}").status_code == 204
    assert problem(client.get(f"/v2/webhooks/{hook['id']}"), 404)
    assert client.get("/v2/webhooks").json()["_data"] == []


@pytest.mark.parametrize(
    ("body", "status", "field"),
    [
        ({"url": None}, 400, "url"),
        ({"enabled_events": []}, 400, "enabled_events"),
        ({"status": "ON"}, 400, "status"),
        ({"auth_type": "BASIC"}, 400, "auth_type"),
        ({"enabled_events": ["payroll.created"]}, 422, "enabled_events"),
        ({"url": "http://sync.example/events"}, 422, "url"),
        ({"token": ""}, 422, "token"),
        ({"custom_headers": {"X-Key": "k"}}, 422, "custom_headers"),
        ({"auth_type": "CUSTOM", "custom_headers": {"Content-Type": "x"}}, 422, "custom_headers"),
        (
            {"auth_type": "CUSTOM", "custom_headers": {f"X-{n}": "v" for n in range(4)}},
            422,
            "custom_headers",
        ),
    ],
)
def test_invalid_webhooks_are_refused_naming_the_field(
    client: TestClient, body: dict[str, Any], status: int, field: str
) -> None:
    sent = webhook(**body)
    if body.get("url") is None and "url" in body:
        del sent["url"]
    response = client.post("/v2/webhooks", json=sent)
    assert problem(response, status)
    assert response.json()["errors"][0]["_meta"]["field"] == field
    assert client.get("/v2/webhooks").json()["_data"] == []


def test_plain_http_is_taken_on_loopback_only(client: TestClient) -> None:
    local = client.post("/v2/webhooks", json=webhook(url="http://127.0.0.1:9/events"))
    assert local.status_code == 201


def test_custom_headers_replace_the_token(client: TestClient) -> None:
    hook = client.post(
        "/v2/webhooks",
        json=webhook(auth_type="CUSTOM", custom_headers={"X-Sync-Key": "k1"}),
    ).json()
    assert hook["custom_headers"] == {"X-Sync-Key": "k1"}
    assert "token" not in hook


def test_a_second_webhook_for_the_same_url_conflicts_unless_switched(
    client: TestClient, emulator: PersonioEmulator
) -> None:
    assert client.post("/v2/webhooks", json=webhook()).status_code == 201
    assert problem(client.post("/v2/webhooks", json=webhook()), 409)
    client.post("/_sandbox/variants", json={"webhook_same_url": "allowed"})
    assert client.post("/v2/webhooks", json=webhook()).status_code == 201
    assert len(emulator.state["webhooks"]) == 2


def test_the_token_can_be_hidden_from_reads(client: TestClient) -> None:
    client.post("/_sandbox/variants", json={"webhook_token_shown": "hidden"})
    hook = client.post("/v2/webhooks", json=webhook()).json()
    assert "token" not in hook
    assert "token" not in client.get(f"/v2/webhooks/{hook['id']}").json()


def test_webhooks_need_their_own_scopes(emulator: PersonioEmulator) -> None:
    client = TestClient(emulator.app())
    form = {**V2_FORM, "scope": "personio:webhooks:read"}
    token = client.post("/v2/auth/token", data=form).json()["access_token"]
    client.headers["Authorization"] = f"Bearer {token}"
    assert client.get("/v2/webhooks").status_code == 200
    detail = problem(client.post("/v2/webhooks", json=webhook()), 403)
    assert "personio:webhooks:write" in detail
    assert problem(TestClient(emulator.app()).get("/v2/webhooks"), 401)


def test_webhooks_are_part_of_the_state_and_a_reset_removes_them(
    client: TestClient, emulator: PersonioEmulator
) -> None:
    client.post("/v2/webhooks", json=webhook())
    state = client.get("/_sandbox/state").json()
    assert state["webhooks"][0]["token"] == "Bearer s3cret"
    client.post("/_sandbox/reset", json={"seed": "demo"})
    assert emulator.state["webhooks"] == []
    del state["webhooks"]
    assert client.post("/_sandbox/load", json=state).status_code == 200  # older documents
    assert emulator.state["webhooks"] == []
