"""One run of the target: look-ups, ledger, applying planned writes, and the run summary.

The sinks hand records here; :mod:`target_staffomatic.planning` decides what to write; this
module sends it (or, in a dry run, only pretends to), keeps the look-ups and the ledger in step,
and counts everything for the summary table printed at the end.
"""

from __future__ import annotations

import logging
import sys
from collections import Counter
from collections.abc import Iterable, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from functools import partial
from typing import Any, TextIO
from zoneinfo import ZoneInfo

from sync_ledger import Ledger, Link
from sync_ledger.targets import text_problem

from target_staffomatic.client import (
    AuthError,
    RejectedError,
    StaffomaticClient,
    UnreachableError,
)
from target_staffomatic.planning import (
    ABSENCE,
    ABSENCE_TYPE,
    EMPLOYEE,
    EMPLOYEE_TEXT,
    ID,
    SYSTEM,
    AbsenceIn,
    Lookups,
    Op,
    Planned,
    Rules,
    norm,
    plan_absence,
    plan_employee,
    read_absence,
    resolve_absence_type,
    vanished,
)

logger = logging.getLogger("target_staffomatic")
TARGET = "target-staffomatic"
MAX_PROBLEMS = 30


class StopRun(Exception):
    """A problem a person must fix (settings, credentials, Staffomatic unreachable)."""


@dataclass
class Summary:
    counts: Counter[tuple[str, str]] = field(default_factory=Counter)
    missing_types: Counter[str] = field(default_factory=Counter)
    notes: list[str] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)
    """One line per failed or skipped record (ids and reasons only)."""

    def table(self, run_id: int | None, dry_run: bool) -> str:
        title = f"{TARGET} run {run_id if run_id is not None else '-'}"
        title += " (dry run: nothing was written)" if dry_run else ""
        lines = [title, f"{'entity':<14}{'action':<11}{'count':>7}"]
        for (entity, action), count in sorted(self.counts.items()):
            lines.append(f"{entity:<14}{action:<11}{count:>7}")
        if not self.counts:
            lines.append("(no records)")
        for name, count in sorted(self.missing_types.items()):
            lines.append(
                f"absence type '{name}' has no Staffomatic counterpart: "
                f"{count} absence(s) held back"
            )
        lines.extend(self.notes)
        lines.extend(self.problems[:MAX_PROBLEMS])
        if len(self.problems) > MAX_PROBLEMS:
            more = len(self.problems) - MAX_PROBLEMS
            lines.append(f"... and {more} more: see `sync-ledger report`")
        return "\n".join(lines)


