"""Pacing of the v1 requests below Personio's limits: the pacer on a fake clock, then the employees
list of 2500 people against the sandbox (which enforces 15 a second) without a single 429."""

from __future__ import annotations

import time

from sandbox.admin import Admins
from sandbox.server import Sandbox
from target_personio.client import PersonioClient
from vendor_http.pacing import Limit, Windows
from vendor_http.personio import PersonioPacing

EMPLOYEES = "/v1/company/employees"


class FakeClock:
    """A clock that only moves when the code under test sleeps (or the test advances it)."""

    def __init__(self) -> None:
        self.now = 1000.0
        self.slept: list[float] = []

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        self.now += seconds


def most_in_any_window(stamps: list[float], seconds: float) -> int:
    """The largest number of stamps within any half-open window ``[t, t + seconds)``."""
    return max(sum(1 for s in stamps if t <= s < t + seconds) for t in stamps)


def paced_stamps(clock: FakeClock, pacer: PersonioPacing, count: int, path: str) -> list[float]:
    stamps = []
    for _ in range(count):
        pacer.before("GET", path)
        stamps.append(clock.now)
    return stamps


def test_rate_window_waits_until_the_oldest_request_leaves_the_window() -> None:
    window = Windows("v1", [Limit(2, 1.0)])
    window.take(10_000)  # milliseconds
    window.take(10_400)
    assert window.take(10_500)[1] == 0.5
    assert window.take(11_000)[1] == 0.0


def test_employees_list_is_paced_to_at_most_15_requests_in_any_second() -> None:
    clock = FakeClock()
    pacer = PersonioPacing(clock=clock, sleep=clock.sleep)
    stamps = paced_stamps(clock, pacer, 50, EMPLOYEES)
    assert stamps[14] == stamps[0]  # a burst of 15 goes out at once (documented)
    assert most_in_any_window(stamps, 1.0) == 15
    assert stamps[-1] - stamps[0] >= 3.0  # 50 requests need at least 3 more seconds


def test_employees_list_is_paced_to_at_most_300_requests_in_any_minute() -> None:
    clock = FakeClock()
    pacer = PersonioPacing(clock=clock, sleep=clock.sleep)
    stamps = paced_stamps(clock, pacer, 600, EMPLOYEES)
    assert most_in_any_window(stamps, 60.0) == 300
    assert most_in_any_window(stamps, 1.0) <= 15
    assert stamps[-1] - stamps[0] >= 60.0


def test_all_v1_requests_together_stay_at_2000_a_minute() -> None:
    clock = FakeClock()
    pacer = PersonioPacing(clock=clock, sleep=clock.sleep)
    stamps = paced_stamps(clock, pacer, 2100, "/v1/auth")
    assert most_in_any_window(stamps, 60.0) == 2000
    assert stamps[1999] == stamps[0]  # auth calls are not held to the employees' 15 a second


def test_v2_requests_are_not_paced_by_the_v1_windows() -> None:
    clock = FakeClock()
    pacer = PersonioPacing(clock=clock, sleep=clock.sleep)
    paced_stamps(clock, pacer, 100, "/v2/attendance-periods")
    assert clock.slept == []


def test_pacer_counts_waits_that_the_clock_moved_past() -> None:
    clock = FakeClock()
    pacer = PersonioPacing(clock=clock, sleep=clock.sleep)
    paced_stamps(clock, pacer, 15, EMPLOYEES)
    clock.now += 5.0  # time passed between two runs of requests: no wait needed
    paced_stamps(clock, pacer, 15, EMPLOYEES)
    assert clock.slept == []


def test_2500_employees_are_read_without_a_single_429_from_the_sandbox(
    sandbox: Sandbox, admins: Admins
) -> None:
    admins.personio.reset("scale", employees=2500, absences_per_employee=0)
    client = PersonioClient(
        sandbox.personio_url, "demo-client-id", "demo-client-secret", "TARGET_PERSONIO_TESTS"
    )
    started = time.monotonic()
    try:
        people = list(client.employees())
    finally:
        client.close()
    elapsed = time.monotonic() - started
    counts = admins.personio.requests()
    assert len(people) == 2500
    assert counts["by_endpoint"][f"GET {EMPLOYEES}"] == 25
    assert counts["throttled"] == 0
    assert elapsed >= 0.9  # 25 pages at 15 a second: the pacer really waited
