"""Test support: a clock that only moves when the code under test sleeps."""

from __future__ import annotations


class ManualClock:
    """Pass ``clock=manual`` (it is callable) and ``sleep=manual.sleep`` to a constructor.

    ``slept`` lists every wait asked for; ``advance`` moves time without a sleep.
    """

    def __init__(self, start: float = 1000.0) -> None:
        self.now = start
        self.slept: list[float] = []

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        self.now += max(0.0, seconds)

    def advance(self, seconds: float) -> None:
        self.now += seconds
