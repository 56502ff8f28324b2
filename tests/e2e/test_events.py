"""The receiver end to end: Personio's webhooks (from the sandbox, on loopback) drive the sync.

Each test starts ``meltano invoke sync-events serve`` in the installed project (conftest),
registers the webhook with ``meltano invoke sync-events register``, changes Personio through
the sandbox's admin endpoints (which deliver the events) and waits for Staffomatic to follow.
"""

from __future__ import annotations

import copy
import signal
import socket
import subprocess
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import date, timedelta
from typing import Any

import httpx
import pytest
import sync_ledger.events as stored
from sandbox.admin import Admin
from sync_ledger import Ledger

from tests.e2e.helpers import (
    BIN,
    Sync,
    delete_absence_period,
    load,
    ok,
    state,
    users_by_person,
    writes,
)

pytestmark = pytest.mark.slow

TOKEN = "e2e-receiver-token-0123456789abcdef"
PERIOD = "e2e-webhook-absence"
PERSON = "1011"  # Katharina: a user in Staffomatic (custom_id) before any sync
NEW_PERSON = "1099"
LATE = "e2e-webhook-late-absence"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@contextmanager
def receiver(sync: Sync, port: int, **env: str) -> Iterator[str]:
    """``sync-events serve`` on ``port`` until the block ends (SIGTERM); its /events URL."""
    url = f"http://127.0.0.1:{port}"
    extra = sync.env | receiver_env(port) | env
    process = subprocess.Popen(
        [str(BIN / "meltano"), "invoke", "sync-events", "serve"],
        cwd=sync.project,
        env=extra,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        wait_for(lambda: _healthy(url), 60, "the receiver did not start")
        yield f"{url}/events"
    finally:
        process.send_signal(signal.SIGTERM)
        try:
            _, stderr = process.communicate(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
            _, stderr = process.communicate()
        assert TOKEN not in stderr  # the token is never logged


def receiver_env(port: int) -> dict[str, str]:
    return {
        "SYNC_EVENTS_TOKEN": TOKEN,
        "SYNC_EVENTS_PORT": str(port),
        "SYNC_EVENTS_URL": f"http://127.0.0.1:{port}/events",
        "SYNC_EVENTS_COALESCE_SECONDS": "1",
        "SYNC_EVENTS_RETRY_SECONDS": "2",
        "SYNC_EVENTS_MELTANO": str(BIN / "meltano"),
    }


def _healthy(url: str) -> bool:
    try:
        return httpx.get(f"{url}/health", timeout=2).status_code == 200
    except httpx.HTTPError:
        return False


def wait_for(check: Callable[[], Any], timeout: float, message: str) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        found = check()
        if found:
            return found
        time.sleep(0.5)
    raise AssertionError(message)


def register(sync: Sync, port: int) -> None:
    done = ok(sync.meltano("invoke", "sync-events", "register", **receiver_env(port)))
    assert TOKEN not in done.stdout + done.stderr


def events(sync: Sync) -> dict[str, Any]:
    with Ledger(sync.ledger_url) as ledger:
        return stored.summary(ledger)


def add_period(sync: Sync, first: int, last: int, period_id: str = PERIOD) -> None:
    """An approved whole-day absence of Katharina in Personio (``today + first`` to ``+ last``)."""
    data = state(sync.personio)
    seeded = next(p for p in data["absence_periods"] if p["person"]["id"] == PERSON)
    period = copy.deepcopy(seeded)
    period.update(id=period_id, approval={"status": "APPROVED"}, comment="")
    data["absence_periods"].append(period)
    set_days(period, first, last)
    load(sync.personio, data)


def set_days(period: dict[str, Any], first: int, last: int) -> None:
    today = date.today()
    for key, days in (("starts_from", first), ("ends_at", last)):
        day = today + timedelta(days=days)
        period[key] = {"date_time": f"{day.isoformat()}T00:00:00", "type": "FULL_DAY"}


def add_person(sync: Sync) -> None:
    """A new hire in Personio, like David (1004), with the id ``NEW_PERSON``."""
    data = state(sync.personio)
    person = copy.deepcopy(next(e for e in data["employees"] if e["id"] == 1004))
    person["id"] = int(NEW_PERSON)
    person["attributes"].update(
        first_name="Nora", last_name="Neu", email="nora.neu@demo-gastro.example"
    )
    data["employees"].append(person)
    load(sync.personio, data)


def user_of(sync: Sync, person: str) -> dict[str, Any] | None:
    return users_by_person(state(sync.staffomatic)).get(person)


def change_period(sync: Sync, first: int, last: int) -> None:
    data = state(sync.personio)
    set_days(next(p for p in data["absence_periods"] if p["id"] == PERIOD), first, last)
    load(sync.personio, data)


def synced_absence(sync: Sync, period_id: str = PERIOD) -> dict[str, Any] | None:
    """The Staffomatic absence linked to the period, or None."""
    with Ledger(sync.ledger_url) as ledger:
        link = ledger.links("personio", "absence").get(period_id)
    if link is None:
        return None
    return next(
        (a for a in state(sync.staffomatic)["absences"] if str(a["id"]) == link.dest_id), None
    )


def ends_on(absence: dict[str, Any] | None, days: int) -> bool:
    day = (date.today() + timedelta(days=days)).isoformat()
    return absence is not None and str(absence["ends_at"]).startswith(day)


def runs(sync: Sync) -> int:
    """Runs the ledger recorded (one per target run)."""
    with Ledger(sync.ledger_url) as ledger:
        return len(ledger.runs())


def settled(sync: Sync, done: int) -> bool:
    found = events(sync)
    return found["pending"] == 0 and found["done"] >= done


def test_a_new_hire_and_an_absence_created_changed_and_deleted_in_personio_follow_in_staffomatic(
    sync: Sync,
) -> None:
    port = free_port()
    register(sync, port)
    with receiver(sync, port):
        add_person(sync)
        add_period(sync, 10, 11)
        user = wait_for(lambda: user_of(sync, NEW_PERSON), 90, "the new hire has no user")
        assert (user["first_name"], user["last_name"]) == ("Nora", "Neu")
        created = wait_for(lambda: ends_on(synced_absence(sync), 11), 90, "not created")
        assert created
        wait_for(lambda: settled(sync, 3), 30, "events left pending")

        # from here Personio delivers every event twice: each is stored and synced once
        with Admin(sync.personio) as admin:
            admin.variants(webhook_duplicates="every_event")
        before = runs(sync)
        change_period(sync, 10, 12)
        wait_for(lambda: ends_on(synced_absence(sync), 12), 90, "not changed")
        absence = synced_absence(sync)
        assert absence is not None
        wait_for(lambda: settled(sync, 4), 30, "events left pending")
        assert runs(sync) == before + 1
        assert events(sync)["received"] == 4

        # a reordered pair (the change before the creation), each delivered twice: one more
        # run, which reads the period as it is now, and no write
        before, received = writes(sync.staffomatic), events(sync)["received"]
        with Admin(sync.personio) as admin:
            payload = {"id": PERIOD, "person": {"id": PERSON}}
            admin.emit("absence-period.updated.timerange", payload)
            admin.emit("absence-period.created", payload)
            answers = [d["status"] for d in admin.delivered(timeout=20)[-4:]]
        assert answers == [200] * 4
        wait_for(lambda: settled(sync, received + 2), 90, "not processed")
        assert events(sync)["received"] == received + 2
        assert writes(sync.staffomatic) == before
        assert synced_absence(sync) == absence

        delete_absence_period(sync.personio, PERIOD)
        wait_for(
            lambda: str(absence["id"])
            not in {str(a["id"]) for a in state(sync.staffomatic)["absences"]},
            90,
            "not deleted",
        )
        wait_for(lambda: settled(sync, received + 3), 30, "events left pending")
    with Admin(sync.personio) as admin:
        served = admin.counts()
    # the deletion's run (counts restart at each load) read the period by id, listed no periods
    assert served["GET /v2/absence-periods/{id}"] > 0
    assert "GET /v2/absence-periods" not in served
    # the tap checks one page of employees at start, in discovery and in the run: not a read
    assert served.get("GET /v1/company/employees", 0) <= 2
    report = ok(sync.meltano("invoke", "sync-ledger", "report")).stdout
    assert "Webhook events:" in report
    assert "0 pending" in report


def test_a_restarted_receiver_loses_no_event_and_refuses_strangers(sync: Sync) -> None:
    port = free_port()
    register(sync, port)
    with receiver(sync, port, SYNC_EVENTS_COALESCE_SECONDS="3600") as url:
        # refused, and stored nowhere: a wrong token, another company
        wrong = httpx.post(url, json={"company_id": "314159"}, headers={"Authorization": "x"})
        assert wrong.status_code == 401
        with Admin(sync.personio) as admin:
            admin.emit("absence-period.created", {"id": "x", "person": {"id": PERSON}}, "271828")
            refused = [d for d in admin.delivered(timeout=20) if d.get("status") == 403]
        assert refused
        assert events(sync)["received"] == 0

        add_period(sync, 20, 21)
        wait_for(lambda: events(sync)["pending"] == 1, 30, "not stored")
    assert events(sync)["pending"] == 1  # stored, stopped before its run
    assert synced_absence(sync) is None
    with Admin(sync.personio) as admin:  # Personio retries a failed delivery (here soon)
        admin.deliveries(retry_delays=[10] * 6)
    add_period(sync, 22, 23, LATE)  # while the receiver is down: delivered after the start
    before = len(state(sync.staffomatic)["absences"])
    with receiver(sync, port):
        wait_for(lambda: ends_on(synced_absence(sync), 21), 90, "lost across the restart")
        wait_for(lambda: ends_on(synced_absence(sync, LATE), 23), 90, "undelivered event lost")
        wait_for(lambda: settled(sync, 2), 30, "events left pending")
    assert events(sync)["received"] == 2
    assert len(state(sync.staffomatic)["absences"]) == before + 2  # each period once
    with Admin(sync.personio) as admin:
        late = [d for d in admin.deliveries()["deliveries"] if d["payload"]["id"] == LATE]
    assert late[0]["status"] is None  # refused while down, then retried
    assert late[-1]["status"] == 200
