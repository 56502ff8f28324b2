"""Helpers for the target-personio tests: Singer input as tap-staffomatic sends it, running the
target in-process against the sandbox with a fixed clock, reading the sandbox back."""

from __future__ import annotations

import copy
import io
import json
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from sandbox.admin import Admin
from sandbox.server import Sandbox
from sync_ledger import Ledger
from tap_staffomatic import schemas
from target_personio.target import TargetPersonio

from sandbox import roster

BERLIN = ZoneInfo("Europe/Berlin")
NOW = datetime(2024, 10, 30, 12, 0, tzinfo=UTC)
"""The fixed "now" of the sandbox tests (three days after the October 2024 DST change)."""

USERS: list[dict[str, Any]] = [
    # Staffomatic user id, Personio id (custom_id), e-mail
    {"id": 501, "custom_id": "1001", "email": "anna.schmidt@demo-gastro.example"},
    {"id": 502, "custom_id": None, "email": "Ben.Mueller@demo-gastro.example "},
    {"id": 511, "custom_id": "1011", "email": "katharina.klein@demo-gastro.example"},
    {"id": 517, "custom_id": "1017", "email": "sebastian.hofmann@demo-gastro.example"},
    {"id": 590, "custom_id": None, "email": "xaver.unbekannt@demo-gastro.example"},
]
ANNA, BEN, KATHARINA, SEBASTIAN, XAVER = 501, 502, 511, 517, 590
PERSON = {ANNA: "1001", BEN: "1002", KATHARINA: "1011", SEBASTIAN: "1017"}
ABSENCE_TYPES = [
    {"id": 71, "name": "Vacation", "location_id": 1},
    {"id": 72, "name": "Sick leave", "location_id": 1},
    {"id": 73, "name": "training", "location_id": 1},
    {"id": 74, "name": "Sabbatical", "location_id": 1},
]


def at(text: str) -> str:
    """A Staffomatic timestamp (offset included) for a Berlin wall-clock ``YYYY-MM-DD HH:MM``."""
    moment = datetime.fromisoformat(text).replace(tzinfo=BERLIN)
    return moment.isoformat()


def _instant(text: str) -> datetime:
    return datetime.fromisoformat(at(text)).astimezone(UTC)


def timer(
    tid: int,
    user: int,
    starts: str,
    ends: str | None,
    *breaks: tuple[str, str],
    state: str = "verified",
) -> dict[str, Any]:
    start = _instant(starts)
    end = _instant(ends) if ends else None
    pause = sum((_instant(e) - _instant(s) for s, e in breaks), timedelta())
    gross = int((end - start).total_seconds()) if end else None
    return {
        "id": tid,
        "user_id": user,
        "state": state,
        "starts_at": at(starts),
        "ends_at": at(ends) if ends else None,
        "duration": gross,
        "break_duration": int(pause.total_seconds()),
        "net_duration": gross - int(pause.total_seconds()) if gross is not None else None,
        "breaks": [
            {"id": tid * 10 + n, "starts_at": at(s), "ends_at": at(e), "duration": None}
            for n, (s, e) in enumerate(breaks)
        ],
        "created_at": at(starts),
        "updated_at": at(ends or starts),
    }


def absence(
    aid: int, user: int, type_id: int, starts: str, ends: str, state: str, all_day: bool = True
) -> dict[str, Any]:
    name = next(t["name"] for t in ABSENCE_TYPES if t["id"] == type_id)
    return {
        "id": aid,
        "user_id": user,
        "absence_type_id": type_id,
        "absence_type_name": name,
        "starts_at": at(starts),
        "ends_at": at(ends),
        "all_day": all_day,
        "state": state,
        "created_at": at(starts),
        "updated_at": at(starts),
    }


def singer_input(
    timers: Iterable[dict[str, Any]] = (),
    absences: Iterable[dict[str, Any]] = (),
    *,
    full: bool = True,
    users: list[dict[str, Any]] | None = None,
) -> str:
    """Singer messages in tap-staffomatic's shapes (a full refresh: two ACTIVATE_VERSION)."""
    lines: list[dict[str, Any]] = []

    def stream(name: str, schema: Any, rows: Iterable[dict[str, Any]], window: bool) -> None:
        lines.append(
            {"type": "SCHEMA", "stream": name, "schema": schema.to_dict(), "key_properties": ["id"]}
        )
        if window and full:
            lines.append({"type": "ACTIVATE_VERSION", "stream": name, "version": 7})
        for row in rows:
            lines.append({"type": "RECORD", "stream": name, "record": row})
        if window and full:
            lines.append({"type": "ACTIVATE_VERSION", "stream": name, "version": 7})

    # tap-staffomatic's order: absences come before the users they need.
    stream("absences", schemas.ABSENCES, absences, True)
    stream(
        "account",
        schemas.ACCOUNT,
        [{"id": 1, "subdomain": "demo", "time_zone": "Europe/Berlin"}],
        False,
    )
    user_rows = [
        {"first_name": "F", "last_name": "L", "locked_at": None, **u}
        for u in (USERS if users is None else users)
    ]
    stream("users", schemas.USERS, user_rows, False)
    stream("absence_types", schemas.ABSENCE_TYPES, ABSENCE_TYPES, False)
    stream("work_timers", schemas.WORK_TIMERS, timers, True)
    lines.append({"type": "STATE", "value": {"bookmarks": {}}})
    return "\n".join(json.dumps(line) for line in lines) + "\n"


