"""One run of the target: its resources, applying and recording plans, the end of the run.

The sinks hand records to the :class:`~target_personio.planner.Planner`, which plans them with
the pure rules; :meth:`SyncRun.settle` applies the plans through the shared applier (a dry run
executes the same plans without sending) and records them through the shared recorder. The
end-of-run summary is the ledger's report of the run.
"""

from __future__ import annotations

import logging
import sys
import time
from collections.abc import Callable, Mapping, Sequence
from datetime import datetime

from sync_ledger import Ledger, LedgerError, Link, Run, default_url
from sync_ledger.engine import Plan
from sync_ledger.engine.apply import Applier, stop_error
from sync_ledger.engine.confirm import confirmed
from sync_ledger.engine.record import Recorder
from sync_ledger.engine.vocabulary import SKIP, STAFFOMATIC
from sync_ledger.lookups import LookupStore

from target_personio.client import ABSENCE, ATTENDANCE, PersonioClient
from target_personio.destination import PersonioDestination, in_personio_words
from target_personio.lookups import Lookups
from target_personio.order import in_waves, people_in
from target_personio.planner import ABSENCES, TIMERS, Planner
from target_personio.settings import Settings
from target_personio.source import NO_CREDENTIALS, StaffomaticSource

SYSTEM = STAFFOMATIC
TARGET = "target-personio"


