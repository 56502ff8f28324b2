"""The sinks: look-up streams fill the run's dictionaries; timers and absences are planned and
written in batches, after the look-ups of the same input have been read.

Full refresh: tap-staffomatic sends ACTIVATE_VERSION(v) before the records of ``work_timers`` and
``absences`` and a second ACTIVATE_VERSION(v) after the last one. The second one means "the
window was read completely": once every pending record has been written (at the end of the
input, when the look-ups are complete too), linked Personio periods of records that were not
seen are deleted (only those the sync created: the ledger says which).

tap-staffomatic may send a window stream before ``users``; its records wait (they are not
drained) until the users have been read, so every person can be matched.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any

from singer_sdk import Target
from singer_sdk.sinks import BatchSink, RecordSink, Sink
from singer_sdk.sinks.core import BaseJSONSchemaValidator
from sync_ledger import Link, fingerprint
from sync_ledger.targets import QuietValidator, text_problem
from typing_extensions import override

from target_personio import mapping
from target_personio.client import ABSENCE, ATTENDANCE, Rejected
from target_personio.run import ABSENCES, TIMERS, SyncRun

NO_KEY = "the record has no 'id' (its key), so it cannot be synced"


class _RunSink(Sink):
    """A sink with access to the run shared by every sink of the target."""

    @override
    def get_validator(self) -> BaseJSONSchemaValidator | None:
        inner = super().get_validator()
        return None if inner is None else QuietValidator(self.schema, inner)

    def __init__(
        self,
        target: Target,
        stream_name: str,
        schema: dict,
        key_properties: Sequence[str] | None,
    ) -> None:
        super().__init__(target, stream_name, schema, key_properties)
        self.sync: SyncRun = target.sync  # type: ignore[attr-defined]


class IgnoredSink(_RunSink, RecordSink):
    """Streams the target does not need (locations, departments, ...)."""

    @override
    def get_validator(self) -> BaseJSONSchemaValidator | None:
        return None  # dropped records need no validation

    @override
    def process_record(self, record: dict, context: dict) -> None:
        return


class AccountSink(_RunSink, RecordSink):
    """The Staffomatic account: its ``time_zone`` is the default company time zone."""

    @override
    def process_record(self, record: dict, context: dict) -> None:
        if record.get("time_zone"):
            self.sync.account_time_zone = str(record["time_zone"])


class UsersSink(_RunSink, RecordSink):
    """Staffomatic users: ``custom_id`` (the Personio id) and e-mail, for matching people."""

    @override
    def process_record(self, record: dict, context: dict) -> None:
        custom_id = str(record.get("custom_id") or "").strip()
        email = str(record.get("email") or "").strip().lower()
        self.sync.users[str(record["id"])] = (custom_id, email)


class AbsenceTypesSink(_RunSink, RecordSink):
    """Staffomatic absence types: names by id, for absences that carry only the id."""

    @override
    def process_record(self, record: dict, context: dict) -> None:
        self.sync.staffomatic_types[str(record["id"])] = str(record.get("name") or "")


class _WindowSink(_RunSink, BatchSink):
    """A batch sink that keeps links and understands the "window read completely" signal."""

    entity = ""
    checked_text: tuple[str, ...] = ()
    """Fields whose text is refused above ``sync_ledger.targets.MAX_TEXT`` characters."""

    @override
    def setup(self) -> None:
        super().setup()
        self._links: dict[str, Link] | None = None
        self._retries: dict[str, Any] = {}
        self._version: int | None = None
        self._complete = False
        self._seen: set[str] = set()
        self._deferred: list[dict[str, Any]] = []
        self.sync.at_end.append(self.end_of_input)

    @property
    @override
    def include_sdc_metadata_properties(self) -> bool:
        # ACTIVATE_VERSION is handled here without _sdc columns; saying yes keeps the SDK from
        # warning about them on every full refresh. The extra _sdc fields are ignored.
        return True

    @property
    @override
    def is_full(self) -> bool:
        # Records wait until the look-up streams (users, types, account) have been read.
        return self.sync.lookups_ready and super().is_full

    @property
    def links(self) -> dict[str, Link]:
        if self._links is None:
            self._links = self.sync.links(self.entity)
            self._retries = dict(self.sync.ledger.retries("staffomatic", self.entity))
        return self._links

    @override
    def process_record(self, record: dict, context: dict) -> None:
        if self.sync.users:
            # tap-staffomatic sends one stream after the other: users are complete by now.
            self.sync.lookups_ready = True
        self._seen.add(str(record["id"]))
        super().process_record(record, context)

    @override
    def process_batch(self, context: dict) -> None:
        records = self._deferred + list(context.get("records") or [])
        if not self.sync.lookups_ready:
            self._deferred = records
            return
        self._deferred = []
        try:
            for record in records:
                self.handle_one(record)
        except BaseException:
            self.sync.fail()
            raise

    @override
    def activate_version(self, new_version: int) -> None:
        """The first ACTIVATE_VERSION opens a full window, the second says it was read whole."""
        if self._version != new_version:
            self._version = new_version
            self._seen = set()
            self._complete = False
            return
        self._complete = True

    def end_of_input(self) -> None:
        """After the last drain: write what waited, then remove what a full window lacked."""
        try:
            if self._deferred:
                self.process_batch({"records": []})
            if self._complete:
                self.remove_unseen()
                self._complete = False
        except BaseException:
            self.sync.fail()
            raise

    def mark_seen(self, source_id: str) -> None:
        """A record that was skipped still counts as seen: its periods are not removed."""
        if source_id != "(no id)":
            self._seen.add(source_id)

    def handle_one(self, record: dict[str, Any]) -> None:
        """One record; one that cannot be read (bad text, bad times) is skipped with the reason."""
        problem = text_problem(record, self.checked_text, "Staffomatic")
        if problem is None:
            try:
                self.handle(record)
            except mapping.Unmappable as exc:
                problem = str(exc)
        if problem is not None:
            self.sync.logger.warning("%s %s skipped: %s", self.entity, record.get("id"), problem)
            self.sync.record(self.entity, str(record.get("id")), "skip", problem)

    def handle(self, record: dict[str, Any]) -> None:
        raise NotImplementedError

    def remove_unseen(self) -> None:
        raise NotImplementedError


class WorkTimersSink(_WindowSink):
    """Work timers into attendance periods (WORK and BREAK), one timer to several periods."""

    entity = TIMERS

    def rules(self) -> mapping.TimerRules:
        return mapping.TimerRules(
            now=mapping.utcnow(),
            settle=timedelta(minutes=int(self.config.get("settle_minutes", 60))),
            window_start=self.sync.window_start(),
            only_verified=bool(self.config.get("only_verified_timers", True)),
        )

    @property
    def skip_approval(self) -> bool:
        return bool(self.config.get("skip_approval", True))

    @override
    def handle(self, record: dict[str, Any]) -> None:
        tid = str(record["id"])
        link = self.links.get(tid)
        problem = mapping.timer_problem(record, self.rules())
        if problem == mapping.OUT_OF_WINDOW:
            return
        if problem:
            if link is not None:
                self.remove(tid, link, problem)
            else:
                self.sync.record(self.entity, tid, "skip", problem)
            return
        person, why = self.sync.person_for(record.get("user_id"))
        if person is None:
            self.sync.record(self.entity, tid, "skip", why)
            return
        try:
            periods = mapping.timer_periods(record)
        except mapping.Unmappable as exc:
            self.sync.rejected(self.entity, tid, f"not sent: {exc}")
            return
        zone = self.sync.zone
        slots = [p.slot(zone) for p in periods]
        fp = fingerprint({"person": person, "slots": slots})
        starts_at = mapping.parse_time(record["starts_at"])
        assert starts_at is not None
        if link is not None and link.fingerprint == fp:
            self.sync.unchanged[self.entity] += 1
            self.sync.succeeded(self.entity, tid, self._retries)
            return
        if link is not None and link.data.get("person") == person:
            self.update(tid, link, person, slots, fp, starts_at)
        else:
            if link is not None:
                self.remove(tid, link, "the timer moved to another person")
            self.create(tid, person, slots, fp, starts_at)

    def _recovered(self, person: str) -> dict[tuple[str, ...], list[str]]:
        linked = [p["id"] for link in self.links.values() for p in link.data.get("periods", [])]
        start = mapping.local_time(self.sync.window_start() - timedelta(days=1), self.sync.zone)
        return self.sync.existing(ATTENDANCE, {"start.date_time.gte": start}, linked)

    def create(
        self, tid: str, person: str, slots: list[dict[str, str]], fp: str, starts_at: datetime
    ) -> None:
        existing = self._recovered(person)
        done: list[dict[str, str]] = []
        error: Rejected | None = None
        adopted = 0
        for slot in slots:
            ids = existing.get(mapping.attendance_key(person, slot))
            if ids:
                done.append({"id": ids.pop(0), **slot})
                adopted += 1
                continue
            try:
                new_id = self.sync.create(
                    ATTENDANCE,
                    mapping.attendance_body(person, slot),
                    skip_approval=self.skip_approval,
                )
            except Rejected as exc:
                error = exc
                break
            done.append({"id": new_id, **slot})
        self._finish(tid, person, slots, done, fp, starts_at, error, "create", adopted)

    def update(
        self,
        tid: str,
        link: Link,
        person: str,
        slots: list[dict[str, str]],
        fp: str,
        starts_at: datetime,
    ) -> None:
        """Bring the linked periods in step: delete extras, PATCH what moved, create what's new."""
        old: list[dict[str, str]] = list(link.data.get("periods", []))
        keep: list[tuple[dict[str, str], dict[str, str]]] = []
        drop: list[dict[str, str]] = []
        add: list[dict[str, str]] = []
        for kind in (mapping.WORK, mapping.BREAK):
            was = [p for p in old if p["type"] == kind]
            will = [s for s in slots if s["type"] == kind]
            keep.extend(zip(was, will, strict=False))
            drop.extend(was[len(will) :])
            add.extend(will[len(was) :])
        # Periods moving later are moved last-first, those moving earlier first-first, so that
        # a moved period never overlaps one that has not moved yet.
        later = sorted(
            (pair for pair in keep if pair[1]["start"] >= pair[0]["start"]),
            key=lambda pair: pair[0]["start"],
            reverse=True,
        )
        earlier = sorted(
            (pair for pair in keep if pair[1]["start"] < pair[0]["start"]),
            key=lambda pair: pair[0]["start"],
        )
        current = {p["id"]: p for p in old}
        error: Rejected | None = None
        try:
            for period in drop:
                self.sync.delete(ATTENDANCE, period["id"])
                current.pop(period["id"], None)
            for before, after in later + earlier:
                if before["start"] == after["start"] and before["end"] == after["end"]:
                    continue
                self.sync.update(
                    ATTENDANCE,
                    before["id"],
                    {"start": {"date_time": after["start"]}, "end": {"date_time": after["end"]}},
                    skip_approval=self.skip_approval,
                )
                current[before["id"]] = {"id": before["id"], **after}
            # A period whose create answer was lost (a broken connection) is in Personio
            # already: link it instead of creating it again (Personio would refuse the overlap).
            existing = self._recovered(person) if add else {}
            for slot in add:
                found = existing.get(mapping.attendance_key(person, slot))
                new_id = (
                    found.pop(0)
                    if found
                    else self.sync.create(
                        ATTENDANCE,
                        mapping.attendance_body(person, slot),
                        skip_approval=self.skip_approval,
                    )
                )
                current[new_id or f"planned-{len(current)}"] = {"id": new_id, **slot}
        except Rejected as exc:
            error = exc
        done = sorted(current.values(), key=lambda p: p["start"])
        self._finish(tid, person, slots, done, fp, starts_at, error, "update", 0)

    def _finish(
        self,
        tid: str,
        person: str,
        slots: list[dict[str, str]],
        done: list[dict[str, str]],
        fp: str,
        starts_at: datetime,
        error: Rejected | None,
        action: str,
        adopted: int,
    ) -> None:
        first = done[0]["id"] if done else None
        if done or action == "update":
            data = {"person": person, "starts_at": starts_at.isoformat(), "periods": done}
            self.sync.save_link(self.entity, tid, first or "", None if error else fp, data)
        if error is not None:
            self.sync.rejected(self.entity, tid, error)
            return
        reason = f"{len(slots)} period" + ("" if len(slots) == 1 else "s")
        if adopted:
            reason += f", {adopted} found in Personio and linked again"
        self.sync.record(self.entity, tid, action, reason, first)
        self.sync.succeeded(self.entity, tid, self._retries)

    def remove(self, tid: str, link: Link, reason: str) -> None:
        """Delete the periods the sync created for a timer, then forget the link."""
        periods = list(link.data.get("periods", []))
        left = list(periods)
        try:
            for period in periods:
                if period.get("id"):
                    self.sync.delete(ATTENDANCE, period["id"])
                left.remove(period)
        except Rejected as exc:
            data = dict(link.data, periods=left)
            self.sync.save_link(self.entity, tid, link.dest_id, None, data)
            self.sync.rejected(self.entity, tid, exc)
            return
        self.sync.drop_link(self.entity, tid)
        self.sync.record(self.entity, tid, "delete", reason, link.dest_id)
        self.sync.succeeded(self.entity, tid, self._retries)

    @override
    def remove_unseen(self) -> None:
        window = self.sync.window_start()
        for tid, link in list(self.links.items()):
            if tid in self._seen:
                continue
            started = mapping.parse_time(link.data.get("starts_at"))
            if started is None or started < window:
                continue
            self.remove(tid, link, "the timer no longer exists in Staffomatic")


