"""One run of the target: its resources, the look-ups, planning records, and the end of the run.

The sinks hand records to :meth:`SyncRun.plan_timers` / :meth:`SyncRun.plan_absences`; the pure
rules (:mod:`target_personio.rules`) decide; :meth:`SyncRun.settle` applies the plans through the
shared applier (a dry run executes the same plans without sending) and records them through the
shared recorder. The end-of-run summary is the ledger's report of the run.
"""

from __future__ import annotations

import logging
import sys
from collections.abc import Callable, Iterable, Mapping, Sequence
from datetime import date, datetime, timedelta
from typing import Any

from sync_ledger import Ledger, LedgerError, Run, default_url
from sync_ledger.engine import Plan
from sync_ledger.engine.apply import Applier, stop_error
from sync_ledger.engine.record import Recorder
from sync_ledger.engine.vocabulary import SKIP, STAFFOMATIC, STAFFOMATIC_ABSENCES, WORK_TIMERS

from target_personio import mapping
from target_personio.client import ABSENCE, ATTENDANCE, PersonioClient
from target_personio.destination import PersonioDestination, in_personio_words
from target_personio.lookups import Lookups
from target_personio.rules import (
    AbsenceLookups,
    TimerLookups,
    plan_absence,
    plan_timer,
    plan_vanished_absences,
    plan_vanished_timers,
)
from target_personio.rules.absences import AbsenceWindow
from target_personio.rules.common import linked_ids
from target_personio.settings import credentials

SYSTEM = STAFFOMATIC
TARGET = "target-personio"
TIMERS = WORK_TIMERS
ABSENCES = STAFFOMATIC_ABSENCES
WORKERS = 1
"""Plans applied at once. One: the periods of one person must not be moved by two plans at
the same time (Personio refuses overlaps), and the client's pacing is shared."""


