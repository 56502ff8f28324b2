"""The receiver's app: what it refuses (and then stores nowhere), what it stores and answers."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace
from typing import Any

import pytest
import sync_ledger.events as stored
from starlette.testclient import TestClient
from sync_events.app import RateLimit, authentic, create_app
from sync_events.settings import Settings
from sync_ledger import Ledger

from tests.sync_events.conftest import COMPANY, TOKEN


def body(name: str = "absence-period.created", **changes: Any) -> dict[str, Any]:
    return {
        "company_id": COMPANY,
        "event_name": name,
        "occurred_at": "2026-03-02T09:00:00Z",
        "payload": {"id": "abs-1", "person": {"id": "1011"}},
        **changes,
    }


@pytest.fixture
def woken() -> list[int]:
    return []


@pytest.fixture
def client(settings: Settings, ledger: Ledger, woken: list[int]) -> Iterator[TestClient]:
    app = create_app(settings, ledger, on_stored=lambda: woken.append(1))
    with TestClient(app) as test_client:
        yield test_client


def post(client: TestClient, json: Any, token: str | None = TOKEN, **kwargs: Any) -> Any:
    headers = {} if token is None else {"Authorization": token}
    return client.post("/events", json=json, headers=headers, **kwargs)


def test_a_delivery_with_the_token_is_stored_and_acknowledged(
    client: TestClient, ledger: Ledger, woken: list[int]
) -> None:
    answer = post(client, body())
    assert answer.status_code == 200
    [event] = stored.pending(ledger)
    assert (event.event_name, event.area, event.record_id) == (
        "absence-period.created",
        "absences",
        "abs-1",
    )
    assert woken == [1]


def test_a_repeated_delivery_is_acknowledged_without_a_second_row(
    client: TestClient, ledger: Ledger, woken: list[int]
) -> None:
    assert post(client, body()).status_code == 200
    assert post(client, body()).status_code == 200  # a duplicate, or a retry after a timeout
    [event] = stored.pending(ledger)
    stored.finish(ledger, [event.id])
    again = post(client, body(payload={"person": {"id": "1011"}, "id": "abs-1"}))
    assert again.status_code == 200  # the same body, keys in another order: after its run too
    assert again.json()["message"] == "stored already"
    assert stored.summary(ledger)["received"] == 1
    assert woken == [1]


def test_events_that_differ_in_name_time_or_record_are_each_stored(
    client: TestClient, ledger: Ledger
) -> None:
    post(client, body())
    post(client, body("absence-period.updated.timerange"))
    post(client, body(occurred_at="2026-03-02T09:00:01Z"))
    post(client, body(payload={"id": "abs-2", "person": {"id": "1011"}}))
    assert len(stored.pending(ledger)) == 4


def test_an_event_without_occurred_at_is_stored_every_time_it_comes(
    client: TestClient, ledger: Ledger
) -> None:
    undated = {k: v for k, v in body().items() if k != "occurred_at"}
    assert [post(client, undated).status_code for _ in range(2)] == [200, 200]
    assert len(stored.pending(ledger)) == 2  # no key to tell a repeat: never dropped


def test_a_person_event_is_stored_under_employees_with_the_person_id(
    client: TestClient, ledger: Ledger
) -> None:
    payload = {"id": "emp-9", "person": {"id": "1011"}}
    assert post(client, body("employment.updated", payload=payload)).status_code == 200
    [event] = stored.pending(ledger)
    assert (event.area, event.record_id) == ("employees", "1011")


@pytest.mark.parametrize("token", [None, "", "wrong", TOKEN[:-1], TOKEN + "x", f"Basic {TOKEN}"])
def test_a_wrong_or_missing_token_is_refused_and_nothing_is_stored(
    client: TestClient, ledger: Ledger, token: str | None
) -> None:
    assert post(client, body(), token=token).status_code == 401
    assert stored.pending(ledger) == []


def test_the_token_after_bearer_is_accepted(client: TestClient) -> None:
    assert post(client, body(), token=f"Bearer {TOKEN}").status_code == 200


def test_another_company_is_refused_and_nothing_is_stored(
    client: TestClient, ledger: Ledger
) -> None:
    assert post(client, body(company_id="271828")).status_code == 403
    assert stored.pending(ledger) == []


def test_an_oversized_body_is_refused_before_and_while_it_is_read(
    client: TestClient, ledger: Ledger
) -> None:
    big = body(payload={"id": "abs-1", "padding": "x" * 4000})
    assert post(client, big).status_code == 413

    def chunks() -> Iterator[bytes]:  # no Content-Length: the size is counted while reading
        yield b'{"company_id": "314159", "padding": "'
        for _ in range(10):
            yield b"x" * 500
        yield b'"}'

    answer = client.post("/events", content=chunks(), headers={"Authorization": TOKEN})
    assert answer.status_code == 413
    assert stored.pending(ledger) == []


def test_the_size_limit_is_checked_before_the_token(client: TestClient) -> None:
    big = body(payload={"padding": "x" * 4000})
    assert post(client, big, token="wrong").status_code == 413


@pytest.mark.parametrize(
    ("content", "status"),
    [(b"not json", 400), (b"[1, 2]", 400)],
)
def test_a_body_that_is_not_a_json_object_is_refused(
    client: TestClient, ledger: Ledger, content: bytes, status: int
) -> None:
    answer = client.post("/events", content=content, headers={"Authorization": TOKEN})
    assert answer.status_code == status
    assert stored.pending(ledger) == []


def test_an_event_the_sync_does_not_need_is_acknowledged_and_dropped(
    client: TestClient, ledger: Ledger
) -> None:
    assert post(client, body("attendance-period.created")).status_code == 202
    assert stored.pending(ledger) == []


def test_an_event_without_a_record_id_is_refused(client: TestClient, ledger: Ledger) -> None:
    assert post(client, body(payload={})).status_code == 400
    assert stored.pending(ledger) == []


def test_health_answers_without_a_token_and_tells_the_pending_count(
    client: TestClient,
) -> None:
    post(client, body())
    answer = client.get("/health")
    assert answer.status_code == 200
    assert answer.json() == {"status": "ok", "pending": 1}


def test_requests_beyond_the_rate_are_refused() -> None:
    now = [0.0]
    limit = RateLimit(3, clock=lambda: now[0])
    assert [limit.allow() for _ in range(4)] == [True, True, True, False]
    now[0] += 1 / 3
    assert limit.allow()
    assert not limit.allow()


def test_the_token_comparison_is_exact() -> None:
    assert authentic(TOKEN, TOKEN)
    assert authentic(f"bearer {TOKEN}", TOKEN)
    assert not authentic(None, TOKEN)
    assert not authentic(TOKEN.upper(), TOKEN)


def test_a_flood_is_answered_503_so_personio_delivers_again(
    ledger: Ledger, settings: Settings
) -> None:
    app = create_app(replace(settings, max_requests_per_second=2), ledger)
    with TestClient(app) as flooded:
        answers = [post(flooded, body()).status_code for _ in range(4)]
        last = post(flooded, body())
    assert answers[:2] == [200, 200]
    assert 503 in answers[2:]
    assert last.status_code == 503
    assert last.headers["Retry-After"] == "1"
