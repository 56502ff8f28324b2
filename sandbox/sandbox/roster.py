"""The people of the ``demo`` seed, shared by both emulators so the two sides line up.

Dates are relative to the day the seed is built (``today``), so that "hire date in the future"
and "last working day passed" stay true whenever the demo runs. Everything else is fixed.

Each person is an employee in Personio, a user in Staffomatic, or both. The edge cases:

- 1001 Anna Schmidt: already linked (the Staffomatic user's ``custom_id`` is ``"1001"``);
- 1002 Ben Müller: same e-mail in both, not yet linked (matched by e-mail);
- 1003 Clara Weber: e-mails differ only in letter case;
- 1005 Eva Wagner: no e-mail in Personio (created in Staffomatic only with the target's
  ``create_users_without_email``);
- 1006 Felix Becker: hire date in the future (created locked, unlocked on the hire date);
- 1007 Greta Hoffmann: last working day passed, status still ``active`` (gets locked);
- 1008 Henrik Schulz: status ``inactive`` (gets locked);
- 1010 Jonas Richter: a Staffomatic user without e-mail carries the same full name (ambiguous);
- 1014 Olivia Schwarz: ``shift_planning`` is false (a stream map can filter her out);
- 9001 Xaver Unbekannt: a Staffomatic user with no Personio counterpart;
- 9000 the API user of the demo account (an admin, no Personio counterpart).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

COMPANY_TIME_ZONE = "Europe/Berlin"
OFFICES = ("Berlin", "Hamburg")
DEPARTMENTS = {"Berlin": ("Kitchen", "Service", "Bar"), "Hamburg": ("Kitchen", "Logistics")}
TEAMS = ("Early shift", "Late shift")

DOMAIN = "demo-gastro.example"

# Credentials of the demo seed (also listed in sandbox/README.md). Not secrets: sandbox only.
PERSONIO_CLIENT_ID = "demo-client-id"
PERSONIO_CLIENT_SECRET = "demo-client-secret"
PERSONIO_RESTRICTED_CLIENT_ID = "restricted-client-id"
PERSONIO_RESTRICTED_CLIENT_SECRET = "restricted-client-secret"
STAFFOMATIC_ACCOUNT = "demo"
STAFFOMATIC_EMAIL = "api@demo-gastro.example"
STAFFOMATIC_PASSWORD = "demo-password"
STAFFOMATIC_API_TOKEN = "demo-api-token"


def company_today() -> date:
    """Today where the company is: the seeds' ``today`` (the machine's date may be another)."""
    return datetime.now(ZoneInfo(COMPANY_TIME_ZONE)).date()


@dataclass(frozen=True)
class Person:
    id: int
    first_name: str
    last_name: str
    office: str
    department: str
    team: str
    personio_email: str | None = None
    """E-mail in Personio; None: not an employee there. ``""``: an employee without e-mail."""
    staffomatic_email: str | None = None
    """E-mail of the Staffomatic user; None: no user there. ``""``: a user without e-mail."""
    linked: bool = False
    """The Staffomatic user already carries the Personio id in ``custom_id``."""
    status: str = "active"
    hire_days: int = -700
    """Hire date relative to today."""
    last_day_days: int | None = None
    """Last working day relative to today (None: none)."""
    weekly_hours: float = 40.0
    vacation_days: int = 28
    shift_planning: bool = True
    locked: bool = False
    """The Staffomatic user is locked."""

    def hire_date(self, today: date) -> date:
        return today + timedelta(days=self.hire_days)

    def last_working_day(self, today: date) -> date | None:
        return None if self.last_day_days is None else today + timedelta(days=self.last_day_days)


def _email(first: str, last: str) -> str:
    plain = last.lower().replace("ü", "ue").replace("ö", "oe").replace("ä", "ae")
    return f"{first.lower()}.{plain}@{DOMAIN}"


def _both(
    pid: int, first: str, last: str, office: str, dept: str, team: str, **kw: object
) -> Person:
    email = _email(first, last)
    return Person(pid, first, last, office, dept, team, email, email, **kw)  # type: ignore[arg-type]


def _personio_only(
    pid: int, first: str, last: str, office: str, dept: str, team: str, **kw: object
) -> Person:
    return Person(pid, first, last, office, dept, team, _email(first, last), None, **kw)  # type: ignore[arg-type]


PEOPLE: tuple[Person, ...] = (
    _both(1001, "Anna", "Schmidt", "Berlin", "Kitchen", "Early shift", linked=True),
    _both(1002, "Ben", "Müller", "Berlin", "Service", "Late shift", weekly_hours=30.0),
    Person(
        1003,
        "Clara",
        "Weber",
        "Berlin",
        "Service",
        "Early shift",
        personio_email=f"clara.weber@{DOMAIN}",
        staffomatic_email=f"Clara.Weber@{DOMAIN.title()}",
    ),
    _personio_only(1004, "David", "Fischer", "Berlin", "Bar", "Late shift", weekly_hours=20.0),
    Person(1005, "Eva", "Wagner", "Hamburg", "Kitchen", "Early shift", personio_email=""),
    _personio_only(1006, "Felix", "Becker", "Hamburg", "Logistics", "Early shift", hire_days=14),
    _both(
        1007,
        "Greta",
        "Hoffmann",
        "Berlin",
        "Kitchen",
        "Late shift",
        linked=True,
        last_day_days=-10,
    ),
    _both(
        1008,
        "Henrik",
        "Schulz",
        "Hamburg",
        "Logistics",
        "Late shift",
        linked=True,
        status="inactive",
        last_day_days=-40,
    ),
    _both(1009, "Ida", "Koch", "Hamburg", "Kitchen", "Early shift", linked=True, status="leave"),
    Person(
        1010,
        "Jonas",
        "Richter",
        "Berlin",
        "Bar",
        "Late shift",
        personio_email=_email("Jonas", "Richter"),
        staffomatic_email="",
    ),
    _both(1011, "Katharina", "Klein", "Berlin", "Service", "Early shift", linked=True),
    _both(1012, "Lukas", "Wolf", "Berlin", "Kitchen", "Late shift", weekly_hours=38.5),
    _personio_only(1013, "Marie", "Schröder", "Hamburg", "Kitchen", "Late shift"),
    _personio_only(
        1014, "Olivia", "Schwarz", "Hamburg", "Logistics", "Early shift", shift_planning=False
    ),
    _both(1015, "Paul", "Zimmermann", "Hamburg", "Logistics", "Late shift", linked=True),
    _personio_only(1016, "Rosa", "Krüger", "Berlin", "Bar", "Early shift", weekly_hours=25.0),
    _both(1017, "Sebastian", "Hofmann", "Berlin", "Kitchen", "Early shift", linked=True),
    _personio_only(1018, "Tina", "Hartmann", "Hamburg", "Kitchen", "Early shift"),
    _both(1019, "Uwe", "Lange", "Hamburg", "Kitchen", "Late shift", linked=True, locked=True),
    _personio_only(1020, "Vera", "Schmitt", "Berlin", "Service", "Late shift", vacation_days=30),
    _personio_only(1021, "Wilhelm", "Werner", "Berlin", "Service", "Early shift", hire_days=-30),
    _both(1022, "Yasmin", "Yilmaz", "Hamburg", "Logistics", "Early shift", linked=True),
    Person(
        9001,
        "Xaver",
        "Unbekannt",
        "Berlin",
        "Bar",
        "Late shift",
        staffomatic_email=_email("Xaver", "Unbekannt"),
    ),
)
"""Uwe Lange (1019) is locked in Staffomatic but active in Personio: a rehire, to be unlocked."""

EMPLOYEES = tuple(p for p in PEOPLE if p.personio_email is not None)
USERS = tuple(p for p in PEOPLE if p.staffomatic_email is not None)


def scale_people(employees: int) -> tuple[Person, ...]:
    """The people of the ``scale`` seed: ``employees`` employees, ids from 100001.

    Every second employee already has a Staffomatic user; of those, every second one is linked
    by ``custom_id`` (the others match by e-mail). The rest are created by the first sync.
    """
    people = []
    for n in range(employees):
        pid = 100001 + n
        office = OFFICES[n % 2]
        email = f"employee{pid}@scale.example"
        people.append(
            Person(
                pid,
                f"First{pid}",
                f"Last{pid}",
                office,
                DEPARTMENTS[office][n % len(DEPARTMENTS[office])],
                TEAMS[n % 2],
                personio_email=email,
                staffomatic_email=email if n % 2 == 0 else None,
                linked=n % 4 == 0,
                hire_days=-365 - n % 300,
            )
        )
    return tuple(people)