class SyncRun:
    """State shared by the sinks for the length of one run."""

    def __init__(self, config: dict[str, Any], logger: logging.Logger) -> None:
        self.config = config
        self.logger = logger
        self.dry_run = bool(config.get("dry_run", False))
        self.absence_source = str(config.get("absence_source") or "personio")
        self.start_date = _date(config.get("start_date"))
        self.retry_days = int(config.get("retry_days", 7))
        self.lookups = Lookups(
            lambda: self.client,
            logger,
            time_zone=config.get("time_zone"),
            type_map=config.get("absence_type_map"),
        )
        self.lookups_ready = False
        """True once the users stream has been read (window records wait until then)."""
        self.at_end: list[Callable[[], None]] = []
        """Called after the last drain, before the run is closed."""
        self._client: PersonioClient | None = None
        self._ledger: Ledger | None = None
        self._recorder: Recorder | None = None
        self._applier: Applier | None = None
        self._finished = False

    # ---- resources -----------------------------------------------------------------------------

    @property
    def client(self) -> PersonioClient:
        if self._client is None:
            client_id, client_secret = credentials(self.config)
            self._client = PersonioClient(
                str(self.config.get("base_url") or "https://api.personio.de"),
                client_id,
                client_secret,
                str(self.config.get("app_id") or "TARGET_PERSONIO"),
            )
        return self._client

    @property
    def ledger(self) -> Ledger:
        if self._ledger is None:
            url = str(self.config.get("ledger_url") or default_url())
            self._ledger = Ledger(url, clock=lambda: mapping.utcnow())
        return self._ledger

    @property
    def recorder(self) -> Recorder:
        if self._recorder is None:
            run = self.ledger.start_run(TARGET, dry_run=self.dry_run)
            self._recorder = Recorder(self.ledger, run, SYSTEM, now=lambda: mapping.utcnow())
        return self._recorder

    @property
    def run(self) -> Run:
        return self.recorder.run

    @property
    def unchanged(self) -> Mapping[str, int]:
        """Records left as they were, by entity."""
        return self.recorder.unchanged if self._recorder is not None else {}

    def window_start(self) -> datetime:
        """Nothing that starts before this is written: ``retry_days`` ago, or ``start_date``."""
        start = mapping.utcnow() - timedelta(days=self.retry_days)
        if self.start_date is not None:
            floor = datetime.combine(self.start_date, datetime.min.time(), self.lookups.zone)
            start = max(start, floor)
        return start

    # ---- planning ------------------------------------------------------------------------------

    def timer_lookups(self) -> TimerLookups:
        window_start = self.window_start()
        since = mapping.local_time(window_start - timedelta(days=1), self.lookups.zone)
        links = self.recorder.links(TIMERS)
        return TimerLookups(
            people=self.lookups.people,
            zone=self.lookups.zone,
            when=mapping.TimerRules(
                now=mapping.utcnow(),
                settle=timedelta(minutes=int(self.config.get("settle_minutes", 60))),
                window_start=window_start,
                only_verified=bool(self.config.get("only_verified_timers", True)),
            ),
            skip_approval=bool(self.config.get("skip_approval", True)),
            found=self.lookups.found(
                ATTENDANCE,
                {"start.date_time.gte": since},
                lambda: (p["id"] for link in links.values() for p in link.data.get("periods", [])),
            ),
        )

    def absence_window(self) -> AbsenceWindow:
        return AbsenceWindow.around(
            mapping.utcnow().astimezone(self.lookups.zone).date(),
            int(self.config.get("absence_window_past_days", 60)),
            int(self.config.get("absence_window_future_days", 365)),
            self.start_date,
        )

    def absence_lookups(self) -> AbsenceLookups:
        past_days = int(self.config.get("absence_window_past_days", 60))
        past = mapping.utcnow().date() - timedelta(days=past_days + 1)
        links = self.recorder.links(ABSENCES)
        return AbsenceLookups(
            people=self.lookups.people,
            types=self.lookups.absence_types,
            zone=self.lookups.zone,
            window=self.absence_window(),
            only_approved=bool(self.config.get("only_approved_absences", True)),
            skip_approval=bool(self.config.get("skip_approval", True)),
            found=self.lookups.found(
                ABSENCE,
                {"starts_from.date_time.gte": f"{past.isoformat()}T00:00:00"},
                lambda: (link.dest_id for link in links.values()),
            ),
        )

    def plan_timers(self, records: Iterable[Mapping[str, Any]]) -> list[Plan]:
        look, links = self.timer_lookups(), self.recorder.links(TIMERS)
        return self._plan(records, lambda r: plan_timer(r, links.get(str(r["id"])), look))

    def plan_absences(self, records: Iterable[Mapping[str, Any]]) -> list[Plan]:
        look, links = self.absence_lookups(), self.recorder.links(ABSENCES)
        return self._plan(records, lambda r: plan_absence(r, links.get(str(r["id"])), look))

    def _plan(
        self,
        records: Iterable[Mapping[str, Any]],
        rule: Callable[[Mapping[str, Any]], Plan | None],
    ) -> list[Plan]:
        plans = []
        for record in records:
            plan = rule(record)
            if plan is not None:
                kind = ATTENDANCE if plan.entity == TIMERS else ABSENCE
                self.lookups.taken(kind, linked_ids([plan]))
                plans.append(plan)
        return plans

    def vanished_timers(self, seen: set[str]) -> list[Plan]:
        return plan_vanished_timers(self.recorder.links(TIMERS), seen, self.window_start())

    def vanished_absences(self, seen: set[str]) -> list[Plan]:
        return plan_vanished_absences(self.recorder.links(ABSENCES), seen, self.absence_window())

    # ---- apply and record ----------------------------------------------------------------------

    def settle(self, plans: Sequence[Plan]) -> None:
        """Apply the plans (a dry run sends nothing), record each; stop on an error that needs
        a person once every plan has been recorded."""
        if not plans:
            return
        if self._applier is None:
            destination = PersonioDestination(self.client)
            self._applier = Applier(destination, workers=WORKERS, dry_run=self.dry_run)
        results = self._applier.apply(plans)
        for result in results:
            self.recorder.record(in_personio_words(result))
        stop = stop_error(results)
        if stop is not None:
            raise stop

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
            if self.absence_source != "staffomatic":
                self.logger.info(
                    "Absences are not synced to Personio because absence_source is %r.",
                    self.absence_source,
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
        for retry in self.ledger.give_up_expired(self.retry_days, mapping.utcnow()):
            if retry.system != SYSTEM:
                continue
            self.logger.error(
                "Gave up on %s %s after %d attempts over %d days: %s",
                retry.entity,
                retry.source_id,
                retry.attempts,
                self.retry_days,
                retry.reason,
            )

    def fail(self) -> None:
        """Close the run as failed after an error that stops it."""
        if self._finished:
            return
        self._finished = True
        try:
            self.recorder.run.finish("failed")
        except LedgerError:
            pass  # the ledger itself is what failed; its error is the one reported
        finally:
            self.close()

    def close(self) -> None:
        if self._applier is not None:
            self._applier.close()
        if self._client is not None:
            self._client.close()
        if self._ledger is not None:
            self._ledger.close()


def _held_back(name: str, count: int) -> str:
    return (
        f"Absence type {name!r} has no Personio counterpart: {count} absences held back; add it "
        "to absence_type_map or create the type in Personio."
    )


def _date(value: Any) -> date | None:
    if not value:
        return None
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    return date.fromisoformat(str(value)[:10])


__all__ = ["ABSENCE", "ABSENCES", "ATTENDANCE", "SYSTEM", "TIMERS", "SyncRun", "credentials"]
