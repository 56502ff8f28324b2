"""From collected records to plans: the rules' look-ups built from the settings, the run's
look-ups and the ledger links, then the pure rules (:mod:`target_personio.rules`) per record."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
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
    People,
    TimerLookups,
    plan_absence,
    plan_timer,
    plan_vanished_absences,
    plan_vanished_timers,
)
from target_personio.rules.absences import AbsenceWindow
from target_personio.rules.common import linked_ids
from target_personio.rules.eligibility import TimerRules
from target_personio.settings import Settings

TIMERS = WORK_TIMERS
ABSENCES = STAFFOMATIC_ABSENCES


class Planner:
    """Plans the records of one run."""

    def __init__(
        self,
        settings: Settings,
        lookups: Lookups,
        clock: Callable[[], datetime],
        links: Callable[[str], Mapping[str, Link]],
    ) -> None:
        self.settings = settings
        self.clock = clock
        self.lookups = lookups
        self.links = links
        """The ledger links of an entity, kept in step with what the run records."""
        self._periods_since: str | None = None
        """The local time Personio's attendance periods are read from (set once per run)."""

    def window_start(self) -> datetime:
        """Nothing that starts before this is written: ``retry_days`` ago, or ``start_date``."""
        start = self.clock() - timedelta(days=self.settings.retry_days)
        if self.settings.start_date is not None:
            day = self.settings.start_date
            floor = datetime.combine(day, datetime.min.time(), self.lookups.zone)
            start = max(start, floor)
        return start

    # ---- planning ------------------------------------------------------------------------------

    def timer_rules(self) -> TimerRules:
        """When a timer may be written, as of now."""
        return TimerRules(
            now=self.clock(),
            settle=timedelta(minutes=self.settings.settle_minutes),
            window_start=self.window_start(),
            only_verified=self.settings.only_verified_timers,
        )

    def people(self, records: Sequence[Mapping[str, Any]], whole: bool) -> People:
        """Every Personio employee (``whole``: a complete window), else those of the records'
        users when reading them one by one takes fewer requests than the list."""
        if whole:
            return self.lookups.people
        return self.lookups.people_for(record.get("user_id") for record in records)

    def timer_lookups(
        self, records: Sequence[Mapping[str, Any]] = (), *, whole: bool = True
    ) -> TimerLookups:
        """``whole``: the look-ups of a complete window (every employee, every period since
        the window's start); else those of the records' people only."""
        people = self.people(records, whole)  # first: a bad credential is the first thing to report
        when = self.timer_rules()
        if self._periods_since is None:  # once per run: one read serves every batch
            since = when.window_start - timedelta(days=1)
            self._periods_since = mapping.local_time(since, self.lookups.zone)
        links = self.links(TIMERS)
        persons = (
            None if whole else {p for r in records if (p := people.person_for(r.get("user_id"))[0])}
        )
        return TimerLookups(
            people=people,
            zone=self.lookups.zone,
            when=when,
            skip_approval=self.settings.skip_approval,
            overnight=self.settings.overnight_periods,
            found=self.lookups.found(
                ATTENDANCE,
                {"start.date_time.gte": self._periods_since},
                lambda: (p["id"] for link in links.values() for p in link.data.get("periods", [])),
                persons,
            ),
        )

    def absence_window(self) -> AbsenceWindow:
        return AbsenceWindow.around(
            self.clock().astimezone(self.lookups.zone).date(),
            self.settings.absence_window_past_days,
            self.settings.absence_window_future_days,
            self.settings.start_date,
        )

    def absence_lookups(
        self,
        first_day: date | None = None,
        records: Sequence[Mapping[str, Any]] = (),
        *,
        whole: bool = True,
    ) -> AbsenceLookups:
        """``first_day``: the first day of the earliest unlinked absence, when it began before
        the window: Personio's periods are read from it to link instead of creating again, as
        no document says whether the date filters return periods that began before a bound.

        ``whole``: every period since then is read (once, when a plan first needs one); else
        those of the people a plan asks for, one person per read, or the whole list when the
        records' people are as many as its pages."""
        past_days = self.settings.absence_window_past_days
        past = self.clock().date() - timedelta(days=past_days + 1)
        if first_day is not None:
            past = min(past, first_day)
        people = self.people(records, whole)
        links = self.links(ABSENCES)
        params = {"starts_from.date_time.gte": f"{past.isoformat()}T00:00:00"}

        def linked() -> Iterable[str]:
            return (link.dest_id for link in links.values())

        if whole:
            found = self.lookups.found(ABSENCE, params, linked)
        else:
            persons = {p for r in records if (p := people.person_for(r.get("user_id"))[0])}
            found = self.lookups.found_one_by_one(ABSENCE, params, linked, persons, len(links))
        return AbsenceLookups(
            people=people,
            types=self.lookups.absence_types,
            zone=self.lookups.zone,
            window=self.absence_window(),
            only_approved=self.settings.only_approved_absences,
            skip_approval=self.settings.skip_approval,
            found=found,
        )

    def plan_timers(
        self, records: Sequence[Mapping[str, Any]], *, whole: bool = True
    ) -> list[Plan]:
        """``whole``: the records of a complete window (else a batch of changes)."""
        if not records:
            return []
        look, links = self.timer_lookups(records, whole=whole), self.links(TIMERS)
        return self._plan(records, lambda r: plan_timer(r, links.get(str(r["id"])), look))

    def plan_absences(
        self, records: Sequence[Mapping[str, Any]], *, whole: bool = True
    ) -> list[Plan]:
        """``whole``: the records of a complete window (else a batch of changes)."""
        if not records:
            return []
        links = self.links(ABSENCES)
        first = self._first_unlinked_day(records, links)
        look = self.absence_lookups(first, records, whole=whole)
        return self._plan(records, lambda r: plan_absence(r, links.get(str(r["id"])), look))

    def _first_unlinked_day(
        self, records: Sequence[Mapping[str, Any]], links: Mapping[str, Link]
    ) -> date | None:
        """The local first day of the earliest absence without a link that reaches into the
        window (an absence without readable times is skipped by its rule)."""
        first = self.absence_window().first
        days = []
        for record in records:
            if str(record["id"]) in links:
                continue
            try:
                start = mapping.parse_time(record.get("starts_at"))
                end = mapping.parse_time(record.get("ends_at"))
            except mapping.Unmappable:
                continue
            if start is not None and end is not None and end.date() >= first:
                days.append(start.astimezone(self.lookups.zone).date())
        return min(days, default=None)

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
