"""The Staffomatic HTTP client against httpx.MockTransport: headers, auth, retries, pacing."""

from __future__ import annotations

import base64
import json
from typing import Any

import httpx
import pytest
from target_staffomatic.client import (
    AnswerLost,
    AuthError,
    RejectedError,
    StaffomaticClient,
    UnreachableError,
)
from vendor_http.staffomatic import StaffomaticPacer
from vendor_http.testing import ManualClock


def client(handler: httpx.MockTransport, waits: list[float], **kwargs: object) -> StaffomaticClient:
    options: dict[str, Any] = {
        "api_token": "secret-token",
        "user_agent": "Sync (ops@example.com)",
    }
    options.update(kwargs)
    return StaffomaticClient(
        "https://api.example/v3",
        "demo",
        transport=handler,
        sleep=waits.append,
        **options,
    )


def test_writes_send_user_agent_bearer_token_and_json_content_type() -> None:
    seen: list[httpx.Request] = []

    def handle(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(200, json={"id": 7})

    with client(httpx.MockTransport(handle), []) as api:
        assert api.request("POST", "/locations/1/users.json", json={"email": "a@b.c"}) == {"id": 7}
    (request,) = seen
    assert str(request.url) == "https://api.example/v3/demo/locations/1/users.json"
    assert request.headers["User-Agent"] == "Sync (ops@example.com)"
    assert request.headers["Authorization"] == "Bearer secret-token"
    assert request.headers["Content-Type"] == "application/json; charset=utf-8"
    assert json.loads(request.content) == {"email": "a@b.c"}


def test_basic_auth_is_used_without_a_token() -> None:
    seen: list[httpx.Request] = []

    def handle(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(200, json=[])

    with client(
        httpx.MockTransport(handle), [], api_token=None, email="me@x.example", password="pw"
    ) as api:
        api.get("/users.json")
    expected = base64.b64encode(b"me@x.example:pw").decode()
    assert seen[0].headers["Authorization"] == f"Basic {expected}"


def test_429_waits_for_retry_after_and_5xx_backs_off_then_succeeds() -> None:
    answers = [
        httpx.Response(429, headers={"Retry-After": "3"}),
        httpx.Response(503),
        httpx.Response(200, json={"ok": True}),
    ]
    waits: list[float] = []
    with client(httpx.MockTransport(lambda r: answers.pop(0)), waits) as api:
        assert api.get("/account.json") == {"ok": True}
    assert waits[0] == 3.0
    assert 0 <= waits[1] <= 1.0  # exponential backoff with full jitter (second attempt)
    assert api.retries == 2
    assert api.requests == 3


def test_429_without_retry_after_waits_at_least_one_second() -> None:
    answers = [httpx.Response(429), httpx.Response(200, json=[])]
    waits: list[float] = []
    with client(httpx.MockTransport(lambda r: answers.pop(0)), waits) as api:
        api.get("/users.json")
    assert waits == [1.0]


def test_exhausted_retries_raise_unreachable_with_a_sentence() -> None:
    api = client(httpx.MockTransport(lambda r: httpx.Response(502)), [], max_attempts=3)
    with api, pytest.raises(UnreachableError, match="after 3 attempts"):
        api.get("/users.json")


def test_401_and_403_stop_and_422_is_a_rejected_record_with_its_reason() -> None:
    def handle(request: httpx.Request) -> httpx.Response:
        if request.url.path.endswith("/account.json"):
            return httpx.Response(401, text="Du musst Dich einloggen.")
        if request.method == "DELETE":
            return httpx.Response(403, text="Forbidden")
        return httpx.Response(422, json={"errors": {"email": ["is invalid"]}})

    with client(httpx.MockTransport(handle), []) as api:
        with pytest.raises(AuthError, match="refused the credentials") as refused:
            api.get("/account.json")
        assert "secret-token" not in str(refused.value)
        with pytest.raises(AuthError, match="needs admin rights"):
            api.request("DELETE", "/absences/1.json")
        with pytest.raises(RejectedError, match="HTTP 422: email is invalid"):
            api.request("POST", "/locations/1/users.json", json={})


def test_post_is_not_repeated_after_the_connection_broke_once_sent() -> None:
    calls: list[str] = []

    def handle(request: httpx.Request) -> httpx.Response:
        calls.append(request.method)
        raise httpx.ReadError("connection reset")

    with client(httpx.MockTransport(handle), []) as api:
        with pytest.raises(RejectedError, match="not repeated"):
            api.request("POST", "/locations/1/absences.json", json={})
        with pytest.raises(UnreachableError):
            api.get("/users.json")
    assert calls == ["POST"] + ["GET"] * 6


def test_get_all_reads_pages_until_a_short_one() -> None:
    pages: list[str] = []

    def handle(request: httpx.Request) -> httpx.Response:
        page = int(request.url.params["page"])
        pages.append(request.url.params["page"])
        size = 100 if page < 3 else 5
        return httpx.Response(200, json=[{"id": page * 1000 + i} for i in range(size)])

    with client(httpx.MockTransport(handle), []) as api:
        assert len(api.get_all("/users.json", {"state": "all"})) == 205
    assert pages == ["1", "2", "3"]


def test_pacer_keeps_under_the_limit_in_any_window() -> None:
    now = [0.0]
    waits: list[float] = []

    def sleep(seconds: float) -> None:
        waits.append(seconds)
        now[0] += seconds

    pacer = StaffomaticPacer(3, 10.0, clock=lambda: now[0], sleep=sleep)
    for _ in range(7):
        pacer.wait()
    assert waits == [10.0, 10.0]


def test_missing_credentials_are_one_sentence() -> None:
    with pytest.raises(AuthError, match="set api_token, or email and password"):
        StaffomaticClient("https://api.example/v3", "demo")


def test_a_lost_answer_to_a_create_is_a_rejected_record_of_its_own_kind() -> None:
    def handle(request: httpx.Request) -> httpx.Response:
        return httpx.Response(504)

    api = client(httpx.MockTransport(handle), [])
    with api, pytest.raises(AnswerLost) as lost:
        api.request("POST", "/locations/1/users.json", json={})
    assert isinstance(lost.value, RejectedError)
    assert (lost.value.status, lost.value.method) == (504, "POST")
    assert api.requests == 1


def test_requests_are_paced_to_staffomatics_documented_limit() -> None:
    clock = ManualClock()
    seen: list[float] = []

    def handle(request: httpx.Request) -> httpx.Response:
        seen.append(clock())
        return httpx.Response(200, json={})

    api = StaffomaticClient(
        "https://api.example/v3",
        "demo",
        api_token="t",
        transport=httpx.MockTransport(handle),
        clock=clock,
        sleep=clock.sleep,
    )
    with api:
        for _ in range(501):
            api.get("/account.json")
    assert clock.slept == [10.0]
    assert seen[-1] - seen[0] == 10.0


def test_a_create_answered_503_or_429_was_not_done_and_is_sent_again() -> None:
    answers = [httpx.Response(503), httpx.Response(429), httpx.Response(200, json={"id": 9})]
    waits: list[float] = []
    with client(httpx.MockTransport(lambda r: answers.pop(0)), waits) as api:
        assert api.request("POST", "/locations/1/absences.json", json={}) == {"id": 9}
    assert api.requests == 3
    assert len(waits) == 2
