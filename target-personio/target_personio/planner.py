"""From collected records to plans: the rules' look-ups built from the settings, the run's
look-ups and the ledger links, then the pure rules (:mod:`target_personio.rules`) per record."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from datetime import date, datetime, timedelta
from typing import Any

from sync_ledger import Link
from sync_ledger.engine import Plan
from sync_ledger.engine.vocabulary import STAFFOMATIC_ABSENCES, WORK_TIMERS

from target_personio import mapping
from target_personio.client import ABSENCE, ATTENDANCE
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

TIMERS = WORK_TIMERS
ABSENCES = STAFFOMATIC_ABSENCES


class Planner:
    """Plans the records of one run."""

    def __init__(
        self,
        config: Mapping[str, Any],
        lookups: Lookups,
        links: Callable[[str], Mapping[str, Link]],
    ) -> None:
        self.config = config
        self.lookups = lookups
        self.links = links
        """The ledger links of an entity, kept in step with what the run records."""
        self.start_date = start_date(config.get("start_date"))
        self.retry_days = int(config.get("retry_days", 7))

    def window_start(self) -> datetime:
        """Nothing that starts before this is written: ``retry_days`` ago, or ``start_date``."""
        start = mapping.utcnow() - timedelta(days=self.retry_days)
        if self.start_date is not None:
            floor = datetime.combine(self.start_date, datetime.min.time(), self.lookups.zone)
            start = max(start, floor)
        return start

    # ---- planning ------------------------------------------------------------------------------

    def timer_lookups(self) -> TimerLookups:
        people = self.lookups.people  # first: a bad credential is the first thing to report
        window_start = self.window_start()
        since = mapping.local_time(window_start - timedelta(days=1), self.lookups.zone)
        links = self.links(TIMERS)
        return TimerLookups(
            people=people,
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
        people = self.lookups.people
        links = self.links(ABSENCES)
        return AbsenceLookups(
            people=people,
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

    def plan_timers(self, records: Sequence[Mapping[str, Any]]) -> list[Plan]:
        if not records:
            return []
        look, links = self.timer_lookups(), self.links(TIMERS)
        return self._plan(records, lambda r: plan_timer(r, links.get(str(r["id"])), look))

    def plan_absences(self, records: Sequence[Mapping[str, Any]]) -> list[Plan]:
        if not records:
            return []
        look, links = self.absence_lookups(), self.links(ABSENCES)
        return self._plan(records, lambda r: plan_absence(r, links.get(str(r["id"])), look))

    def _plan(
        self,
        records: Sequence[Mapping[str, Any]],
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
        return plan_vanished_timers(self.links(TIMERS), seen, self.window_start())

    def vanished_absences(self, seen: set[str]) -> list[Plan]:
        return plan_vanished_absences(self.links(ABSENCES), seen, self.absence_window())


def start_date(value: Any) -> date | None:
    """The ``start_date`` setting as a date."""
    if not value:
        return None
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    return date.fromisoformat(str(value)[:10])
