"""Retries of one request: 429 within the run's budget, 5xx and broken connections, lost
answers; the budget's accounting."""

from __future__ import annotations

import random
import threading
from collections.abc import Callable, Sequence

import httpx
import pytest
import requests
import urllib3
from vendor_http.budget import RateLimitBudget, RateLimitWaitSpent
from vendor_http.retry import (
    AnswerLost,
    RetriesExhausted,
    RetryPolicy,
    RetryState,
    never_sent,
    send_with_retries,
)
from vendor_http.testing import ManualClock

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
    answers: Sequence[Answer],
    method: str = "GET",
    policy: RetryPolicy | None = None,
    budget: RateLimitBudget | None = None,
) -> tuple[Callable[[], httpx.Response], list[httpx.Request], list[float]]:
    """A call of ``send_with_retries`` on ``answers``; its requests; its waits (not slept)."""
    client, seen = scripted(answers)
    sleeps: list[float] = []
    url = "http://vendor.test/things"
    run_budget = budget or RateLimitBudget(vendor="Vendor")

    def call() -> httpx.Response:
        return send_with_retries(
            lambda: client.request(method, url),
            method=method,
            url=url,
            policy=policy or RetryPolicy(rng=random.Random(1)),
            budget=run_budget,
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


def test_429s_keep_being_retried_until_the_runs_wait_budget_is_spent() -> None:
    many = [httpx.Response(429, headers={"Retry-After": "60"})] * 40
    call, seen, sleeps = run(many)
    with pytest.raises(RateLimitWaitSpent) as caught:
        call()
    assert sum(sleeps) == 900.0  # 15 minutes of waiting, more than max_attempts tries
    assert len(seen) == 16
    assert str(caught.value) == (
        "Vendor kept answering 429 (rate limited): this run waited 15 min 0 s for it, and the "
        "1 min 0 s more it asks for would pass rate_limit_wait_seconds=900"
    )
    assert caught.value.sentence("the run stops here").endswith("=900; the run stops here.")


def test_the_budget_is_one_per_run_shared_by_every_request() -> None:
    clock = ManualClock()
    budget = RateLimitBudget(100, vendor="Vendor", clock=clock)
    throttled = [httpx.Response(429, headers={"Retry-After": "30"})] * 2
    first, _, first_waits = run(throttled, budget=budget)
    assert first().status_code == 200  # 60 s of the 100
    second, seen, second_waits = run(throttled, budget=budget)
    with pytest.raises(RateLimitWaitSpent, match="waited 1 min 30 s for it, and the 30 s more"):
        second()  # 60 + 30 = 90 s still fit, another 30 s would not
    assert (first_waits, second_waits) == ([30.0, 30.0], [30.0])
    assert len(seen) == 2
    assert budget.waited == 90.0


def test_5xx_waits_do_not_count_against_the_429_budget() -> None:
    budget = RateLimitBudget(5, vendor="Vendor")
    call, _, sleeps = run([httpx.Response(503)] * 3, budget=budget)
    assert call().status_code == 200
    assert sum(sleeps) > 5
    assert budget.waited == 0.0


def test_a_budget_of_zero_stops_at_the_first_429() -> None:
    call, seen, sleeps = run([httpx.Response(429)], budget=RateLimitBudget(0, vendor="Vendor"))
    with pytest.raises(RateLimitWaitSpent, match="waited 0 s for it, and the 1 s more"):
        call()
    assert (len(seen), sleeps) == (1, [])


def test_the_budget_counts_measured_time_when_the_clock_moves_more_than_asked() -> None:
    clock = ManualClock()
    budget = RateLimitBudget(10, vendor="Vendor", clock=clock)
    with budget.waiting(2.0):
        clock.advance(7.0)  # a sleep that overslept
    assert budget.waited == 7.0
    with pytest.raises(RateLimitWaitSpent):
        budget.check(4.0)
    budget.check(3.0)


def test_waits_that_overlap_in_parallel_requests_count_once() -> None:
    clock = ManualClock()
    budget = RateLimitBudget(60, vendor="Vendor", clock=clock)
    inside = threading.Barrier(3)
    leave = threading.Event()

    def wait() -> None:
        with budget.waiting(5.0):
            inside.wait()
            leave.wait()

    workers = [threading.Thread(target=wait) for _ in range(2)]
    for worker in workers:
        worker.start()
    inside.wait()  # both are waiting now
    clock.advance(5.0)
    assert budget.waited == 5.0  # a spell under way counts already
    leave.set()
    for worker in workers:
        worker.join()
    assert budget.waited == 5.0  # two waits of 5 s at the same time: 5 s of the run


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
    state = RetryState(RetryPolicy(), RateLimitBudget(100, vendor="Vendor"))
    assert state.next_wait(429, 60.0) == 60.0
    state.pause(60.0, lambda seconds: None)
    with pytest.raises(RateLimitWaitSpent):
        state.next_wait(429, 60.0)
