"""What the streams of one run share: handed to each stream, never looked up on the tap."""

from __future__ import annotations

import time
from collections.abc import Mapping
from datetime import datetime
from functools import cached_property
from typing import Any

from vendor_http.budget import RateLimitBudget
from vendor_http.pacing import Sleep
from vendor_http.staffomatic import RETRY, VENDOR, StaffomaticPacer, StaffomaticRetry
from vendor_http.timeutil import utcnow

from tap_staffomatic.auth import StaffomaticAuthenticator


class RunServices:
    """The authenticator, the pacer, the retries, their 429 budget and their sleep, the
    look-ups, the run's "now".

    One per tap run. The authenticator is built when the first request needs it, so a tap with
    incomplete settings can still describe itself (``--about``).
    """

    def __init__(
        self,
        config: Mapping[str, Any],
        *,
        pacer: StaffomaticPacer | None = None,
        retry: StaffomaticRetry = RETRY,
        budget: RateLimitBudget | None = None,
        sleep: Sleep = time.sleep,
        now: datetime | None = None,
    ) -> None:
        self.config = config
        self.pacer = pacer or StaffomaticPacer(sleep=sleep)
        """Paces the requests of all streams together under Staffomatic's rate limit."""
        self.retry = retry
        self.budget = budget or RateLimitBudget(vendor=VENDOR)
        """How long the run may still wait on 429s, all streams together."""
        self.sleep = sleep
        """Every wait between the tries of a request."""
        self.now = now or utcnow()
        """The moment the windows of absences and work timers are measured from."""
        self.lookups: dict[str, list[dict[str, Any]]] = {}
        """Collections the streams look things up in, by path; read once per run."""

    @cached_property
    def authenticator(self) -> StaffomaticAuthenticator:
        return StaffomaticAuthenticator(self.config)
