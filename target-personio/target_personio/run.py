"""One run of the target: settings, look-ups loaded once, the ledger, the writes, the summary.

The sinks decide what to do with each record (the plan); this object does it (apply), or in a
dry run only records it. Look-ups (Personio employees, Personio absence types, the Personio
periods needed to rebuild lost links) are read at most once per run, on first need.
"""

from __future__ import annotations

import logging
import sys
from collections import Counter
from collections.abc import Callable, Iterable
from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from sync_ledger import Ledger, LedgerError, Link, Run

from target_personio import mapping
from target_personio.client import ABSENCE, ATTENDANCE, PersonioClient, Rejected, RunStopped

SYSTEM = "staffomatic"
TARGET = "target-personio"
TIMERS = "work_timers"
ABSENCES = "absences"


class SyncRun:
    """State shared by the sinks for the length of one run."""

    def __init__(self, config: dict[str, Any], logger: logging.Logger) -> None:
        self.config = config
        self.logger = logger
        self.dry_run = bool(config.get("dry_run", False))
        self.absence_source = str(config.get("absence_source") or "personio")
        self.users: dict[str, tuple[str, str]] = {}
        """Staffomatic user id -> (custom_id, e-mail), from the ``users`` stream."""
        self.staffomatic_types: dict[str, str] = {}
        """Staffomatic absence type id -> name, from the ``absence_types`` stream."""
        self.account_time_zone: str | None = None
        self.held_back: Counter[str] = Counter()
        self.unchanged: Counter[str] = Counter()
        self.failed = False
        self.lookups_ready = False
        """True once the users stream has been read (window records wait until then)."""
        self.at_end: list[Callable[[], None]] = []
        """Called after the last drain, before the run is closed."""
        self._client: PersonioClient | None = None
        self._ledger: Ledger | None = None
        self._run: Run | None = None
        self._by_id: dict[str, str] | None = None
        self._by_email: dict[str, list[str]] = {}
        self._personio_types: dict[str, str] | None = None
        self._existing: dict[str, dict[tuple[str, ...], list[str]]] = {}
        self._zone: ZoneInfo | None = None
        self._finished = False
        self.start_date = _date(config.get("start_date"))

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
            from sync_ledger import default_url

            url = str(self.config.get("ledger_url") or default_url())
            self._ledger = Ledger(url, clock=lambda: mapping.utcnow())
        return self._ledger

    @property
    def run(self) -> Run:
        if self._run is None:
            self._run = self.ledger.start_run(TARGET, dry_run=self.dry_run)
        return self._run

    @property
    def zone(self) -> ZoneInfo:
        if self._zone is None:
            name = self.config.get("time_zone") or self.account_time_zone
            if not name:
                raise RunStopped(
                    "The company time zone is unknown: set the time_zone setting (for example "
                    "Europe/Berlin) or let tap-staffomatic send its account stream first."
                )
            try:
                self._zone = ZoneInfo(str(name))
            except (ZoneInfoNotFoundError, ValueError):
                raise RunStopped(
                    f"The time zone {name!r} is unknown; set time_zone to an IANA name such as "
                    "Europe/Berlin."
                ) from None
        return self._zone

    @property
    def retry_days(self) -> int:
        return int(self.config.get("retry_days", 7))

    def window_start(self) -> datetime:
        """Nothing that starts before this is written: ``retry_days`` ago, or ``start_date``."""
        start = mapping.utcnow() - timedelta(days=self.retry_days)
        if self.start_date is not None:
            floor = datetime.combine(self.start_date, datetime.min.time(), self.zone)
            start = max(start, floor)
        return start

    # ---- look-ups ------------------------------------------------------------------------------

    def _load_employees(self) -> None:
        self._by_id = {}
        for employee in self.client.employees():
            pid = str(employee.get("id") or "").strip()
            if not pid:
                continue
            self._by_id[pid] = pid
            email = str(employee.get("email") or "").strip().lower()
            if email:
                self._by_email.setdefault(email, []).append(pid)
        self.logger.info("Loaded %d Personio employees.", len(self._by_id))

    def person_for(self, user_id: Any) -> tuple[str | None, str]:
        """The Personio person id of a Staffomatic user, or None and why not (ids only)."""
        if self._by_id is None:
            self._load_employees()
        assert self._by_id is not None
        user = self.users.get(str(user_id))
        if user is None:
            return None, f"user {user_id} is not in the users stream"
        custom_id, email = user
        if custom_id and custom_id in self._by_id:
            return custom_id, ""
        matches = self._by_email.get(email, []) if email else []
        if len(matches) == 1:
            return matches[0], ""
        if len(matches) > 1:
            return None, f"user {user_id} matches {len(matches)} Personio employees by e-mail"
        return None, f"user {user_id} has no Personio employee (custom_id or e-mail)"

    def personio_type_for(self, absence: dict[str, Any]) -> tuple[str | None, str]:
        """The Personio absence type id for a Staffomatic absence, and the Staffomatic name."""
        if self._personio_types is None:
            self._personio_types = {}
            for item in self.client.absence_types():
                type_id = str(item.get("id"))
                self._personio_types[type_id] = type_id
                name = str(item.get("name") or "").strip().lower()
                if name:
                    self._personio_types.setdefault(name, type_id)
        type_id = str(absence.get("absence_type_id") or "")
        name = str(absence.get("absence_type_name") or self.staffomatic_types.get(type_id) or "")
        table = {
            str(k).strip().lower(): str(v).strip()
            for k, v in (self.config.get("absence_type_map") or {}).items()
        }
        wanted = table.get(name.strip().lower()) or table.get(type_id) or name
        found = self._personio_types.get(wanted) or self._personio_types.get(wanted.lower())
        return found, name.strip() or f"#{type_id}"

    def existing(
        self, kind: str, params: dict[str, Any], linked: Iterable[str]
    ) -> dict[tuple[str, ...], list[str]]:
        """Personio periods by match key (read once per run), without those already linked."""
        if kind not in self._existing:
            taken = set(linked)
            index: dict[tuple[str, ...], list[str]] = {}
            for item in self.client.periods(kind, params):
                if str(item.get("id")) in taken:
                    continue
                key = (
                    mapping.personio_attendance_key(item)
                    if kind == ATTENDANCE
                    else mapping.absence_key(item)
                )
                index.setdefault(key, []).append(str(item.get("id")))
            self._existing[kind] = index
        return self._existing[kind]

    # ---- writes (none in a dry run) ------------------------------------------------------------

    def create(self, kind: str, body: dict[str, Any], *, skip_approval: bool) -> str:
        if self.dry_run:
            return ""
        return self.client.create(kind, body, skip_approval=skip_approval)

    def update(self, kind: str, dest_id: str, body: dict[str, Any], *, skip_approval: bool) -> None:
        if not self.dry_run:
            self.client.update(kind, dest_id, body, skip_approval=skip_approval)

    def delete(self, kind: str, dest_id: str) -> None:
        if not self.dry_run:
            self.client.delete(kind, dest_id)

    # ---- ledger --------------------------------------------------------------------------------

    def links(self, entity: str) -> dict[str, Link]:
        return self.ledger.links(SYSTEM, entity)

    def save_link(
        self, entity: str, source_id: str, dest_id: str, fp: str | None, data: dict[str, Any]
    ) -> None:
        if not self.dry_run:
            self.ledger.save_link(SYSTEM, entity, source_id, dest_id, fp, data)

    def drop_link(self, entity: str, source_id: str) -> None:
        if not self.dry_run:
            self.ledger.drop_link(SYSTEM, entity, source_id)

    def record(
        self, entity: str, source_id: str, action: str, reason: str = "", dest_id: str | None = None
    ) -> None:
        self.run.record(entity, source_id, action, reason, dest_id or None)

    def succeeded(self, entity: str, source_id: str, retries: dict[str, Any]) -> None:
        if source_id in retries and not self.dry_run:
            self.ledger.clear_retry(SYSTEM, entity, source_id)
            retries.pop(source_id, None)

    def rejected(self, entity: str, source_id: str, error: Rejected | str) -> None:
        """Log a refused write with Personio's reason and queue the record for retry."""
        reason = error if isinstance(error, str) else f"Personio refused it: {error}"
        self.logger.warning("%s %s not written: %s", entity, source_id, reason)
        self.record(entity, source_id, "fail", reason)
        if not self.dry_run:
            self.ledger.queue_failure(SYSTEM, entity, source_id, reason)

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
            if self.absence_source != "staffomatic":
                self.logger.info(
                    "Absences are not synced to Personio because absence_source is %r.",
                    self.absence_source,
                )
            for name, count in sorted(self.held_back.items()):
                self.logger.warning(
                    "Absence type %r has no Personio counterpart: %d absences held back; add it "
                    "to absence_type_map or create the type in Personio.",
                    name,
                    count,
                )
            if not self.dry_run:
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
            counts = self.run.finish("failed" if self.failed else "success")
            self._print_summary(counts)
        finally:
            self.close()

    def fail(self) -> None:
        """Close the run as failed after an error that stops it."""
        if self._finished:
            return
        self._finished = True
        try:
            self.run.finish("failed")
        except LedgerError:
            pass  # the ledger itself is what failed; its error is the one reported
        finally:
            self.close()

    def close(self) -> None:
        if self._client is not None:
            self._client.close()
        if self._ledger is not None:
            self._ledger.close()

    def _print_summary(self, counts: dict[str, dict[str, int]]) -> None:
        columns = ("create", "update", "approve", "delete", "skip", "fail", "unchanged")
        entities = sorted(set(counts) | set(self.unchanged))
        title = (
            "Dry run of target-personio (nothing written)"
            if self.dry_run
            else ("target-personio run")
        )
        lines = [
            f"{title}, ledger run {self.run.id}:",
            f"{'':<12}" + "".join(f"{c:>10}" for c in columns),
        ]
        for entity in entities:
            row = dict(counts.get(entity, {}), unchanged=self.unchanged.get(entity, 0))
            lines.append(f"{entity:<12}" + "".join(f"{row.get(c, 0):>10}" for c in columns))
        if not entities:
            lines.append("(no timers or absences in the input)")
        print("\n".join(lines), file=sys.stderr)


def credentials(config: dict[str, Any]) -> tuple[str, str]:
    """client_id and client_secret from the settings or from ``credentials_file``."""
    client_id = config.get("client_id")
    client_secret = config.get("client_secret")
    path = config.get("credentials_file")
    if path and not (client_id and client_secret):
        import json
        from pathlib import Path

        try:
            data = json.loads(Path(str(path)).read_text())
        except (OSError, ValueError) as exc:
            raise RunStopped(
                f"The credentials_file {path} cannot be read ({type(exc).__name__}); point it at "
                'a JSON file with "client_id" and "client_secret".'
            ) from None
        client_id = client_id or data.get("client_id")
        client_secret = client_secret or data.get("client_secret")
    if not client_id or not client_secret:
        raise RunStopped(
            "Personio credentials are missing: set client_id and client_secret, or "
            "credentials_file pointing at a JSON file holding both."
        )
    return str(client_id), str(client_secret)


def _date(value: Any) -> date | None:
    if not value:
        return None
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    return date.fromisoformat(str(value)[:10])


__all__ = ["ABSENCE", "ABSENCES", "ATTENDANCE", "SYSTEM", "TIMERS", "SyncRun", "credentials"]