class SyncRun:
    """State shared by the sinks for the length of one run."""

    def __init__(
        self,
        settings: Settings,
        logger: logging.Logger,
        clock: Callable[[], datetime],
        *,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.settings = settings
        self.logger = logger
        self.clock = clock
        self.sleep = sleep
        """Every wait of the HTTP client: pacing and retries."""
        self.dry_run = settings.dry_run
        self.lookups = Lookups(
            lambda: self.client,
            logger,
            time_zone=settings.time_zone,
            type_map=settings.absence_type_map,
            kept=lambda: self.kept,
        )
        self.planner = Planner(
            settings, self.lookups, clock, lambda entity: self.recorder.links(entity)
        )
        self.source = StaffomaticSource.of(settings, self.planner.timer_rules)
        """Staffomatic, read to confirm deletions of vanished or no longer eligible records
        (None: no Staffomatic credential is set)."""
        self.lookups_ready = False
        """True once users are known: the users stream has been read, or timers carry their
        users' identity (window records wait until then)."""
        self.at_end: list[Callable[[], None]] = []
        """Called after the last drain, before the run is closed."""
        self._client: PersonioClient | None = None
        self._ledger: Ledger | None = None
        self._kept: LookupStore | None = None
        self._recorder: Recorder | None = None
        self._applier: Applier | None = None
        self._finished = False
        self._unstartable = False

    # ---- resources -----------------------------------------------------------------------------

    @property
    def client(self) -> PersonioClient:
        if self._client is None:
            client_id, client_secret = self.settings.credentials()
            self._client = PersonioClient(
                self.settings.base_url,
                client_id,
                client_secret,
                self.settings.app_id,
                rate_limit_wait=self.settings.rate_limit_wait_seconds,
                sleep=self.sleep,
            )
        return self._client

    @property
    def ledger(self) -> Ledger:
        if self._ledger is None:
            url = self.settings.ledger_url or default_url()
            self._ledger = Ledger(url, clock=self.clock)
        return self._ledger

    @property
    def kept(self) -> LookupStore:
        """Numbers kept in the ledger for the next runs of this account (the pages of a list)."""
        if self._kept is None:
            client_id, _ = self.settings.credentials()
            self._kept = LookupStore(self.ledger, f"{TARGET}|{self.settings.base_url}|{client_id}")
        return self._kept

    @property
    def recorder(self) -> Recorder:
        if self._recorder is None:
            client_id, _ = self.settings.credentials()
            try:
                run = self.ledger.start_run(
                    TARGET,
                    dry_run=self.dry_run,
                    account=f"{self.settings.base_url}|{client_id}",
                    lock_wait=self.settings.lock_wait_seconds,
                )
            except LedgerError:
                self._unstartable = True  # another run holds the account, or the ledger failed
                raise
            self._recorder = Recorder(self.ledger, run, SYSTEM, now=self.clock)
        return self._recorder

    def _links(self, entity: str) -> Mapping[str, Link]:
        return self.recorder.links(entity)

    @property
    def run(self) -> Run:
        return self.recorder.run

    @property
    def unchanged(self) -> Mapping[str, int]:
        """Records left as they were, by entity."""
        return self.recorder.unchanged if self._recorder is not None else {}

    # ---- apply and record ----------------------------------------------------------------------

    def settle(self, plans: Sequence[Plan]) -> None:
        """Confirm the deletes of vanished or no longer eligible records by reading Staffomatic,
        apply the plans (a dry run sends nothing), record each; stop on an error that needs a
        person once every plan has been recorded."""
        if not plans:
            return
        check = self.source.check if self.source is not None else None
        plans = confirmed(plans, check, NO_CREDENTIALS)
        if self._applier is None:
            destination = PersonioDestination(self.client)
            workers = self.settings.max_parallel_writes
            self._applier = Applier(
                destination, workers=workers, dry_run=self.dry_run, journal=self.recorder.run
            )
        for wave in in_waves(plans, self._people):
            results = self._applier.apply(wave)
            for result in results:
                self.recorder.record(in_personio_words(result))
            stop = stop_error(results)
            if stop is not None:
                raise stop

    def _people(self, plan: Plan) -> set[str]:
        replaced = self.recorder.links(plan.entity).get(plan.source_id)
        return people_in(plan, replaced.data if replaced else None)

    def skip(self, entity: str, source_id: str, reason: str) -> None:
        """A record the target cannot read: skipped with the reason."""
        self.recorder.record(Plan(entity, source_id, outcome=SKIP, reason=reason))

    # ---- end of the run ------------------------------------------------------------------------

    def finish(self) -> None:
        """Give up expired retries, close the run and print the summary."""
        if self._finished:
            return
        try:
            self.lookups_ready = True
            for step in self.at_end:
                step()
        except BaseException:
            self.fail()
            raise
        self._finished = True
        try:
            recorder = self.recorder
            if not self.settings.syncs_absences:
                self.logger.info(
                    "Absences are not synced to Personio because absence_source is %r.",
                    self.settings.absence_source,
                )
            for name, count in sorted(recorder.held_back.items()):
                self.logger.warning("%s", _held_back(name, count))
            if not self.dry_run:
                self._give_up_expired()
            recorder.run.finish("success")
            print(recorder.summary(_held_back), file=sys.stderr, end="")
        finally:
            self.close()

    def _give_up_expired(self) -> None:
        days = self.settings.retry_days
        for retry in self.ledger.give_up_expired(days, self.clock()):
            if retry.system != SYSTEM:
                continue
            self.logger.error(
                "Gave up on %s %s after %d attempts over %d days: %s",
                retry.entity,
                retry.source_id,
                retry.attempts,
                days,
                retry.reason,
            )

    def fail(self, status: str = "failed") -> None:
        """Close the run as failed (or interrupted) after an error that stops it."""
        if self._finished:
            return
        self._finished = True
        try:
            if not self._unstartable:  # a run stopped before its first record is recorded too
                self.recorder.run.finish(status)
        except LedgerError:
            pass  # the ledger itself is what failed; its error is the one reported
        finally:
            self.close()

    def close(self) -> None:
        if self._applier is not None:
            self._applier.close()
        if self._client is not None:
            self._client.close()
        if self.source is not None:
            self.source.close()
        if self._ledger is not None:
            self._ledger.close()


def _held_back(name: str, count: int) -> str:
    return (
        f"Absence type {name!r} has no Personio counterpart: {count} absences held back; add it "
        "to absence_type_map or create the type in Personio."
    )


__all__ = ["ABSENCE", "ABSENCES", "ATTENDANCE", "SYSTEM", "TIMERS", "SyncRun"]
