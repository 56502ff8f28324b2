"""Personio emulator: v2 list pages cost what the page holds (the listing of the first page is
kept and named by the cursor), and still list what the collection holds."""

from __future__ import annotations

import base64
from typing import Any

import pytest
from sandbox.personio import PersonioEmulator
from starlette.testclient import TestClient

from tests.sandbox.personio_clients import connect


@pytest.fixture
def emulator() -> PersonioEmulator:
    emulator = PersonioEmulator("scale", employees=125, absences_per_employee=2)
    emulator.faults.rate_limits = False
    return emulator


@pytest.fixture
def client(emulator: PersonioEmulator) -> TestClient:
    return connect(emulator, v2=True)


def pages(client: TestClient, url: str | None) -> list[list[dict[str, Any]]]:
    out = []
    while url:
        body = client.get(url).json()
        out.append(body["_data"])
        url = body["_meta"]["links"].get("next", {}).get("href")
    return out


def test_later_pages_do_not_read_the_collection_again(
    client: TestClient, emulator: PersonioEmulator, monkeypatch: pytest.MonkeyPatch
) -> None:
    spans = 0
    original = PersonioEmulator._absence_span

    def counted(self: PersonioEmulator, item: dict[str, Any]) -> Any:
        nonlocal spans
        spans += 1
        return original(self, item)

    monkeypatch.setattr(PersonioEmulator, "_absence_span", counted)
    listed = pages(client, "/v2/absence-periods?limit=100")
    assert [len(p) for p in listed] == [100, 100, 50]
    assert spans == 250  # each period was looked at once, for the first page
    ids = [p["id"] for page in listed for p in page]
    assert sorted(ids) == sorted(p["id"] for p in emulator.state["absence_periods"])


def test_a_period_deleted_between_pages_is_not_listed_on_a_later_one(
    client: TestClient, emulator: PersonioEmulator
) -> None:
    body = client.get("/v2/absence-periods?limit=100").json()
    first = {p["id"] for p in body["_data"]}
    doomed = next(p for p in emulator.state["absence_periods"] if p["id"] not in first)
    assert client.delete(f"/v2/absence-periods/{doomed['id']}").status_code == 204
    later = [
        p["id"] for page in pages(client, body["_meta"]["links"]["next"]["href"]) for p in page
    ]
    assert doomed["id"] not in later
    assert len(first) + len(later) == len(emulator.state["absence_periods"]) == 249


def test_a_cursor_without_a_kept_listing_lists_again_from_its_offset(
    client: TestClient, emulator: PersonioEmulator
) -> None:
    everything = [p["id"] for page in pages(client, "/v2/absence-periods") for p in page]
    emulator.on_reset()  # forgets the listings, as a restart would
    cursor = base64.urlsafe_b64encode(b"o:200").decode().rstrip("=")
    rest = client.get(f"/v2/absence-periods?cursor={cursor}").json()
    assert [p["id"] for p in rest["_data"]] == everything[200:]
    assert "next" not in rest["_meta"]["links"]


def test_a_listing_answers_only_its_own_query(client: TestClient) -> None:
    first = client.get("/v2/absence-periods?limit=100").json()
    cursor = first["_meta"]["links"]["next"]["href"].split("cursor=")[1]
    person = first["_data"][0]["person"]["id"]
    other = client.get(f"/v2/absence-periods?limit=100&person.id={person}&cursor={cursor}")
    assert other.json()["_data"] == []  # offset 100 of that person's two periods