class AbsencesSink(_WindowSink):
    """Staffomatic absences into Personio absence periods (only when absence_source=staffomatic)."""

    entity = ABSENCES
    checked_text = ("absence_type_name",)

    @property
    def active(self) -> bool:
        return self.sync.absence_source == "staffomatic"

    @override
    def process_record(self, record: dict, context: dict) -> None:
        if self.active:
            super().process_record(record, context)

    @override
    def activate_version(self, new_version: int) -> None:
        if self.active:
            super().activate_version(new_version)

    def wanted(self, state: str) -> tuple[bool, bool, str]:
        """(send it, approved, why not) for a Staffomatic absence state."""
        only_approved = bool(self.config.get("only_approved_absences", True))
        if state == "approved":
            return True, True, ""
        if state == "new" and not only_approved:
            return True, False, ""
        if state == "declined":
            return False, False, "the absence was declined"
        return False, False, f"the absence is {state or 'without state'}, not approved"

    def in_window(self, starts: str, ends: str) -> bool:
        """Inside the window tap-staffomatic reads, and not before ``start_date``."""
        today = mapping.utcnow().astimezone(self.sync.zone).date()
        past = today - timedelta(days=int(self.config.get("absence_window_past_days", 60)))
        future = today + timedelta(days=int(self.config.get("absence_window_future_days", 365)))
        if self.sync.start_date is not None:
            past = max(past, self.sync.start_date)
        return ends[:10] >= past.isoformat() and starts[:10] <= future.isoformat()

    @override
    def handle(self, record: dict[str, Any]) -> None:
        aid = str(record["id"])
        link = self.links.get(aid)
        zone = self.sync.zone
        start = mapping.parse_time(record.get("starts_at"))
        end = mapping.parse_time(record.get("ends_at"))
        if start is None or end is None:
            self.sync.record(self.entity, aid, "skip", "the absence has no start or no end")
            return
        if not self.in_window(mapping.local_time(start, zone), mapping.local_time(end, zone)):
            return
        send, approved, why = self.wanted(str(record.get("state") or ""))
        if not send:
            if link is not None:
                self.remove(aid, link, why)
            else:
                self.sync.record(self.entity, aid, "skip", why)
            return
        person, why = self.sync.person_for(record.get("user_id"))
        if person is None:
            self.sync.record(self.entity, aid, "skip", why)
            return
        type_id, type_name = self.sync.personio_type_for(record)
        if type_id is None:
            self.sync.held_back[type_name] += 1
            self.sync.record(
                self.entity, aid, "skip", f"absence type {type_name!r} not in Personio"
            )
            return
        try:
            body = mapping.absence_body(record, zone, person, type_id)
        except mapping.Unmappable as exc:
            self.sync.rejected(self.entity, aid, f"not sent: {exc}")
            return
        fp = fingerprint({"body": body, "approved": approved})
        if link is not None and link.fingerprint == fp:
            self.sync.unchanged[self.entity] += 1
            self.sync.succeeded(self.entity, aid, self._retries)
            return
        skip_approval = approved and bool(self.config.get("skip_approval", True))
        data = {
            "person": person,
            "approved": approved,
            "starts": body["starts_from"]["date_time"],
            "ends": body["ends_at"]["date_time"],
        }
        newly_approved = link is not None and approved and not link.data.get("approved")
        try:
            if link is None:
                dest_id, action = self._create(body, skip_approval), "create"
            elif link.data.get("person") != person:
                self.sync.delete(ABSENCE, link.dest_id)
                dest_id = self.sync.create(ABSENCE, body, skip_approval=skip_approval)
                action = "update"
            else:
                # PATCH with skip_approval approves a period that was sent pending.
                changes = {k: v for k, v in body.items() if k != "person"}
                self.sync.update(ABSENCE, link.dest_id, changes, skip_approval=skip_approval)
                dest_id, action = link.dest_id, "approve" if newly_approved else "update"
        except Rejected as exc:
            self.sync.rejected(self.entity, aid, exc)
            return
        self.sync.save_link(self.entity, aid, dest_id, fp, data)
        self.sync.record(self.entity, aid, action, "", dest_id)
        self.sync.succeeded(self.entity, aid, self._retries)

    def _create(self, body: dict[str, Any], skip_approval: bool) -> str:
        linked = [link.dest_id for link in self.links.values()]
        past = mapping.utcnow().date() - timedelta(
            days=int(self.config.get("absence_window_past_days", 60)) + 1
        )
        params = {"starts_from.date_time.gte": f"{past.isoformat()}T00:00:00"}
        existing = self.sync.existing(ABSENCE, params, linked)
        ids = existing.get(mapping.absence_key(body))
        if ids:
            return ids.pop(0)
        return self.sync.create(ABSENCE, body, skip_approval=skip_approval)

    def remove(self, aid: str, link: Link, reason: str) -> None:
        try:
            self.sync.delete(ABSENCE, link.dest_id)
        except Rejected as exc:
            self.sync.rejected(self.entity, aid, exc)
            return
        self.sync.drop_link(self.entity, aid)
        self.sync.record(self.entity, aid, "delete", reason, link.dest_id)
        self.sync.succeeded(self.entity, aid, self._retries)

    @override
    def remove_unseen(self) -> None:
        for aid, link in list(self.links.items()):
            if aid in self._seen:
                continue
            if not self.in_window(str(link.data.get("starts", "")), str(link.data.get("ends", ""))):
                continue
            self.remove(aid, link, "the absence no longer exists in Staffomatic")
