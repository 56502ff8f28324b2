"""Retries: backoff with jitter for 429, 5xx and broken connections, and lost answers.

:class:`RetryPolicy` is the arithmetic (how long to wait, when to give up) that a tap feeds to
the SDK's ``backoff`` hooks and :func:`send_with_retries` feeds to tenacity for httpx clients:

- a 429 waits for the vendor's ``Retry-After`` (or half the backoff when it names none) and is
  retried as long as the run's :class:`~vendor_http.budget.RateLimitBudget` (one per run,
  shared by every request) allows; a wait that would pass it raises
  :class:`~vendor_http.budget.RateLimitWaitSpent`;
- a 5xx answer or a broken connection waits ``base * 2**(n-1)`` seconds plus up to ``jitter``
  of that (never less than ``min_wait``, never more than ``max_backoff``), ``max_attempts``
  times at most;
- a non-idempotent write (POST, PATCH) whose request left but whose answer never came (a broken
  connection, or a 500, 502 or 504 that a server or gateway gives when the write may have been
  done) raises :class:`AnswerLost` instead of being sent again: the caller reads to find out
  whether it happened. A write that provably was not done (no connection was made; 429 or 503,
  "not now") is retried like any other request.
"""

from __future__ import annotations

import random
import sys
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol, TypeVar

import requests
import tenacity
import urllib3

from vendor_http.budget import RateLimitBudget
from vendor_http.retry_after import parse_retry_after

Sleep = Callable[[float], None]


class Answer(Protocol):
    """What retries look at in an answer: httpx and requests responses both fit."""

    @property
    def status_code(self) -> int: ...

    @property
    def headers(self) -> Mapping[str, str]: ...


class Reply(Answer, Protocol):
    """An answer with its body, as httpx and requests both give it."""

    @property
    def text(self) -> str: ...

    def json(self) -> Any: ...


R = TypeVar("R", bound=Answer)
RETRY_STATUSES = frozenset({429, 500, 502, 503, 504})
IDEMPOTENT_METHODS = frozenset({"GET", "HEAD", "OPTIONS", "PUT", "DELETE"})
NOT_DONE_STATUSES = frozenset({429, 503})
"""Answers that say the request was not carried out: safe to send again, even a POST."""


class AnswerLost(Exception):
    """A write left but its answer never came: it may or may not have happened.

    Never send it again blindly: read the destination, link what is there, and send again only
    when the read proves the write did not happen.
    """

    def __init__(
        self, method: str, url: str, cause: BaseException | None = None, status: int | None = None
    ) -> None:
        what = type(cause).__name__ if cause is not None else f"HTTP {status}"
        super().__init__(
            f"The answer to {method} {url} was lost ({what}); read first to learn whether it "
            "happened."
        )
        self.method = method
        self.url = url
        self.cause = cause
        self.status = status


class RetriesExhausted(Exception):
    """The vendor kept failing: the last answer (or connection error) after the last try."""

    def __init__(
        self,
        method: str,
        url: str,
        attempts: int,
        *,
        status: int | None = None,
        error: BaseException | None = None,
    ) -> None:
        what = f"HTTP {status}" if status is not None else type(error).__name__
        super().__init__(f"{method} {url} kept failing with {what} after {attempts} attempts")
        self.method = method
        self.url = url
        self.attempts = attempts
        self.status = status
        self.error = error


def _httpx_errors(*names: str) -> tuple[type[BaseException], ...]:
    """httpx's exception classes by name, or none when httpx was never imported.

    An httpx error can only exist once httpx is loaded, so the taps (which use requests) never
    pay for importing it.
    """
    httpx = sys.modules.get("httpx")
    return tuple(getattr(httpx, name) for name in names) if httpx is not None else ()


def never_sent(error: BaseException) -> bool:
    """True when the request provably never reached the server (no connection was made)."""
    if isinstance(error, _httpx_errors("ConnectError", "ConnectTimeout", "PoolTimeout")):
        return True
    if isinstance(error, requests.exceptions.ConnectTimeout):
        return True
    if isinstance(error, requests.exceptions.ConnectionError):
        reason = getattr(error.args[0], "reason", None) if error.args else None
        return isinstance(reason, urllib3.exceptions.NewConnectionError)
    return False


def is_transport_error(error: BaseException) -> bool:
    """A broken connection or timeout (as opposed to an answer from the vendor)."""
    return isinstance(
        error,
        (
            *_httpx_errors("TransportError"),
            requests.exceptions.ConnectionError,
            requests.exceptions.Timeout,
            requests.exceptions.ChunkedEncodingError,
            ConnectionResetError,
        ),
    )


