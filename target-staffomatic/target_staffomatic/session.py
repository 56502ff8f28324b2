"""One run of the target: the orchestration of reading, planning, applying and recording.

The sinks hand records here. :mod:`target_staffomatic.reading` reads the look-ups,
:mod:`target_staffomatic.rules` plans each record, the engine's applier sends the plans through
:mod:`target_staffomatic.destination` (or, in a dry run, only pretends to) and its recorder keeps
the ledger; the summary printed at the end is the ledger's report of the run.
"""

from __future__ import annotations

import logging
import sys
from collections.abc import Iterable, Mapping
from datetime import datetime, timedelta
from typing import Any, TextIO

from sync_ledger import Ledger, Link
from sync_ledger.engine import Plan
from sync_ledger.engine.apply import Applier, stop_error
from sync_ledger.engine.confirm import confirmed
from sync_ledger.engine.record import Recorder
from sync_ledger.lookups import LookupStore
from sync_ledger.targets import text_problem

from target_staffomatic import kept, reading
from target_staffomatic.client import StaffomaticClient
from target_staffomatic.destination import StaffomaticDestination
from target_staffomatic.on_demand import AbsenceReads, UserReads
from target_staffomatic.rules import (
    ABSENCE,
    EMPLOYEE,
    EMPLOYEE_TEXT,
    SYSTEM,
    AbsenceIn,
    learn,
    norm,
    plan_absence,
    plan_employee,
    plan_gone,
    plan_missing_types,
    plan_vanished,
    read_absence,
)
from target_staffomatic.rules.absences import REMOVED_STATUSES
from target_staffomatic.settings import Settings, StopRun
from target_staffomatic.source import NO_CREDENTIALS, PersonioSource

logger = logging.getLogger("target_staffomatic")
TARGET = "target-staffomatic"
__all__ = ["TARGET", "Session", "StopRun"]

BATCH = 100
"""Absences that waited for their employee are planned and sent this many at a time (as the
sinks' batches), so a run holds the plans and answers of one batch, not of every such absence."""
Ready = tuple[AbsenceIn, int | None, int | None]
"""An absence with its employee's Staffomatic user and location (None: not linked)."""


def held_back_line(name: str, count: int) -> str:
    return f"absence type '{name}' has no Staffomatic counterpart: {count} absence(s) held back"


