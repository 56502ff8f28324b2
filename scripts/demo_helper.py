"""Small steps of the demo (scripts/demo.sh) that talk to the sandbox.

python scripts/demo_helper.py ports 8401 8402     # exit 1 with a sentence if one is taken
python scripts/demo_helper.py wait URL...         # until each sandbox server answers
python scripts/demo_helper.py writes URL...       # data writes served so far, per server
python scripts/demo_helper.py change P_URL S_URL  # one change in each system
python scripts/demo_helper.py show P_URL S_URL    # where those changes are now
sync-ledger report --format json | python scripts/demo_helper.py totals
"""

from __future__ import annotations

import json
import socket
import sys
import time
from collections import Counter
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import httpx

ZONE = ZoneInfo("Europe/Berlin")
RENAMED = 1012  # Lukas Wolf in the demo roster: linked by e-mail on the first sync
TIMER_PERSON = "1001"  # Anna Schmidt: tracks time in Staffomatic
DAYS_AGO = 2  # a day without attendance periods of hers in Personio
NEW_LAST_NAME = "Wolf-Berger"
STAFFOMATIC_AUTH = ("api@demo-gastro.example", "demo-password")
USER_AGENT = "Personio-Staffomatic sync demo (sync@example.org)"


def ports(*numbers: str) -> int:
    for number in numbers:
        with socket.socket() as probe:
            try:
                probe.bind(("127.0.0.1", int(number)))
            except OSError:
                print(
                    f"Port {number} on 127.0.0.1 is already in use (is another demo or sandbox "
                    "still running?): stop that program, then run `make demo` again.",
                    file=sys.stderr,
                )
                return 1
    return 0


def wait(*urls: str) -> int:
    deadline = time.monotonic() + 30
    for url in urls:
        while True:
            try:
                httpx.get(f"{url}/_sandbox/requests", timeout=2).raise_for_status()
                break
            except httpx.HTTPError:
                if time.monotonic() > deadline:
                    print(f"The sandbox did not answer at {url} within 30 s.", file=sys.stderr)
                    return 1
                time.sleep(0.2)
    return 0


def data_writes(url: str) -> int:
    """POST, PUT, PATCH and DELETE requests served, sign-ins (token requests) left out."""
    counts = httpx.get(f"{url}/_sandbox/requests", timeout=10).json()["by_endpoint"]
    return sum(
        n
        for key, n in counts.items()
        if key.split()[0] in ("POST", "PUT", "PATCH", "DELETE") and "/auth" not in key
    )


def writes(*urls: str) -> int:
    print(" ".join(str(data_writes(url)) for url in urls))
    return 0


def state(url: str) -> dict[str, Any]:
    return dict(httpx.get(f"{url}/_sandbox/state", timeout=10).json())


def user_of(staffomatic: dict[str, Any], person_id: str) -> dict[str, Any]:
    return next(u for u in staffomatic["users"] if u.get("custom_id") == person_id)


def change(personio_url: str, staffomatic_url: str) -> int:
    # Personio: a last name changes (through the sandbox's admin endpoints: the Personio API
    # cannot edit employees).
    data = state(personio_url)
    employee = next(e for e in data["employees"] if e["id"] == RENAMED)
    old = f"{employee['attributes']['first_name']} {employee['attributes']['last_name']}"
    employee["attributes"]["last_name"] = NEW_LAST_NAME
    employee["last_modified_at"] = datetime.now(ZONE).isoformat(timespec="seconds")
    httpx.post(f"{personio_url}/_sandbox/load", json=data, timeout=10).raise_for_status()
    print(f"Personio:    employee {RENAMED} {old} is now called {old.split()[0]} {NEW_LAST_NAME}")

    # Staffomatic: a manager records and verifies a past shift, through the API.
    user = user_of(state(staffomatic_url), TIMER_PERSON)
    day = datetime.now(ZONE).date() - timedelta(days=DAYS_AGO)
    starts = datetime(day.year, day.month, day.day, 8, tzinfo=ZONE)
    api = httpx.Client(
        base_url=f"{staffomatic_url}/v3/demo",
        auth=STAFFOMATIC_AUTH,
        headers={"User-Agent": USER_AGENT},
        timeout=10,
    )
    with api:
        ends = starts + timedelta(hours=6, minutes=30)
        body = {"user_id": user["id"], "starts_at": starts.isoformat(), "ends_at": ends.isoformat()}
        created = api.post("/work_timers.json", json={"work_timer": body})
        created.raise_for_status()
        timer = created.json()
        api.put(
            f"/work_timers/{timer['id']}.json", json={"work_timer": {"do": "verify"}}
        ).raise_for_status()
    print(
        f"Staffomatic: a verified work timer {timer['id']} for user {user['id']} "
        f"(employee {TIMER_PERSON}), {day} 08:00-14:30"
    )
    return 0


def show(personio_url: str, staffomatic_url: str) -> int:
    user = user_of(state(staffomatic_url), str(RENAMED))
    print(f"Staffomatic: user {user['id']} is now {user['first_name']} {user['last_name']}")
    day = (datetime.now(ZONE).date() - timedelta(days=DAYS_AGO)).isoformat()
    periods = [
        p
        for p in state(personio_url)["attendance_periods"]
        if p["person"]["id"] == TIMER_PERSON and p["start"]["date_time"].startswith(day)
    ]
    for period in periods:
        start, end = period["start"]["date_time"], period["end"]["date_time"]
        print(f"Personio:    attendance period {period['type']} {start} .. {end}")
    if not periods:
        print(f"Personio:    no attendance period of employee {TIMER_PERSON} on {day}")
    return 0


def totals() -> int:
    """One line: the actions of the runs in a ``sync-ledger report --format json`` on stdin."""
    runs = json.load(sys.stdin)["runs"]
    actions: Counter[str] = Counter()
    for run in runs:
        for per_action in run["counts"].values():
            actions.update(per_action)
    listed = ", ".join(f"{action} {n}" for action, n in sorted(actions.items())) or "none"
    print(f"{len(runs)} target runs; actions recorded: {listed}")
    return 0


COMMANDS: dict[str, Callable[..., int]] = {
    "ports": ports,
    "wait": wait,
    "writes": writes,
    "change": change,
    "show": show,
    "totals": totals,
}

if __name__ == "__main__":
    if len(sys.argv) < 2 or sys.argv[1] not in COMMANDS:
        sys.exit(__doc__)
    sys.exit(COMMANDS[sys.argv[1]](*sys.argv[2:]))