@dataclass(frozen=True)
class RetryPolicy:
    """How long to wait before trying again, and when to stop."""

    max_attempts: int = 6
    """Tries of one request answered 5xx or cut off (429s are bounded by the run's budget)."""
    connect_attempts: int = 3
    """Tries of one request that found no server at all (refused, unknown host)."""
    base_seconds: float = 1.0
    max_backoff: float = 30.0
    min_wait: float = 1.0
    jitter: float = 0.1
    """Up to this fraction is added to each backoff, so clients do not retry in step."""
    statuses: frozenset[int] = RETRY_STATUSES
    rng: random.Random = field(default_factory=random.Random, compare=False)

    def most_tries(self, budget: RateLimitBudget) -> int:
        """An upper bound of the tries of one request (for libraries that want a number)."""
        return budget.most_waits(self.min_wait) + self.max_attempts + 1

    def backoff(self, attempt: int) -> float:
        """The ``attempt``-th (1-based) exponential wait, with jitter."""
        raw = min(self.max_backoff, self.base_seconds * 2.0 ** (attempt - 1))
        return max(self.min_wait, raw * (1 + self.rng.random() * self.jitter))

    def wait(self, attempt: int, status: int | None, retry_after: float | None) -> float:
        """Seconds before the next try after ``attempt`` tries ended in ``status``.

        ``status`` is None for a broken connection; ``retry_after`` the vendor's hint.
        """
        if retry_after is not None:
            return max(self.min_wait, retry_after)
        if status == 429:
            return max(self.min_wait, self.backoff(attempt) / 2)
        return self.backoff(attempt)

    def gives_up(self, failures: int, no_server: int = 0) -> bool:
        """Whether to stop after a 5xx or a broken connection (429s are judged by the budget).

        ``failures`` counts the tries that ended in 5xx or a broken connection, ``no_server``
        those that found no server at all.
        """
        return no_server >= self.connect_attempts or failures >= self.max_attempts


@dataclass
class RetryState:
    """The retries of one request: feed it each failure, it says how long to wait (or stop).

    429s draw on ``budget``, the run's; :meth:`pause` sleeps so that their waits are counted.
    """

    policy: RetryPolicy
    budget: RateLimitBudget
    attempts: int = 0
    failures: int = 0
    no_server: int = 0
    last_status: int | None = None

    def next_wait(
        self, status: int | None, retry_after: float | None, *, no_server: bool = False
    ) -> float | None:
        """Seconds to wait before the next try, or None to give up.

        ``status`` is None for a broken connection; ``no_server`` says none was ever made.
        Raises :class:`~vendor_http.budget.RateLimitWaitSpent` when a 429's wait would pass
        the run's budget.
        """
        self.attempts += 1
        self.last_status = status
        wait = self.policy.wait(self.attempts, status, retry_after)
        if status == 429:
            self.budget.check(wait)
            return wait
        self.failures += 1
        self.no_server += int(no_server)
        return None if self.policy.gives_up(self.failures, self.no_server) else wait

    def pause(self, seconds: float, sleep: Sleep) -> None:
        """Sleep before the next try; a wait after a 429 counts against the run's budget."""
        if self.last_status == 429:
            with self.budget.waiting(seconds):
                sleep(seconds)
        else:
            sleep(seconds)


def send_with_retries(
    send: Callable[[], R],
    *,
    method: str,
    url: str,
    policy: RetryPolicy,
    budget: RateLimitBudget,
    sleep: Sleep = time.sleep,
    retry_after: Callable[[R], float | None] | None = None,
    idempotent: bool | None = None,
) -> R:
    """``send()`` until it answers something other than a retriable status.

    Works with httpx and requests alike. Returns the first answer that is not retriable (the
    caller judges 4xx). Raises :class:`RetriesExhausted` when the policy gives up,
    :class:`~vendor_http.budget.RateLimitWaitSpent` when 429s spent the run's ``budget``, and
    :class:`AnswerLost` when a non-idempotent write lost its answer (``idempotent`` overrides
    what the method says, e.g. for a token request). ``retry_after`` reads the vendor's wait
    hint from an answer (default: the ``Retry-After`` header).
    """
    hint = retry_after or (lambda answer: parse_retry_after(answer.headers.get("Retry-After")))
    state = RetryState(policy, budget)
    safe = method.upper() in IDEMPOTENT_METHODS if idempotent is None else idempotent

    def attempt() -> R:
        try:
            answer = send()
        except Exception as exc:
            if not is_transport_error(exc) or safe or never_sent(exc):
                raise
            raise AnswerLost(method, url, exc) from exc
        status = answer.status_code
        if not safe and status in policy.statuses and status not in NOT_DONE_STATUSES:
            raise AnswerLost(method, url, status=status)
        return answer

    def wait(retry_state: tenacity.RetryCallState) -> float:
        outcome = retry_state.outcome
        assert outcome is not None
        error = outcome.exception()
        if error is not None:
            seconds = state.next_wait(None, None, no_server=never_sent(error))
        else:
            answer = outcome.result()
            seconds = state.next_wait(answer.status_code, hint(answer))
        return -1.0 if seconds is None else seconds

    def give_up(retry_state: tenacity.RetryCallState) -> R:
        outcome = retry_state.outcome
        assert outcome is not None
        error = outcome.exception()
        status = None if error is not None else outcome.result().status_code
        raise RetriesExhausted(method, url, state.attempts, status=status, error=error) from error

    retrying = tenacity.Retrying(
        sleep=lambda seconds: state.pause(seconds, sleep),
        retry=tenacity.retry_if_exception(is_transport_error)
        | tenacity.retry_if_result(lambda answer: answer.status_code in policy.statuses),
        wait=wait,
        stop=lambda retry_state: (retry_state.upcoming_sleep or 0.0) < 0,
        retry_error_callback=give_up,
    )
    return retrying(attempt)