class Session:
    """Everything one run shares. Created lazily by the target on the first record."""

    def __init__(
        self,
        settings: Settings,
        client: StaffomaticClient,
        ledger: Ledger,
        *,
        now: datetime | None = None,
        out: TextIO | None = None,
    ) -> None:
        self.settings = settings
        self.client = client
        self.ledger = ledger
        self.dry_run = settings.dry_run
        self.out = out or sys.stderr
        self.personio_types: dict[str, dict[str, Any]] = {}
        self.seen_absences: set[str] | None = None
        self.deferred: list[AbsenceIn] = []
        self.users_claimed: dict[int, str] = {}
        self.absences_ignored_logged = False

        store = LookupStore(ledger, f"{TARGET}|{settings.base_url}|{settings.account}")
        zone_name = settings.time_zone or kept.time_zone(client, store) or "UTC"
        self.zone = Settings.zone(str(zone_name))
        self.today = (now or datetime.now(self.zone)).astimezone(self.zone).date()
        self.window = (
            self.today - timedelta(days=settings.absence_window_past_days),
            self.today + timedelta(days=settings.absence_window_future_days),
        )
        self.rules = settings.rules(self.zone, self.today)
        self.source = PersonioSource.of(settings)
        """Personio, read to confirm deletions of absences that vanished (None: no credential)."""
        self.lookups = kept.lookups(client, store)
        run = ledger.start_run(
            TARGET,
            dry_run=self.dry_run,
            account=f"{settings.base_url}|{settings.account}",
            lock_wait=settings.lock_wait_seconds,
        )
        self.recorder = Recorder(ledger, run, SYSTEM, now=lambda: datetime.now(self.zone))
        self.applier = Applier(
            StaffomaticDestination(client, self.lookups),
            workers=settings.max_parallel_writes,
            dry_run=self.dry_run,
            name="staffomatic-",
            journal=run,
        )
        self.users = UserReads(client, self.lookups, store, len(self.links(EMPLOYEE)))
        """Users, read as the records need them (by id, or the list when that is cheaper)."""
        self.absence_reads = AbsenceReads(
            client, self.lookups, store, self.window, self.zone, len(self.links(ABSENCE))
        )
        for retry in ledger.give_up_expired(settings.retry_days, system=SYSTEM):
            self.recorder.notes.append(
                f"gave up retrying {retry.entity} {retry.source_id} after "
                f"{retry.attempts} attempt(s): {retry.reason}"
            )

    def links(self, entity: str) -> dict[str, Link]:
        return self.recorder.links(entity)

    # ---- employees --------------------------------------------------------------------------

    def sync_employees(self, records: Iterable[Mapping[str, Any]]) -> None:
        links = self.links(EMPLOYEE)
        records = list(records)
        found = [links.get(str(record["id"])) for record in records]
        self.users.need(
            (_int(link.dest_id) for link in found if link is not None),
            unlinked=any(link is None for link in found),
        )
        vacation_ids = [
            tid
            for tid, kind in self.personio_types.items()
            if norm(kind.get("category")) == "paid_vacation"
        ]
        plans = []
        for record in records:
            sid = str(record["id"])
            problem = text_problem(record, EMPLOYEE_TEXT, "Personio")
            if problem:
                plans.append(Plan(EMPLOYEE, sid, outcome="skip", reason=problem))
                continue
            plan = plan_employee(record, self.rules, self.lookups, links.get(sid), vacation_ids)
            plans.append(self._claim_user(plan))
        self.apply(plans)

    def _claim_user(self, plan: Plan) -> Plan:
        """One user per employee in a run: a second employee matching it is a conflict."""
        dest = plan.dest_id
        owner = self.users_claimed.get(int(dest)) if dest is not None else None
        if owner is not None and owner != plan.source_id:
            reason = f"conflict: user {dest} was linked to employee {owner} in this run"
            return Plan(EMPLOYEE, plan.source_id, outcome="skip", reason=reason)
        if dest is not None:
            self.users_claimed[int(dest)] = plan.source_id
        return plan

    # ---- absences ---------------------------------------------------------------------------

    @property
    def absences_enabled(self) -> bool:
        if self.settings.absence_source == "personio":
            return True
        if not self.absences_ignored_logged:
            self.absences_ignored_logged = True
            logger.info(
                "absence_source is '%s': absences from Personio are ignored in this run.",
                self.settings.absence_source,
            )
        return False

    def note_absence_type(self, record: Mapping[str, Any]) -> None:
        self.personio_types[str(record["id"])] = dict(record)

    def sync_absences(self, records: Iterable[Mapping[str, Any]], *, final: bool = False) -> None:
        """Plan and apply absences; ones whose employee is not linked yet wait for the end."""
        if not self.absences_enabled:
            return
        if self.seen_absences is not None:  # a complete window read: the whole window is read
            self.absence_reads.read_window()
        names = {tid: str(t.get("name") or "") for tid, t in self.personio_types.items()}
        valid: list[AbsenceIn] = []
        for record in records:
            sid = str(record.get("id"))
            if self.seen_absences is not None:
                self.seen_absences.add(sid)
            try:
                problem = text_problem(record, source="Personio")
                if problem:
                    raise ValueError(problem)
                absence = read_absence(record, names, self.window[1])
                if absence.end < self.window[0] or absence.start > self.window[1]:
                    raise ValueError(
                        f"the absence lies outside the sync window ({self.window[0]} to "
                        f"{self.window[1]}): nothing outside it is written"
                    )
            except ValueError as exc:
                self.recorder.record(Plan(ABSENCE, sid, outcome="skip", reason=str(exc)))
                continue
            valid.append(absence)
        ready: list[Ready] = []
        for absence, user, location in self._with_users(valid):
            if user is None and not final:
                self.deferred.append(absence)
                continue
            ready.append((absence, user, location))
        self._plan_absences(ready)

    def _with_users(self, absences: list[AbsenceIn]) -> list[Ready]:
        """Each absence with its employee's user and location; the users are read first (by
        id, and the list when an employee has no link: its user is found by ``custom_id``)."""
        links = self.links(EMPLOYEE)
        self.users.need(
            (_int(links[a.person_id].dest_id) for a in absences if a.person_id in links),
            unlinked=any(a.person_id not in links for a in absences),
        )
        return [(a, *self.user_of(a.person_id)) for a in absences]

    def skip_unreadable(self, entity: str, record: Mapping[str, Any], reason: str) -> None:
        """A record the SDK could not read (no key, not matching its schema): logged and
        skipped; an absence that keeps its id still counts as seen in a full window."""
        sid = str(record["id"]) if record.get("id") is not None else "(no id)"
        if entity == ABSENCE and self.seen_absences is not None and sid != "(no id)":
            self.seen_absences.add(sid)
        logger.warning("%s %s skipped: %s", entity, sid, reason)
        self.recorder.record(Plan(entity, sid, outcome="skip", reason=reason))

    def finish_absences(self) -> None:
        """At the end of input: the absences that waited for their employee."""
        waiting, self.deferred = self.deferred, []
        if not self.absences_enabled:
            return
        for first in range(0, len(waiting), BATCH):  # a batch at a time, as they arrived
            self._plan_absences(self._with_users(waiting[first : first + BATCH]))

    def user_of(self, person_id: str) -> tuple[int | None, int | None]:
        """The Staffomatic user and location of a Personio employee (ledger, else custom_id)."""
        link = self.links(EMPLOYEE).get(person_id)
        uid: int | None = None
        if link is not None and _int(link.dest_id) in self.lookups.users:
            uid = _int(link.dest_id)
        else:
            found = sorted(self.lookups.by_custom_id.get(person_id, ()))
            uid = found[0] if len(found) == 1 else None
        if uid is None:
            return None, None
        preferred = _int(link.data.get("location_id")) if link else None
        return uid, self.lookups.location_of(uid, preferred)

    def _plan_absences(self, items: list[Ready]) -> None:
        if not items:
            return
        links = self.links(ABSENCE)
        self._read_absences(
            [links[a.id] for a, _, _ in items if a.id in links],
            [
                (user, a.start, a.end)
                for a, user, _ in items
                if a.id not in links and user is not None and a.status not in REMOVED_STATUSES
            ],
        )
        unlinked = (a.start for a, _, _ in items if a.id not in links)
        reading.absences_starting_before(self.client, self.lookups, unlinked, self.zone)
        if self.rules.create_missing_absence_types:
            needed = [(absence, location) for absence, _, location in items]
            self.apply(plan_missing_types(needed, self.rules, self.lookups))
        claimed = {d for d in (_int(link.dest_id) for link in links.values()) if d is not None}
        plans = []
        for absence, user, location in items:
            link = links.get(absence.id)
            plan = plan_absence(absence, self.rules, self.lookups, link, user, location, claimed)
            if plan.dest_id is not None:
                claimed.add(int(plan.dest_id))
            plans.append(plan)
        self.apply(plans)

    def _read_absences(self, linked: list[Link], unlinked: list[tuple[int, Any, Any]]) -> None:
        """The Staffomatic absences these plans need: the linked ones (by id, or in the window),
        and the absences of the unlinked ones' users around their dates."""
        ids = [d for d in (_int(link.dest_id) for link in linked) if d is not None and d > 0]
        self.absence_reads.need(ids, unlinked)
        if self.absence_reads.window_loaded:
            reading.absences_outside_window(self.client, self.lookups, linked, self.window)

    def activate_version_complete(self) -> None:
        """The window was read completely: delete linked absences whose source vanished."""
        if self.seen_absences is None or not self.absences_enabled:
            return
        seen, self.seen_absences = self.seen_absences, None
        self.absence_reads.read_window()
        self.apply(plan_vanished(self.links(ABSENCE), seen, self.window, self.lookups))

    def source_gone(self, entity: str, sid: str) -> None:
        """A record tap-personio was asked for by id (``only_ids``) and Personio no longer has
        (``_sdc_deleted_at``): its linked absence is deleted once the confirmation read agrees;
        a user is never deleted (the leaver and lock rules apply on the next full read)."""
        if entity == EMPLOYEE:
            reason = "gone from Personio: users are never deleted (the next full sync applies "
            reason += "the leaver and lock rules)"
            self.recorder.record(Plan(EMPLOYEE, sid, outcome="skip", reason=reason))
            return
        if not self.absences_enabled:
            return
        link = self.links(ABSENCE).get(sid)
        if link is None:
            self.recorder.record(
                Plan(ABSENCE, sid, outcome="unchanged", reason="gone from Personio, never synced")
            )
            return
        self._read_absences([link], [])
        self.apply([plan_gone(sid, link, self.lookups, "deleted in Personio (read by id)")])

    # ---- applying -----------------------------------------------------------------------------

    def apply(self, plans: list[Plan]) -> None:
        """Confirm the deletes of vanished records by reading Personio, send the plans (a few
        at once), then record every outcome in order and keep the look-ups in step; an error
        that needs a person ends the run after that."""
        check = self.source.check if self.source is not None else None
        results = self.applier.apply(confirmed(plans, check, NO_CREDENTIALS))
        for result in results:
            self.recorder.record(result)
            plan = result.plan
            location = plan.link.data.get("location_id") if plan.link else None
            for op, answer in result.done:
                dest = _int(plan.dest_id) if op.action == "delete" else _int(result.dest_id)
                learn(self.lookups, plan.entity, op.action, answer, dest, _int(location))
        stop = stop_error(results)
        if stop is not None:
            raise StopRun(str(stop))

    # ---- the end --------------------------------------------------------------------------------

    def finish(self, status: str = "success") -> None:
        self.applier.close()
        try:
            self.recorder.run.finish(status)
            summary = self.recorder.summary(held_back_line)
        finally:
            self.client.close()
            if self.source is not None:
                self.source.close()
            self.ledger.close()
        self.out.write(summary)
        self.out.flush()


def _int(value: Any) -> int | None:
    try:
        return int(value)
    except (TypeError, ValueError):
        return None
