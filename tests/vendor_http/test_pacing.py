"""Sliding-window pacing and holds on a manual clock."""

from __future__ import annotations

from vendor_http.pacing import Limit, Pacer, Windows
from vendor_http.testing import ManualClock


def most_in_any_window(stamps: list[float], seconds: float) -> int:
    return max(sum(1 for s in stamps if t <= s < t + seconds) for t in stamps)


def test_a_burst_goes_out_at_once_then_waits_for_the_window() -> None:
    clock = ManualClock()
    pacer = Pacer(clock=clock, sleep=clock.sleep)
    windows = [Windows("api", [Limit(5, 1.0)])]
    stamps = [pacer.acquire(windows) for _ in range(12)]
    assert stamps[4] == stamps[0]
    assert most_in_any_window(stamps, 1.0) == 5
    assert stamps[-1] - stamps[0] == 2.0
    assert pacer.waited == sum(clock.slept)


def test_a_request_must_fit_every_group_it_belongs_to() -> None:
    clock = ManualClock()
    pacer = Pacer(clock=clock, sleep=clock.sleep)
    everything = Windows("all", [Limit(10, 60.0)])
    narrow = Windows("narrow", [Limit(3, 1.0)])
    narrow_stamps = [pacer.acquire([everything, narrow]) for _ in range(6)]
    assert most_in_any_window(narrow_stamps, 1.0) == 3
    others = [pacer.acquire([everything]) for _ in range(5)]
    # 6 + 4 fill the minute: the 11th request waits for the first one to leave it
    assert others[3] == narrow_stamps[-1]
    assert others[4] - narrow_stamps[0] >= 60.0


def test_a_request_held_back_by_one_group_is_not_counted_in_the_others() -> None:
    clock = ManualClock()
    pacer = Pacer(clock=clock, sleep=clock.sleep)
    wide = Windows("wide", [Limit(4, 10.0)])
    narrow = Windows("narrow", [Limit(1, 1.0)])
    stamps = [pacer.acquire([wide, narrow]) for _ in range(4)]
    # wide counts each request once: a second entry per wait would hold the 4th back 10 s
    assert stamps == [1000.0, 1001.0, 1002.0, 1003.0]


def test_a_hold_delays_only_its_key() -> None:
    clock = ManualClock()
    pacer = Pacer(clock=clock, sleep=clock.sleep)
    pacer.hold("GET /v2/absence-periods", clock.now + 0.25)
    pacer.acquire(key="GET /v2/attendance-periods")
    assert clock.slept == []
    sent = pacer.acquire(key="GET /v2/absence-periods")
    assert clock.slept == [0.25]
    assert sent == 1000.25


def test_time_that_passed_between_requests_counts() -> None:
    clock = ManualClock()
    pacer = Pacer(clock=clock, sleep=clock.sleep)
    windows = [Windows("api", [Limit(2, 1.0)])]
    pacer.acquire(windows)
    pacer.acquire(windows)
    clock.advance(5.0)
    pacer.acquire(windows)
    assert clock.slept == []


def test_a_request_leaves_the_window_exactly_its_length_after_it_was_sent() -> None:
    window = Windows("api", [Limit(2, 1.0)])
    window.take(10_000)
    window.take(10_400)
    assert window.take(10_500)[1] == 0.5
    assert window.take(11_000)[1] == 0.0
