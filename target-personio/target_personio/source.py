"""Staffomatic, read to confirm a deletion: one work timer or absence by id before the Personio
periods the sync wrote for it are deleted because it vanished from a complete window read, or
because the read showed it no longer eligible.

The read goes through THE Staffomatic policy (:mod:`vendor_http.staffomatic_client`) with the
``source_*`` settings. It proves the record gone (404 or 410), a timer still ineligible, or an
absence declined or otherwise not to be sent: the deletes go out. Anything else holds them back
with the reason: the record is still there and valid (the read missed it), the read failed, or
no Staffomatic credential is set.
"""

from __future__ import annotations

from collections.abc import Callable
from urllib.parse import quote

from sync_ledger.engine import Plan
from sync_ledger.engine.confirm import Evidence, gone, kept, read_failed, still_there
from sync_ledger.engine.vocabulary import WORK_TIMERS
from vendor_http import staffomatic
from vendor_http.staffomatic_client import StaffomaticClient, StaffomaticError

from target_personio.mapping import Unmappable
from target_personio.rules.absences import unknown_state, wanted
from target_personio.rules.eligibility import OUT_OF_WINDOW, TimerRules, timer_problem
from target_personio.settings import Settings

NO_CREDENTIALS = (
    "not deleted: the record vanished from the Staffomatic read or no longer qualifies, and no "
    "Staffomatic credential is set to confirm it; set source_account and source_api_token (or "
    "source_email and source_password) and the next run deletes it once Staffomatic confirms"
)


class StaffomaticSource:
    """Reads single Staffomatic timers and absences; the client is opened at the first read."""

    def __init__(self, settings: Settings, timer_rules: Callable[[], TimerRules]) -> None:
        self.settings = settings
        self.timer_rules = timer_rules
        self._client: StaffomaticClient | None = None

    @classmethod
    def of(
        cls, settings: Settings, timer_rules: Callable[[], TimerRules]
    ) -> StaffomaticSource | None:
        """The source of these settings; None when no Staffomatic account and credential are set."""
        return cls(settings, timer_rules) if settings.has_source else None

    @property
    def client(self) -> StaffomaticClient:
        if self._client is None:
            s = self.settings
            self._client = StaffomaticClient(
                s.source_base_url,
                str(s.source_account),
                email=s.source_email,
                password=s.source_password,
                api_token=s.source_api_token,
                user_agent=staffomatic.user_agent(
                    None, plugin="target-personio", email=s.source_email
                ),
            )
        return self._client

    def check(self, plan: Plan) -> Evidence:
        timer = plan.entity == WORK_TIMERS
        what = f"Staffomatic {'work timer' if timer else 'absence'} {plan.source_id}"
        path = f"/{'work_timers' if timer else 'absences'}/{quote(plan.source_id, safe='')}.json"
        try:
            record = self.client.get_one(path)
        except StaffomaticError as exc:
            return read_failed(what, exc)
        if record is None:
            return gone(f"confirmed: Staffomatic no longer has {what}")
        if timer:
            try:
                problem = timer_problem(record, self.timer_rules())
            except Unmappable as exc:
                return kept(f"not deleted: {what} still exists but cannot be judged ({exc})")
            if problem is None:
                return still_there(what, "eligible")
            if problem == OUT_OF_WINDOW:
                return still_there(what, "it now starts before the window")
            return gone(f"confirmed by Staffomatic: {problem}")
        state = str(record.get("state") or "")
        send, _, why = wanted(state, self.settings.only_approved_absences)
        if send:
            return still_there(what, state)
        odd = unknown_state(state)
        if odd is not None:
            return kept(f"not deleted: {what} still exists: {odd}")
        return gone(f"confirmed by Staffomatic: {why}")

    def close(self) -> None:
        if self._client is not None:
            self._client.close()
