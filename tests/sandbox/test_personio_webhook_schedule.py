"""Personio emulator: the documented delivery schedule, driven by a test clock (no real waits)."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from sandbox.personio import PersonioEmulator
from sandbox.personio.deliveries import Dispatcher, Job
from sandbox.personio.events import Event

HOOK = {"id": "w1", "url": "http://127.0.0.1:9/e", "status": "ENABLED", "token": "Bearer t"}


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def emulator() -> PersonioEmulator:
    return PersonioEmulator("demo")


def dispatcher(emulator: PersonioEmulator, answers: list[Any], sent: list[Any]) -> Dispatcher:
    def post(url: str, body: dict[str, Any], headers: dict[str, str], timeout: float) -> int:
        sent.append((body, headers, timeout))
        answer = answers.pop(0) if answers else 200
        if isinstance(answer, Exception):
            raise answer
        return int(answer)

    return Dispatcher(
        lambda _: HOOK, emulator._delivery_policy, post=post, clock=Clock(), background=False
    )


def run_all(dispatch: Dispatcher) -> list[float]:
    """Step through every due delivery, jumping the clock; the moments requests were made."""
    clock = dispatch.clock
    assert isinstance(clock, Clock)
    moments = []
    while (due := dispatch.step()) is not None:
        clock.now = due
        moments.append(due)
    return moments


def test_a_failing_receiver_gets_at_most_14_requests_over_growing_delays(
    emulator: PersonioEmulator,
) -> None:
    sent: list[Any] = []
    dispatch = dispatcher(emulator, [500] * 20, sent)
    dispatch.submit([Job("w1", Event("person.created", {"id": "1"}))])
    moments = run_all(dispatch)
    assert len(sent) == 14  # 7 attempts of 2 quick requests each
    assert {timeout for _, _, timeout in sent} == {3.0}  # the documented acknowledgement time
    assert all(h["Authorization"] == "Bearer t" for _, h, _ in sent)
    gaps = [b - a for a, b in zip([0.0, *moments], moments, strict=False)]
    assert gaps == sorted(gaps)
    assert gaps[0] > 0
    assert sum(gaps) <= 3 * 86400  # within the documented 3 days
    assert dispatch.log[-1]["outcome"] == "given up"
    assert dispatch.pending() == 0


@pytest.mark.parametrize(
    ("answers", "requests"),
    [
        ([200], 1),
        ([500, 200], 2),
        ([httpx.ReadTimeout("slow"), 204], 2),
        ([501], 1),
        ([400], 1),
        ([302], 1),
        ([503, 503, 200], 3),
    ],
)
def test_only_timeouts_and_5xx_but_501_are_sent_again(
    emulator: PersonioEmulator, answers: list[Any], requests: int
) -> None:
    sent: list[Any] = []
    dispatch = dispatcher(emulator, answers, sent)
    dispatch.submit([Job("w1", Event("person.created", {"id": "1"}))])
    run_all(dispatch)
    assert len(sent) == requests
