"""The run's allowance of waiting on 429s: one :class:`RateLimitBudget` per run.

A vendor that answers 429 ("too many requests, later") is waited for, as long as it takes, as
long as the waits of the whole run stay within ``rate_limit_wait_seconds`` (15 minutes by
default). Every request of the run draws on the same budget: the one object is built where the
run's HTTP policy is built (the tap's shared services, the target's client) and handed to every
retry. What counts is the time actually spent waiting after 429s, measured on the run's clock;
waits of requests sent in parallel that overlap count once. A 429 whose wait would pass the
budget ends the run with :class:`RateLimitWaitSpent`, whose message is one sentence.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager

Clock = Callable[[], float]

RATE_LIMIT_SETTING = "rate_limit_wait_seconds"
DEFAULT_RATE_LIMIT_WAIT = 900
"""Seconds a run may spend waiting on 429s, all requests together (15 minutes)."""
TAP_NEXT_STEP = "the run stops here and the next one continues from its bookmark"
TARGET_NEXT_STEP = (
    "the run stops here, what it wrote so far is recorded in the ledger, and the next run "
    "carries on"
)


def duration(seconds: float) -> str:
    """``905.2`` -> ``15 min 5 s``; ``42`` -> ``42 s``."""
    whole = round(seconds)
    minutes, rest = divmod(whole, 60)
    return f"{minutes} min {rest} s" if minutes else f"{rest} s"


class RateLimitWaitSpent(Exception):
    """The vendor kept answering 429 until the run's wait budget was spent.

    ``str()`` is the sentence up to what happens next; :meth:`sentence` completes it.
    """

    def __init__(self, vendor: str, waited: float, wanted: float, budget: float) -> None:
        super().__init__(
            f"{vendor} kept answering 429 (rate limited): this run waited {duration(waited)} "
            f"for it, and the {duration(wanted)} more it asks for would pass "
            f"{RATE_LIMIT_SETTING}={budget:g}"
        )
        self.vendor = vendor
        self.waited = waited
        self.wanted = wanted
        self.budget = budget

    def sentence(self, next_step: str) -> str:
        """The whole sentence for a person: ``"...; <next_step>."``."""
        return f"{self}; {next_step}."


class RateLimitBudget:
    """How long one run may still wait on 429s; shared by every request (and thread) of it.

    A spell of waiting (from the first request that starts waiting after a 429 until the last
    one waiting stops) counts what the run's clock measured, and never less than the longest
    wait asked for in it: waits that overlap count once, and a clock that does not move while
    the code sleeps (a test's) still sees the waits.
    """

    def __init__(
        self,
        seconds: float = DEFAULT_RATE_LIMIT_WAIT,
        *,
        vendor: str,
        clock: Clock = time.monotonic,
    ) -> None:
        self.seconds = float(seconds)
        self.vendor = vendor
        self.clock = clock
        self._closed = 0.0
        """Seconds of the waiting spells that ended."""
        self._since = 0.0
        self._longest = 0.0
        self._waiters = 0
        self._lock = threading.Lock()

    @property
    def waited(self) -> float:
        """Seconds this run has spent waiting on 429s so far (a spell under way included)."""
        with self._lock:
            return self._waited()

    def _waited(self) -> float:
        spell = max(0.0, self.clock() - self._since) if self._waiters else 0.0
        return self._closed + spell

    def most_waits(self, shortest: float) -> int:
        """More 429 waits of one request than the budget can hold, each at least ``shortest``
        long (for libraries that want a number of tries)."""
        return int(self.seconds / max(shortest, 0.001)) + 1

    def check(self, wanted: float) -> None:
        """Raise :class:`RateLimitWaitSpent` when waiting ``wanted`` more would pass the budget."""
        with self._lock:
            waited = self._waited()
        if waited + wanted > self.seconds:
            raise RateLimitWaitSpent(self.vendor, waited, wanted, self.seconds)

    @contextmanager
    def waiting(self, seconds: float) -> Iterator[None]:
        """Around the sleep of ``seconds`` after a 429: the spell counts against the budget."""
        with self._lock:
            if self._waiters == 0:
                self._since, self._longest = self.clock(), 0.0
            self._waiters += 1
            self._longest = max(self._longest, seconds)
        try:
            yield
        finally:
            with self._lock:
                self._waiters -= 1
                if self._waiters == 0:
                    self._closed += max(self.clock() - self._since, self._longest)