class Session:
    """Everything one run shares. Created lazily by the target on the first record."""

    def __init__(
        self,
        config: Mapping[str, Any],
        client: StaffomaticClient,
        ledger: Ledger,
        *,
        now: datetime | None = None,
        out: TextIO | None = None,
    ) -> None:
        self.config = config
        self.client = client
        self.ledger = ledger
        self.dry_run = bool(config.get("dry_run", False))
        self.out = out or sys.stderr
        self.summary = Summary()
        self.workers = max(1, int(config.get("max_parallel_writes", 4)))
        self.pool = ThreadPoolExecutor(self.workers, thread_name_prefix="staffomatic-write")
        self._links: dict[str, dict[str, Link]] = {}
        self._retries: dict[str, set[str]] = {}
        self._fake_ids = 0
        self.personio_types: dict[str, dict[str, Any]] = {}
        self.seen_absences: set[str] | None = None
        self.deferred: list[AbsenceIn] = []
        self.users_claimed: dict[int, str] = {}
        self.absences_ignored_logged = False

        account = self._read(self._account) or {}
        zone_name = config.get("time_zone") or account.get("time_zone") or "UTC"
        try:
            self.zone = ZoneInfo(str(zone_name))
        except (ValueError, KeyError):
            raise StopRun(
                f"time_zone '{zone_name}' is not a known IANA time zone: use e.g. Europe/Berlin."
            ) from None
        moment = now or datetime.now(self.zone)
        self.today = moment.astimezone(self.zone).date()
        past = int(config.get("absence_window_past_days", 60))
        future = int(config.get("absence_window_future_days", 365))
        self.window = (self.today - timedelta(days=past), self.today + timedelta(days=future))
        self.rules = _rules(config, self.zone, self.today)
        self.lookups = self._load_lookups()
        self.run = ledger.start_run(TARGET, dry_run=self.dry_run)
        for retry in ledger.give_up_expired(int(config.get("retry_days", 7)), system=SYSTEM):
            self.summary.notes.append(
                f"gave up retrying {retry.entity} {retry.source_id} after "
                f"{retry.attempts} attempt(s): {retry.reason}"
            )

    # ---- reading ----------------------------------------------------------------------------

    def _read(self, call: Any) -> Any:
        try:
            return call()
        except AuthError as exc:
            raise StopRun(str(exc)) from None
        except (UnreachableError, RejectedError) as exc:
            raise StopRun(f"Reading from Staffomatic failed: {exc}") from None

    def _account(self) -> Any:
        """The account record; an unknown account (404) is named with the setting to fix."""
        try:
            return self.client.get("/account.json")
        except RejectedError as exc:
            if exc.status != 404:
                raise
            raise AuthError(
                f"Staffomatic has no account '{self.client.account}' (HTTP 404): set the account "
                "setting to your Staffomatic subdomain, e.g. acme for acme.staffomaticapp.com."
            ) from None

    def _load_lookups(self) -> Lookups:
        client = self.client
        locations = self._read(lambda: client.get_all("/locations.json"))
        departments: list[dict[str, Any]] = []
        types: list[dict[str, Any]] = []
        for loc in locations:
            prefix = f"/locations/{loc['id']}"
            departments += self._read(partial(client.get_all, f"{prefix}/departments.json"))
            types += self._read(partial(client.get_all, f"{prefix}/absence_types.json"))
        users = self._read(lambda: client.get_all("/users.json", {"state": "all"}))
        return Lookups(users, locations, departments, types)

    def ensure_absences_loaded(self) -> None:
        """Read the existing absences of the window once (for recovery when the ledger is lost)."""
        if self.lookups.absences is not None:
            return
        start = datetime.combine(self.window[0], datetime.min.time(), self.zone)
        until = datetime.combine(self.window[1] + timedelta(days=1), datetime.min.time(), self.zone)
        params = {"from": start.isoformat(), "until": until.isoformat()}
        found = self._read(lambda: self.client.get_all("/absences.json", params))
        self.lookups.set_absences(found)
        self.lookups.absence_window = self.window

    def links(self, entity: str) -> dict[str, Link]:
        if entity not in self._links:
            self._links[entity] = self.ledger.links(SYSTEM, entity)
        return self._links[entity]

    def retries(self, entity: str) -> set[str]:
        if entity not in self._retries:
            self._retries[entity] = set(self.ledger.retries(SYSTEM, entity))
        return self._retries[entity]

    # ---- employees --------------------------------------------------------------------------

    def sync_employees(self, records: Iterable[Mapping[str, Any]]) -> None:
        links = self.links(EMPLOYEE)
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
                plans.append(Planned(EMPLOYEE, sid, outcome="skip", reason=problem))
                continue
            plan = plan_employee(record, self.rules, self.lookups, links.get(sid), vacation_ids)
            owner = self.users_claimed.get(plan.dest_id) if plan.dest_id is not None else None
            if owner is not None and owner != sid:
                plan = Planned(
                    EMPLOYEE,
                    sid,
                    outcome="skip",
                    reason=f"conflict: user {plan.dest_id} was linked to employee {owner} "
                    "in this run",
                )
            elif plan.dest_id is not None:
                self.users_claimed[plan.dest_id] = sid
            plans.append(plan)
        self.apply(plans)

    # ---- absences ---------------------------------------------------------------------------

    @property
    def absences_enabled(self) -> bool:
        if self.config.get("absence_source", "personio") == "personio":
            return True
        if not self.absences_ignored_logged:
            self.absences_ignored_logged = True
            logger.info(
                "absence_source is '%s': absences from Personio are ignored in this run.",
                self.config.get("absence_source"),
            )
        return False

    def note_absence_type(self, record: Mapping[str, Any]) -> None:
        self.personio_types[str(record["id"])] = dict(record)

    def sync_absences(self, records: Iterable[Mapping[str, Any]], *, final: bool = False) -> None:
        """Plan and apply absences; ones whose employee is not linked yet wait for the end."""
        if not self.absences_enabled:
            return
        self.ensure_absences_loaded()
        names = {tid: str(t.get("name") or "") for tid, t in self.personio_types.items()}
        ready: list[tuple[AbsenceIn, int | None, int | None]] = []
        for record in records:
            sid = str(record.get("id"))
            if self.seen_absences is not None:
                self.seen_absences.add(sid)
            try:
                problem = text_problem(record, source="Personio")
                if problem:
                    raise ValueError(problem)
                absence = read_absence(record, names, self.window[1])
            except ValueError as exc:
                self._record(Planned(ABSENCE, sid, outcome="skip", reason=str(exc)))
                continue
            user, location = self.user_of(absence.person_id)
            if user is None and not final:
                self.deferred.append(absence)
                continue
            ready.append((absence, user, location))
        self._plan_absences(ready)

    def skip_unreadable(self, entity: str, record: Mapping[str, Any], reason: str) -> None:
        """A record the SDK could not read (no key, not matching its schema): logged and
        skipped; an absence that keeps its id still counts as seen in a full window."""
        sid = str(record["id"]) if record.get("id") is not None else "(no id)"
        if entity == ABSENCE and self.seen_absences is not None and sid != "(no id)":
            self.seen_absences.add(sid)
        logger.warning("%s %s skipped: %s", entity, sid, reason)
        self._record(Planned(entity, sid, outcome="skip", reason=reason))

    def finish_absences(self) -> None:
        """At the end of input: the absences that waited for their employee."""
        waiting, self.deferred = self.deferred, []
        if waiting and self.absences_enabled:
            self._plan_absences([(a, *self.user_of(a.person_id)) for a in waiting])

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

    def _plan_absences(self, items: list[tuple[AbsenceIn, int | None, int | None]]) -> None:
        if not items:
            return
        links = self.links(ABSENCE)
        self._fetch_outside_window([links.get(a.id) for a, _, _ in items])
        if self.rules.create_missing_absence_types:
            self._create_missing_types(items)
        claimed = {_int(link.dest_id) for link in links.values()} - {None}
        plans = []
        for absence, user, location in items:
            link = links.get(absence.id)
            plan = plan_absence(
                absence,
                self.rules,
                self.lookups,
                link,
                user,
                location,
                claimed,  # type: ignore[arg-type]
            )
            if plan.dest_id is not None:
                claimed.add(plan.dest_id)
            if plan.missing_type:
                self.summary.missing_types[plan.missing_type] += 1
            plans.append(plan)
        self.apply(plans)

    def _fetch_outside_window(self, links: list[Link | None]) -> None:
        """Linked absences whose period lies outside the loaded window are read one by one."""
        known = self.lookups.absences or {}
        for link in links:
            if link is None or _int(link.dest_id) in known or link.dest_id.startswith("-"):
                continue
            start, end = link.data.get("start"), link.data.get("end")
            if (
                start
                and end
                and self.window[0] <= date.fromisoformat(start)
                and (date.fromisoformat(end) <= self.window[1])
            ):
                continue
            try:
                found = self.client.get(f"/absences/{link.dest_id}.json")
            except RejectedError:
                continue
            except AuthError as exc:
                raise StopRun(str(exc)) from None
            except UnreachableError as exc:
                raise StopRun(f"Reading from Staffomatic failed: {exc}") from None
            if isinstance(found, dict):
                self.lookups.put_absence(found)

    def _create_missing_types(self, items: list[tuple[AbsenceIn, int | None, int | None]]) -> None:
        wanted: dict[tuple[int, str], str] = {}
        for absence, _, location in items:
            if location is None or not absence.type_name:
                continue
            type_id, looked_up = resolve_absence_type(
                absence.type_name, location, self.rules, self.lookups
            )
            if type_id is None and looked_up and not looked_up.isdigit():
                wanted.setdefault((location, norm(looked_up)), looked_up)
        plans = []
        for (location, _), name in sorted(wanted.items()):
            plan = Planned(ABSENCE_TYPE, f"{location}:{norm(name)}", reason="missing type created")
            body = {"name": name, "user_selectable": True, "visibility": "staff"}
            plan.ops.append(Op("create", "POST", f"/locations/{location}/absence_types.json", body))
            plan.link = ("", {"location_id": location})
            plans.append(plan)
        self.apply(plans)

    def activate_version_complete(self) -> None:
        """The window was read completely: delete linked absences whose source vanished."""
        if self.seen_absences is None or not self.absences_enabled:
            return
        seen, self.seen_absences = self.seen_absences, None
        self.ensure_absences_loaded()
        plans = []
        for sid, link in vanished(self.links(ABSENCE), seen, self.window):
            dest = _int(link.dest_id)
            current = (self.lookups.absences or {}).get(dest) if dest is not None else None
            plan = Planned(ABSENCE, sid, dest_id=dest, drop_link=True)
            if current is None:
                plan.outcome, plan.reason = "unchanged", "vanished and already gone"
            else:
                loc = current.get("location_id") or link.data.get("location_id")
                path = f"/locations/{loc}/absences/{ID}.json" if loc else f"/absences/{ID}.json"
                plan.ops.append(Op("delete", "DELETE", path))
                plan.reason = "vanished from Personio in a full sync of the window"
            plans.append(plan)
        self.apply(plans)

    # ---- applying -----------------------------------------------------------------------------

    def apply(self, plans: list[Planned]) -> None:
        """Send the planned writes (a few at once), then record every outcome in order."""
        writing = [p for p in plans if p.ops]
        if self.dry_run:
            results = [self._pretend(p) for p in writing]
        else:
            results = list(self.pool.map(self._execute, writing))
        by_plan = {id(p): r for p, r in zip(writing, results, strict=True)}
        stop: StopRun | None = None
        for plan in plans:
            result = by_plan.get(id(plan))
            if result is None:
                self._record(plan)
                continue
            done, error = result
            self._record(plan, done, error)
            if isinstance(error, AuthError | UnreachableError) and stop is None:
                stop = StopRun(str(error))
        if stop is not None:
            raise stop

    def _execute(self, plan: Planned) -> tuple[list[tuple[Op, Any]], Exception | None]:
        done: list[tuple[Op, Any]] = []
        dest = plan.dest_id
        for op in plan.ops:
            path = op.path.replace(ID, str(dest))
            try:
                response = self.client.request(op.method, path, json=op.body)
            except RejectedError as exc:
                if op.method == "DELETE" and exc.status == 404:
                    done.append((op, None))
                    continue
                return done, exc
            except (AuthError, UnreachableError) as exc:
                return done, exc
            if op.action == "create" and isinstance(response, dict) and "id" in response:
                dest = int(response["id"])
                plan.dest_id = dest
            done.append((op, response))
        return done, None

    def _pretend(self, plan: Planned) -> tuple[list[tuple[Op, Any]], Exception | None]:
        done: list[tuple[Op, Any]] = []
        for op in plan.ops:
            response: dict[str, Any] | None = None
            if op.action == "create":
                self._fake_ids += 1
                plan.dest_id = -self._fake_ids
                response = {**(op.body or {}), "id": plan.dest_id}
                response.pop("do", None)
            elif op.method == "PUT" and plan.entity == EMPLOYEE and plan.dest_id is not None:
                current = self.lookups.users.get(plan.dest_id, {"id": plan.dest_id})
                response = {**current, **(op.body or {})}
                if (op.body or {}).get("do") in ("lock", "unlock"):
                    response.pop("do", None)
                    response["locked_at"] = "dry-run" if op.body == {"do": "lock"} else None
            done.append((op, response))
        return done, None

    def _record(
        self,
        plan: Planned,
        done: list[tuple[Op, Any]] | None = None,
        error: Exception | None = None,
    ) -> None:
        """Ledger, look-ups and summary after one plan ran (or was only decided)."""
        done = done or []
        dest = None if plan.dest_id is None else str(plan.dest_id)
        for op, response in done:
            reason = op.reason or plan.reason
            self.run.record(plan.entity, plan.source_id, op.action, reason, dest)
            self.summary.counts[(plan.entity, op.action)] += 1
            self._update_lookups(plan, op, response)
        if error is not None:
            reason = f"{plan.ops[len(done)].action} failed: {error}"
            self.run.record(plan.entity, plan.source_id, "fail", reason, dest)
            self.summary.counts[(plan.entity, "fail")] += 1
            if not self.dry_run:
                self.ledger.queue_failure(SYSTEM, plan.entity, plan.source_id, reason)
            logger.warning("%s %s: %s", plan.entity, plan.source_id, reason)
            self.summary.problems.append(f"fail: {plan.entity} {plan.source_id}: {reason}")
        elif not done:
            if plan.outcome in ("skip", "fail"):
                self.run.record(plan.entity, plan.source_id, plan.outcome, plan.reason, dest)
                if not plan.missing_type:
                    line = f"{plan.outcome}: {plan.entity} {plan.source_id}: {plan.reason}"
                    self.summary.problems.append(line)
            self.summary.counts[(plan.entity, plan.outcome or "unchanged")] += 1
        if self.dry_run:
            return
        links = self.links(plan.entity)
        if error is None and plan.drop_link:
            if plan.source_id in links:
                self.ledger.drop_link(SYSTEM, plan.entity, plan.source_id)
                del links[plan.source_id]
        elif plan.link is not None and plan.dest_id is not None and (error is None or done):
            fp, data = plan.link
            fp_saved = fp if error is None else None
            old = links.get(plan.source_id)
            if old is None or (old.dest_id, old.fingerprint, old.data) != (dest, fp_saved, data):
                self.ledger.save_link(
                    SYSTEM, plan.entity, plan.source_id, dest or "", fp_saved, data
                )
                links[plan.source_id] = Link(dest or "", fp_saved, datetime.now(self.zone), data)
        retried = self.retries(plan.entity)
        if error is None and plan.outcome not in ("skip", "fail") and plan.source_id in retried:
            self.ledger.clear_retry(SYSTEM, plan.entity, plan.source_id)
            retried.discard(plan.source_id)

    def _update_lookups(self, plan: Planned, op: Op, response: Any) -> None:
        lk = self.lookups
        if plan.entity == EMPLOYEE and isinstance(response, dict) and "id" in response:
            location = plan.link[1].get("location_id") if plan.link else None
            lk.put_user(response, location_id=_int(location))
        elif plan.entity == ABSENCE:
            if op.action == "delete" and plan.dest_id is not None:
                lk.drop_absence(plan.dest_id)
            elif isinstance(response, dict) and "id" in response:
                lk.put_absence(response)
        elif plan.entity == ABSENCE_TYPE and isinstance(response, dict) and "id" in response:
            lk.put_absence_type(response)

    # ---- the end --------------------------------------------------------------------------------

    def finish(self, status: str = "success") -> None:
        self.pool.shutdown(wait=True)
        try:
            self.run.finish(status)
        finally:
            self.client.close()
            self.ledger.close()
        self.out.write(self.summary.table(self.run.id, self.dry_run) + "\n")
        self.out.flush()


def _int(value: Any) -> int | None:
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


def _rules(config: Mapping[str, Any], zone: ZoneInfo, today: date) -> Rules:
    return Rules(
        time_zone=zone,
        today=today,
        invite_users=bool(config.get("invite_users", False)),
        lock_before_hire_date=bool(config.get("lock_before_hire_date", True)),
        lock_after_last_day=bool(config.get("lock_after_last_day", True)),
        mirror_absence_approval=bool(config.get("mirror_absence_approval", True)),
        location_map=dict(config.get("location_map") or {}),
        default_location_id=_int(config.get("default_location_id")),
        department_map=dict(config.get("department_map") or {}),
        department_source=str(config.get("department_source") or "department"),
        sync_fields=frozenset(
            config["sync_fields"]
            if config.get("sync_fields") is not None
            else ("max_vacation_days", "max_hours_per_month", "departments")
        ),
        absence_type_map=dict(config.get("absence_type_map") or {}),
        create_missing_absence_types=bool(config.get("create_missing_absence_types", False)),
    )
