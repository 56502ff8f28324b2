"""Fixtures for target-staffomatic: the sandbox on loopback, tap-like records, a target runner.

The sandbox runs once per test session; every test starts from a fresh ``demo`` seed. Records
are built the way tap-personio emits them (flat employees, v2 absence periods flattened), from
the same roster the Personio emulator uses, so the two sides line up as in the end-to-end run.
"""

from __future__ import annotations

import io
import json
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import pytest
import vendor_http.staffomatic_client
from sandbox.admin import Admin, Admins
from sandbox.server import Sandbox
from sync_ledger import Ledger
from target_staffomatic.session import StopRun
from target_staffomatic.target import TargetStaffomatic

from sandbox import roster

ROOT = Path(__file__).resolve().parents[2]
ABSENCES_SCHEMA = json.loads(
    (ROOT / "tap-personio/tap_personio/schemas/absences.json").read_text(encoding="utf-8")
)
ABSENCE_TYPES_SCHEMA = {
    "type": "object",
    "properties": {
        "id": {"type": "string"},
        "name": {"type": ["string", "null"]},
        "category": {"type": ["string", "null"]},
        "unit": {"type": ["string", "null"]},
    },
}
_S = {"type": ["string", "null"]}
EMPLOYEES_SCHEMA = {
    "type": "object",
    "properties": {
        "id": {"type": "integer"},
        **dict.fromkeys(
            (
                "first_name",
                "last_name",
                "email",
                "status",
                "department_name",
                "office_name",
                "team_name",
            ),
            _S,
        ),
        **{
            k: {"type": ["string", "null"], "format": "date"}
            for k in ("hire_date", "termination_date", "last_working_day")
        },
        "weekly_working_hours": {"type": ["number", "null"]},
        "vacation_day_balance": {"type": ["number", "null"]},
        "absence_entitlement": {
            "type": ["array", "null"],
            "items": {
                "type": "object",
                "properties": {
                    "id": {"type": ["integer", "string", "null"]},
                    "name": _S,
                    "category": _S,
                    "entitlement": {"type": ["number", "null"]},
                },
            },
        },
        "shift_planning": {"type": ["boolean", "null"]},
        "last_modified_at": {"type": ["string", "null"], "format": "date-time"},
    },
}
TYPES = {
    "vac": ("Vacation", "paid_vacation"),
    "sick": ("Sick leave", "sick_leave"),
    "train": ("Training", "training"),
    "parental": ("Parental leave", "parental_leave"),
}


def today() -> date:
    return roster.company_today()


def employee(person: roster.Person, **changes: Any) -> dict[str, Any]:
    """The tap-personio ``employees`` record of a roster person."""
    now = today()
    hire = person.hire_date(now)
    last = person.last_working_day(now)
    status = "onboarding" if person.status == "active" and hire > now else person.status
    record = {
        "id": person.id,
        "first_name": person.first_name,
        "last_name": person.last_name,
        "email": person.personio_email or "",
        "status": status,
        "hire_date": hire.isoformat(),
        "termination_date": last.isoformat() if last else None,
        "last_working_day": last.isoformat() if last else None,
        "weekly_working_hours": person.weekly_hours,
        "absence_entitlement": [
            {
                "id": 9001,
                "name": "Vacation",
                "category": "paid_vacation",
                "entitlement": person.vacation_days,
            }
        ],
        "department_name": person.department,
        "office_name": person.office,
        "team_name": person.team,
        "shift_planning": person.shift_planning,
        "last_modified_at": "2026-01-01T10:00:00+00:00",
    }
    record.update(changes)
    return record


def demo_employees(**changes_by_id: dict[str, Any]) -> list[dict[str, Any]]:
    return [employee(p, **changes_by_id.get(str(p.id), {})) for p in roster.EMPLOYEES]


def person(pid: int) -> roster.Person:
    return next(p for p in roster.PEOPLE if p.id == pid)


def absence(
    aid: str,
    person_id: int,
    kind: str,
    first: int,
    last: int,
    status: str = "APPROVED",
    *,
    half_start: bool = False,
    half_end: bool = False,
) -> dict[str, Any]:
    """A tap-personio ``absences`` record from ``today + first`` to ``today + last``."""
    start, end = today() + timedelta(days=first), today() + timedelta(days=last)
    name, _ = TYPES[kind]
    return {
        "id": aid,
        "person_id": str(person_id),
        "absence_type_id": f"type-{kind}",
        "absence_type_name": name,
        "starts_from": f"{start.isoformat()}T00:00:00",
        "starts_from_type": "SECOND_HALF" if half_start else "FIRST_HALF",
        "ends_at": f"{end.isoformat()}T00:00:00",
        "ends_at_type": "FIRST_HALF" if half_end else "SECOND_HALF",
        "half_day_start": half_start,
        "half_day_end": half_end,
        "timezone": roster.COMPANY_TIME_ZONE,
        "approval_status": status,
        "comment": "",
        "created_at": "2026-01-01T10:00:00+00:00",
        "updated_at": "2026-01-01T10:00:00+00:00",
    }


def absence_types() -> list[dict[str, Any]]:
    return [
        {"id": f"type-{k}", "name": name, "category": cat, "unit": "DAILY"}
        for k, (name, cat) in TYPES.items()
    ]


