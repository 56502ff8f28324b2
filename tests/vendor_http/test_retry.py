"""Retries of one request: 429 within a budget, 5xx and broken connections, lost answers."""

from __future__ import annotations

import random
from collections.abc import Callable, Sequence

import httpx
import pytest
import requests
import urllib3
from vendor_http.retry import (
    AnswerLost,
    RetriesExhausted,
    RetryPolicy,
    RetryState,
    never_sent,
    send_with_retries,
)

Answer = httpx.Response | Exception


def scripted(answers: Sequence[Answer]) -> tuple[httpx.Client, list[httpx.Request]]:
    """A client whose server gives ``answers`` in turn, then 200."""
    seen: list[httpx.Request] = []
    queue = iter(answers)

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        answer = next(queue, httpx.Response(200, json={"ok": True}))
        if isinstance(answer, Exception):
            raise answer
        return answer

    return httpx.Client(transport=httpx.MockTransport(handler)), seen


def run(
    answers: Sequence[Answer], method: str = "GET", policy: RetryPolicy | None = None
) -> tuple[Callable[[], httpx.Response], list[httpx.Request], list[float]]:
    client, seen = scripted(answers)
    sleeps: list[float] = []
    url = "http://vendor.test/things"

    def call() -> httpx.Response:
        return send_with_retries(
            lambda: client.request(method, url),
            method=method,
            url=url,
            policy=policy or RetryPolicy(rng=random.Random(1)),
            sleep=sleeps.append,
        )

    return call, seen, sleeps


def test_429_waits_for_retry_after_then_succeeds() -> None:
    call, seen, sleeps = run([httpx.Response(429, headers={"Retry-After": "7"})])
    assert call().status_code == 200
    assert sleeps == [7.0]
    assert len(seen) == 2


def test_429_without_retry_after_waits_at_least_a_second() -> None:
    call, _, sleeps = run([httpx.Response(429), httpx.Response(429)])
    assert call().status_code == 200
    assert all(s >= 1.0 for s in sleeps)
    assert len(sleeps) == 2


def test_5xx_backs_off_exponentially_with_jitter_and_gives_up() -> None:
    policy = RetryPolicy(max_attempts=4, rng=random.Random(3))
    call, seen, sleeps = run([httpx.Response(503)] * 10, policy=policy)
    with pytest.raises(RetriesExhausted) as caught:
        call()
    assert caught.value.status == 503
    assert len(seen) == 4
    assert [round(s) for s in sleeps] == [1, 2, 4]
    assert all(base <= s <= base * 1.1 for base, s in zip([1, 2, 4], sleeps, strict=True))


def test_429s_keep_being_retried_until_the_wait_budget_is_spent() -> None:
    many = [httpx.Response(429, headers={"Retry-After": "60"})] * 40
    call, seen, sleeps = run(many)
    with pytest.raises(RetriesExhausted) as caught:
        call()
    assert caught.value.status == 429
    assert sum(sleeps) == 900.0  # 15 minutes of waiting, more than max_attempts tries
    assert len(seen) == 16


def test_4xx_is_returned_to_the_caller_at_once() -> None:
    call, seen, sleeps = run([httpx.Response(422, json={"error": "bad"})])
    assert call().status_code == 422
    assert len(seen) == 1
    assert sleeps == []


def test_a_read_whose_connection_broke_is_retried() -> None:
    call, seen, _ = run([httpx.ReadTimeout("slow"), httpx.RemoteProtocolError("closed")])
    assert call().status_code == 200
    assert len(seen) == 3


@pytest.mark.parametrize("method", ["POST", "PATCH"])
def test_a_write_whose_answer_was_lost_is_never_sent_again(method: str) -> None:
    call, seen, sleeps = run([httpx.RemoteProtocolError("peer closed connection")], method)
    with pytest.raises(AnswerLost, match=f"answer to {method} http://vendor.test/things"):
        call()
    assert len(seen) == 1
    assert sleeps == []


@pytest.mark.parametrize("status", [500, 502, 504])
def test_a_write_answered_by_a_failing_gateway_is_never_sent_again(status: int) -> None:
    call, seen, sleeps = run([httpx.Response(status)], "POST")
    with pytest.raises(AnswerLost, match=f"HTTP {status}"):
        call()
    assert len(seen) == 1
    assert sleeps == []


def test_a_write_answered_not_now_is_sent_again() -> None:
    call, seen, _ = run([httpx.Response(429), httpx.Response(503)], "POST")
    assert call().status_code == 200
    assert len(seen) == 3


def test_a_write_that_never_left_is_sent_again() -> None:
    call, seen, _ = run([httpx.ConnectError("refused")], "POST")
    assert call().status_code == 200
    assert len(seen) == 2


def test_a_server_that_never_answers_ends_in_retries_exhausted() -> None:
    call, _, sleeps = run([httpx.ConnectError("refused")] * 10, "DELETE")
    with pytest.raises(RetriesExhausted) as caught:
        call()
    assert isinstance(caught.value.error, httpx.ConnectError)
    assert caught.value.attempts == 3  # no server at all: connect_attempts, not max_attempts
    assert len(sleeps) == 2


def test_requests_connection_errors_without_a_connection_never_left() -> None:
    refused = urllib3.exceptions.NewConnectionError(None, "refused")  # type: ignore[arg-type]
    pool_error = urllib3.exceptions.MaxRetryError(None, "/", refused)  # type: ignore[arg-type]
    assert never_sent(requests.exceptions.ConnectionError(pool_error))
    assert not never_sent(requests.exceptions.ConnectionError("reset by peer"))
    assert not never_sent(httpx.ReadTimeout("slow"))


def test_retry_state_waits_for_a_huge_retry_after_only_within_the_budget() -> None:
    state = RetryState(RetryPolicy(budget_seconds=100))
    assert state.next_wait(429, 60.0) == 60.0
    assert state.next_wait(429, 60.0) is None
