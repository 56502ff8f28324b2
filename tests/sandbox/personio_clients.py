"""Test clients of the Personio emulator signed in with the demo credentials (v1 or v2 tokens)."""

from __future__ import annotations

from sandbox.personio import PersonioEmulator
from sandbox.roster import (
    PERSONIO_CLIENT_ID,
    PERSONIO_CLIENT_SECRET,
    PERSONIO_RESTRICTED_CLIENT_ID,
    PERSONIO_RESTRICTED_CLIENT_SECRET,
)
from starlette.testclient import TestClient

V1_JSON = {"client_id": PERSONIO_CLIENT_ID, "client_secret": PERSONIO_CLIENT_SECRET}
"""The body of ``POST /v1/auth`` for the full demo credential."""
V2_FORM = {**V1_JSON, "grant_type": "client_credentials"}
"""The form of ``POST /v2/auth/token`` for the full demo credential."""


def v1_headers(client: TestClient, restricted: bool = False) -> dict[str, str]:
    """An ``Authorization`` header with a v1 token of the full (or restricted) demo credential."""
    body = (
        {
            "client_id": PERSONIO_RESTRICTED_CLIENT_ID,
            "client_secret": PERSONIO_RESTRICTED_CLIENT_SECRET,
        }
        if restricted
        else V1_JSON
    )
    token = client.post("/v1/auth", json=body).json()["data"]["token"]
    return {"Authorization": f"Bearer {token}"}


def v2_headers(client: TestClient) -> dict[str, str]:
    """An ``Authorization`` header with a v2 token of the full demo credential."""
    token = client.post("/v2/auth/token", data=V2_FORM).json()["access_token"]
    return {"Authorization": f"Bearer {token}"}


def connect(emulator: PersonioEmulator, restricted: bool = False, v2: bool = False) -> TestClient:
    """A test client of ``emulator`` that sends a v1 (or v2) token with every request."""
    client = TestClient(emulator.app())
    client.headers.update(v2_headers(client) if v2 else v1_headers(client, restricted))
    return client