def singer(
    employees: list[dict[str, Any]] | None = None,
    absences: list[dict[str, Any]] | None = None,
    *,
    types: bool = True,
    version: int | None = None,
) -> str:
    """Singer messages as tap-personio sends them (absences framed by ACTIVATE_VERSION)."""
    lines: list[dict[str, Any]] = []
    if absences is not None:
        if types:
            lines.append(
                {
                    "type": "SCHEMA",
                    "stream": "absence_types",
                    "schema": ABSENCE_TYPES_SCHEMA,
                    "key_properties": ["id"],
                }
            )
            lines += [
                {"type": "RECORD", "stream": "absence_types", "record": r} for r in absence_types()
            ]
        lines.append(
            {
                "type": "SCHEMA",
                "stream": "absences",
                "schema": ABSENCES_SCHEMA,
                "key_properties": ["id"],
            }
        )
        if version is not None:
            lines.append({"type": "ACTIVATE_VERSION", "stream": "absences", "version": version})
        lines += [{"type": "RECORD", "stream": "absences", "record": r} for r in absences]
        if version is not None:
            lines.append({"type": "ACTIVATE_VERSION", "stream": "absences", "version": version})
    if employees is not None:
        lines.append(
            {
                "type": "SCHEMA",
                "stream": "employees",
                "schema": EMPLOYEES_SCHEMA,
                "key_properties": ["id"],
            }
        )
        lines += [{"type": "RECORD", "stream": "employees", "record": r} for r in employees]
    lines.append({"type": "STATE", "value": {"bookmarks": {"employees": {"n": 1}}}})
    return "\n".join(json.dumps(line) for line in lines) + "\n"


@dataclass
class Result:
    stdout: str
    stderr: str
    writes: int
    requests: dict[str, Any]
    state: dict[str, Any]


@dataclass
class Kit:
    """The sandbox, a ledger URL, and a way to run the target against them."""

    sandbox: Sandbox
    ledger_url: str
    capsys: pytest.CaptureFixture[str]
    admin: Admin  # of the Staffomatic server
    config: dict[str, Any] = field(default_factory=dict)

    # The record builders, for the test modules (which cannot import this conftest).
    employee = staticmethod(employee)
    demo_employees = staticmethod(demo_employees)
    person = staticmethod(person)
    absence = staticmethod(absence)
    singer = staticmethod(singer)
    today = staticmethod(today)

    def state(self) -> dict[str, Any]:
        return self.sandbox.staffomatic.state

    def requests(self) -> dict[str, Any]:
        return self.admin.requests()

    def settings(self, **overrides: Any) -> dict[str, Any]:
        return {
            "account": roster.STAFFOMATIC_ACCOUNT,
            "api_token": roster.STAFFOMATIC_API_TOKEN,
            "base_url": self.sandbox.staffomatic_api,
            "ledger_url": self.ledger_url,
            "user_agent": "target-staffomatic-tests (tests@example.com)",
            **self.config,
            **overrides,
        }

    def personio_source(self) -> dict[str, Any]:
        """The ``source_*`` settings that let the target confirm a deletion by reading the
        Personio emulator."""
        return {
            "source_client_id": "demo-client-id",
            "source_client_secret": "demo-client-secret",
            "source_base_url": self.sandbox.personio_url,
        }

    def run(self, messages: str, **overrides: Any) -> Result:
        """Run the target in-process; the sandbox request counts cover this run only."""
        self.sandbox.staffomatic.log.by_endpoint.clear()
        self.capsys.readouterr()
        target = TargetStaffomatic(config=self.settings(**overrides), validate_config=True)
        target.listen(io.StringIO(messages))
        out = self.capsys.readouterr()
        requests = self.requests()
        return Result(out.out, out.err, requests["writes"], requests, self.state())

    def fails(self, messages: str, **overrides: Any) -> str:
        """Run the target expecting it to stop; returns the one-sentence reason."""
        with pytest.raises(StopRun) as stopped:
            self.run(messages, **overrides)
        return str(stopped.value)

    def ledger(self) -> Ledger:
        return Ledger(self.ledger_url)

    def user(self, custom_id: str) -> dict[str, Any] | None:
        found = [u for u in self.state()["users"] if u.get("custom_id") == custom_id]
        assert len(found) <= 1
        return found[0] if found else None

    def user_by_email(self, email: str) -> dict[str, Any] | None:
        return next(
            (u for u in self.state()["users"] if (u.get("email") or "").lower() == email.lower()),
            None,
        )

    def department_names(self, user: dict[str, Any]) -> set[str]:
        names = {d["id"]: d["name"] for d in self.state()["departments"]}
        return {names[d] for d in user["department_ids"]}

    def location_name(self, location_id: int) -> str:
        return next(loc["name"] for loc in self.state()["locations"] if loc["id"] == location_id)

    def absences_of(self, custom_id: str) -> list[dict[str, Any]]:
        user = self.user(custom_id)
        assert user is not None
        return [a for a in self.state()["absences"] if a["applicant_id"] == user["id"]]

    def type_name(self, type_id: int) -> str:
        return next(t["name"] for t in self.state()["absence_types"] if t["id"] == type_id)


@pytest.fixture
def no_sleep(no_sleep: list[float], monkeypatch: pytest.MonkeyPatch) -> list[float]:
    """The suite's ``no_sleep``, also where the target's client sleeps by default."""
    monkeypatch.setattr(vendor_http.staffomatic_client, "_sleep", no_sleep.append)
    return no_sleep


@pytest.fixture
def kit(
    sandbox: Sandbox,
    admins: Admins,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    no_sleep: list[float],
    monkeypatch: pytest.MonkeyPatch,
    ledger_url: str,
) -> Kit:
    monkeypatch.chdir(tmp_path)
    return Kit(sandbox, ledger_url, capsys, admins.staffomatic)


Runner = Callable[..., Result]
