"""Pacing: stay under a vendor's request limits instead of waiting for its 429s.

:class:`Windows` is a set of sliding-window limits ("at most 14 requests in any second and 290 in
any minute"), kept by pyrate-limiter's in-memory sliding-window log. :class:`Pacer` waits until a
request fits every window it belongs to (and any hold on its key, such as a token bucket the
vendor announced empty), then counts it: from when it was sent, or (:meth:`Pacer.send` and
:meth:`Pacer.answered`) from its send until its answer, so that a vendor that counts a request
when it arrives never sees more than the limit, whatever the latency. Clock and sleep are
constructor arguments.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Sequence
from contextlib import suppress
from dataclasses import dataclass
from typing import Any

from pyrate_limiter import InMemoryBucket, Rate, RateItem

Clock = Callable[[], float]
"""Seconds on a monotonic scale (``time.monotonic``)."""
Sleep = Callable[[float], None]


class Clocked:
    """Mixed in before a plugin's base class (``class TapX(Clocked, Tap)``): the plugin's own
    arguments, plus the clock and sleep of every wait (pacing, retries), kept as attributes."""

    clock: Clock
    sleep: Sleep

    def __init__(
        self, *args: Any, clock: Clock = time.monotonic, sleep: Sleep = time.sleep, **kwargs: Any
    ) -> None:
        self.clock = clock
        self.sleep = sleep
        super().__init__(*args, **kwargs)


@dataclass(frozen=True)
class Limit:
    """At most ``requests`` in any ``seconds`` long window."""

    requests: int
    seconds: float


class Windows:
    """One group of requests sharing limits, e.g. "every v1 endpoint" or "the employees list"."""

    def __init__(self, name: str, limits: Sequence[Limit]) -> None:
        self.name = name
        self.limits = tuple(limits)
        # pyrate-limiter still counts a request exactly ``seconds`` after it was sent; the
        # window here (like the vendors') is half-open, hence one millisecond less.
        self._bucket = InMemoryBucket(
            [Rate(limit.requests, round(limit.seconds * 1000) - 1) for limit in limits]
        )

    def take(self, now_ms: int) -> tuple[RateItem | None, float]:
        """Count a request at ``now_ms``: (its entry, 0) or (None, seconds until one fits)."""
        self._bucket.leak(now_ms)
        item = RateItem(self.name, now_ms)
        if self._bucket.put(item):
            return item, 0.0
        waiting = self._bucket.waiting(item)
        assert isinstance(waiting, int)
        return None, max(waiting, 1) / 1000

    def give_back(self, item: RateItem) -> None:
        """Forget a request counted here that another group then held back."""
        self._bucket.items.remove(item)


class Pacer:
    """Waits before each request until it fits its windows and holds; one per client and run."""

    def __init__(self, *, clock: Clock = time.monotonic, sleep: Sleep = time.sleep) -> None:
        self.clock = clock
        self.sleep = sleep
        self.waited = 0.0
        """Seconds spent waiting so far (for the run's summary and for tests)."""
        self._holds: dict[str, float] = {}
        self._last = float("-inf")
        self._lock = threading.Lock()
        self._unanswered: dict[tuple[str, float], list[Taken]] = {}

    def hold(self, key: str, until: float) -> None:
        """No request of ``key`` before the clock reads ``until``."""
        with self._lock:
            self._holds[key] = max(until, self._holds.get(key, until))

    def acquire(self, windows: Sequence[Windows] = (), key: str | None = None) -> float:
        """Wait until one more request fits; count it. Returns when it was counted (sent)."""
        return self._acquire(windows, key)[0]

    def send(self, windows: Sequence[Windows]) -> float:
        """As :meth:`acquire`, and the request stays counted until :meth:`answered` (with the
        same windows and the time returned here) counts it again from its answer."""
        sent, taken = self._acquire(windows, None)
        with self._lock:
            self._unanswered.setdefault((_names(windows), sent), []).append(taken)
        return sent

    def answered(self, windows: Sequence[Windows], sent: float) -> None:
        """The request of :meth:`send` at ``sent`` was answered: it counts from now on."""
        with self._lock:
            pending = self._unanswered.get((_names(windows), sent))
            if not pending:
                return
            taken = pending.pop()
            if not pending:
                del self._unanswered[(_names(windows), sent)]
            now = self._last = max(self.clock(), self._last)
            for group, item in taken:
                with suppress(ValueError):  # an answer slower than the window: it left already
                    group.give_back(item)
                group.take(round(now * 1000))

    def _acquire(self, windows: Sequence[Windows], key: str | None) -> tuple[float, Taken]:
        with self._lock:
            now = max(self.clock(), self._last)
            while True:
                wait = self._holds.get(key, now) - now if key is not None else 0.0
                if wait <= 0:
                    wait, taken = self._take_all(windows, round(now * 1000))
                    if wait <= 0:
                        self._last = now
                        return now, taken
                self.waited += wait
                self.sleep(wait)
                now = max(self.clock(), now + wait)

    @staticmethod
    def _take_all(windows: Sequence[Windows], now_ms: int) -> tuple[float, Taken]:
        taken: Taken = []
        for group in windows:
            item, wait = group.take(now_ms)
            if item is None:
                for earlier, earlier_item in taken:
                    earlier.give_back(earlier_item)
                return wait, []
            taken.append((group, item))
        return 0.0, taken


Taken = list[tuple[Windows, RateItem]]
"""The entries one request left in its windows."""


def _names(windows: Sequence[Windows]) -> str:
    return ",".join(group.name for group in windows)