def more_people(state: dict[str, Any], extra: int) -> None:
    """``extra`` more employees in a Personio state, ids 100... (before the demo's, so the first
    page of the employee list holds none of the demo's); :func:`unrelated_users` are theirs."""
    template = state["employees"][0]
    for n in range(extra):
        employee = copy.deepcopy(template)
        employee["id"] = 100 + n
        employee["attributes"]["email"] = f"unrelated{n}@x.example"
        state["employees"].append(employee)


def unrelated_users(extra: int) -> list[dict[str, Any]]:
    """The Staffomatic users of :func:`more_people`."""
    return [
        {"id": 7000 + n, "custom_id": str(100 + n), "email": f"unrelated{n}@x.example"}
        for n in range(extra)
    ]


def hand_made_period(pid: str, person: str, day: str, start: str, end: str) -> dict[str, Any]:
    """A confirmed WORK period entered by hand in Personio on ``day`` (as the sandbox stores it)."""
    return {
        "id": pid,
        "type": "WORK",
        "person": {"id": person},
        "start": {"date_time": f"{day}T{start}:00"},
        "end": {"date_time": f"{day}T{end}:00"},
        "attribution_date": day,
        "approval": {"status": "CONFIRMED"},
        "comment": "",
        "project": None,
        "is_auto_generated": False,
        "created_at": f"{day}T{end}:00Z",
        "updated_at": f"{day}T{end}:00Z",
    }


@dataclass
class Harness:
    """One sandbox, one ledger file, a fixed clock; runs the target in-process."""

    sandbox: Sandbox
    admin: Admin  # of the Personio server
    ledger_url: str
    now: datetime = NOW
    settings: dict[str, Any] = field(default_factory=dict)
    opened: list[Ledger] = field(default_factory=list)

    def ledger(self) -> Ledger:
        """The ledger, to read what the target recorded (closed when the test ends)."""
        self.opened.append(Ledger(self.ledger_url))
        return self.opened[-1]

    def close(self) -> None:
        for ledger in self.opened:
            ledger.close()

    def config(self, **overrides: Any) -> dict[str, Any]:
        return {
            "client_id": "demo-client-id",
            "client_secret": "demo-client-secret",
            "base_url": self.sandbox.personio_url,
            "app_id": "TARGET_PERSONIO_TESTS",
            "ledger_url": self.ledger_url,
            **self.settings,
            **overrides,
        }

    def staffomatic_source(self) -> dict[str, Any]:
        """The ``source_*`` settings that let the target confirm a deletion by reading the
        Staffomatic emulator."""
        return {
            "source_account": roster.STAFFOMATIC_ACCOUNT,
            "source_api_token": roster.STAFFOMATIC_API_TOKEN,
            "source_base_url": self.sandbox.staffomatic_api,
        }

    def run(self, text: str, **overrides: Any) -> TargetPersonio:
        target = TargetPersonio(config=self.config(**overrides), clock=lambda: self.now)
        target.listen(io.StringIO(text))
        return target

    # ---- Personio side --------------------------------------------------------------------

    @property
    def personio(self) -> str:
        return self.sandbox.personio_url

    def state(self) -> dict[str, Any]:
        return self.admin.state()

    def load(self, state: dict[str, Any]) -> None:
        self.admin.load(state)

    def requests(self) -> dict[str, Any]:
        return self.admin.requests()

    def writes(self) -> int:
        """Write requests since the last load, auth calls not counted."""
        return sum(
            n
            for key, n in self.requests()["by_endpoint"].items()
            if key.split()[0] in ("POST", "PATCH", "DELETE") and "/auth" not in key
        )

    def reset_counts(self) -> None:
        self.admin.restart_counts()

    def attendances(self, person: str) -> list[tuple[str, str, str]]:
        """(type, start, end) of a person's attendance periods, by start."""
        rows = [
            (p["type"], p["start"]["date_time"], p["end"]["date_time"])
            for p in self.state()["attendance_periods"]
            if p["person"]["id"] == person
        ]
        return sorted(rows, key=lambda r: r[1])

    def absences(self, person: str) -> list[dict[str, Any]]:
        return [p for p in self.state()["absence_periods"] if p["person"]["id"] == person]

    def type_id(self, name: str) -> str:
        return next(t["id"] for t in self.state()["absence_types"] if t["name"] == name)


def minutes(start: str, end: str) -> float:
    """Real minutes between two Berlin wall-clock times (through zoneinfo)."""
    a = datetime.fromisoformat(start).replace(tzinfo=BERLIN).astimezone(UTC)
    b = datetime.fromisoformat(end).replace(tzinfo=BERLIN).astimezone(UTC)
    return (b - a).total_seconds() / 60


def sqlite_url(tmp_path: Path, name: str = "ledger.db") -> str:
    return f"sqlite:///{tmp_path / name}"
