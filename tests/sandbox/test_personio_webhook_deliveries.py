"""Personio emulator: webhook deliveries to a receiver on loopback, from the running sandbox.

Each change made through the API or ``/_sandbox/load`` is queued and posted by the sandbox's
delivery thread: the token in ``Authorization``, the documented body, retries on timeouts and
5xx (short delays set through ``/_sandbox/deliveries``), duplicates and reordering on demand.
"""

from __future__ import annotations

import copy
import threading
import time
from collections.abc import Callable, Iterator
from datetime import date, timedelta
from typing import Any

import httpx
import pytest
from sandbox.admin import Admin, Admins
from sandbox.personio.events import EVENT_NAMES
from sandbox.server import Sandbox

from tests.sandbox.personio_clients import V2_FORM
from tests.sandbox.receiver import Receiver, receiving

TOKEN = "Bearer webhook-s3cret"
QUICK = {"ack_seconds": 0.5, "retry_delays": [0.05, 0.05, 0.05, 0.05, 0.05, 0.05]}


@pytest.fixture
def admin(sandbox: Sandbox, admins: Admins) -> Admin:
    admins.personio.deliveries(**QUICK)
    return admins.personio


@pytest.fixture
def api(sandbox: Sandbox) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=sandbox.personio_url, timeout=10) as client:
        token = client.post("/v2/auth/token", data=V2_FORM).json()["access_token"]
        client.headers["Authorization"] = f"Bearer {token}"
        yield client


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    with receiving() as running:
        yield running


def register(api: httpx.Client, url: str, **changes: Any) -> dict[str, Any]:
    body = {
        "url": url,
        "description": "test receiver",
        "status": "ENABLED",
        "token": TOKEN,
        "enabled_events": list(EVENT_NAMES),
        **changes,
    }
    response = api.post("/v2/webhooks", json={k: v for k, v in body.items() if v is not None})
    assert response.status_code == 201, response.text
    return dict(response.json())


def new_absence(api: httpx.Client, days: int = 200) -> str:
    types = api.get("/v2/absence-types").json()["_data"]
    day = (date.today() + timedelta(days=days)).isoformat()
    body = {
        "person": {"id": "1004"},
        "absence_type": {"id": types[0]["id"]},
        "starts_from": {"date_time": f"{day}T00:00:00"},
        "ends_at": {"date_time": f"{day}T00:00:00"},
    }
    response = api.post("/v2/absence-periods", json=body)
    assert response.status_code == 201, response.text
    return str(response.json()["id"])


def test_api_changes_are_delivered_with_the_token_and_the_documented_body(
    api: httpx.Client, admin: Admin, receiver: Receiver
) -> None:
    register(api, receiver.url)
    period = new_absence(api)
    later = (date.today() + timedelta(days=201)).isoformat()
    patch = {"ends_at": {"date_time": f"{later}T00:00:00"}}
    assert api.patch(f"/v2/absence-periods/{period}", json=patch).status_code == 204
    assert api.delete(f"/v2/absence-periods/{period}").status_code == 204
    admin.delivered()
    assert receiver.names() == [
        "absence-period.created",
        "absence-period.updated.timerange",
        "absence-period.deleted",
    ]
    for got in receiver.received:
        assert got.headers["Authorization"] == TOKEN
        assert got.headers["Content-Type"] == "application/json"
        assert set(got.body) == {"company_id", "event_name", "occurred_at", "payload"}
        assert got.body["company_id"] == "314159"
        assert got.body["occurred_at"].endswith("Z")
        assert got.body["payload"] == {"id": period, "person": {"id": "1004"}}


def test_attendance_changes_and_status_changes_fire_their_events(
    api: httpx.Client, admin: Admin, receiver: Receiver
) -> None:
    register(api, receiver.url)
    day = (date.today() - timedelta(days=3)).isoformat()
    body = {
        "person": {"id": "1004"},
        "type": "WORK",
        "start": {"date_time": f"{day}T08:00:00"},
        "end": {"date_time": f"{day}T12:00:00"},
    }
    period = api.post("/v2/attendance-periods", json=body).json()["id"]
    api.patch(f"/v2/attendance-periods/{period}", json={"comment": "late"})
    api.delete(f"/v2/attendance-periods/{period}")
    absence = new_absence(api)
    api.patch(f"/v2/absence-periods/{absence}?skip_approval=true", json={"comment": "ok"})
    api.patch(f"/v2/absence-periods/{absence}", json={"comment": "only a comment"})
    admin.delivered()
    assert receiver.names() == [
        "attendance-period.created",
        "attendance-period.updated",
        "attendance-period.deleted",
        "absence-period.created",
        "absence-period.updated.status",  # approved; a changed comment fires nothing
    ]


def test_a_change_does_not_wait_for_its_delivery(
    api: httpx.Client, admin: Admin, receiver: Receiver
) -> None:
    register(api, receiver.url)
    receiver.release.clear()  # the receiver holds every request until released
    new_absence(api)  # answered while the delivery is still waiting
    assert admin.deliveries()["pending"] == 1
    receiver.release.set()
    assert [d["outcome"] for d in admin.delivered()] == ["200"]


def test_loaded_changes_are_delivered_as_person_and_period_events(
    api: httpx.Client, admin: Admin, receiver: Receiver
) -> None:
    register(api, receiver.url)
    state = admin.state()
    changed = copy.deepcopy(state)
    newcomer = copy.deepcopy(changed["employees"][0])
    newcomer["id"] = 4242
    changed["employees"].append(newcomer)
    changed["employees"][1]["attributes"]["email"] = "new@demo-gastro.example"
    changed["employees"][2]["attributes"]["position"] = "Head chef"
    gone = changed["absence_periods"].pop(0)
    admin.load(changed)
    admin.delivered()
    got = {(r.body["event_name"], r.body["payload"]["id"]) for r in receiver.received}
    assert got == {
        ("person.created", "4242"),
        ("employment.created", "4242"),
        ("person.updated", str(changed["employees"][1]["id"])),
        ("employment.updated", str(changed["employees"][2]["id"])),
        ("absence-period.deleted", gone["id"]),
    }
    admin.restart_counts()  # the same data loaded again: no event
    assert len(receiver.wait_for(6, timeout=0.3)) == 5


def test_failed_requests_are_retried_quickly_then_later_and_501_is_not(
    api: httpx.Client, admin: Admin
) -> None:
    with receiving([503, 500, 502, 200]) as receiver:
        hook = register(api, receiver.url)
        admin.emit("person.updated", {"id": "1004"})
        log = admin.delivered()
    assert [(d["attempt"], d["request"], d["outcome"]) for d in log] == [
        (1, 1, "503"),
        (1, 2, "500"),
        (2, 1, "502"),
        (2, 2, "200"),
    ]
    assert len(receiver.received) == 4
    with receiving([501, 404]) as receiver:
        admin.deliveries(clear=True)
        api.delete(f"/v2/webhooks/{hook['id']}")
        register(api, receiver.url)
        admin.emit("person.updated", {"id": "1004"})
        admin.emit("person.updated", {"id": "1005"})
        assert [d["outcome"] for d in admin.delivered()] == ["501", "404"]


def test_an_unacknowledged_delivery_times_out_and_is_sent_again(
    api: httpx.Client, admin: Admin
) -> None:
    admin.deliveries(ack_seconds=0.2, fast_attempts=1)
    with receiving([(200, 0.6), 200]) as receiver:
        register(api, receiver.url)
        admin.emit("person.deleted", {"id": "1004"})
        log = admin.delivered()
    assert [(d["attempt"], d["outcome"]) for d in log] == [(1, "timeout"), (2, "200")]
    assert receiver.received[0].body == receiver.received[1].body


def test_a_receiver_that_is_down_gets_the_event_once_it_is_up(
    api: httpx.Client, admin: Admin
) -> None:
    admin.deliveries(retry_delays=[0.3] * 6, fast_attempts=1)
    with receiving() as receiver:
        port = receiver.port
    register(api, receiver.url)  # nothing listens there any more
    admin.emit("person.created", {"id": "1004"})
    failed = wait_until(lambda: admin.deliveries()["deliveries"])
    assert failed[0]["outcome"].startswith("failed")
    assert admin.deliveries()["pending"] == 1
    with receiving(port=port) as again:
        log = admin.delivered()
        assert again.names() == ["person.created"]
    assert log[-1]["outcome"] == "200"


def wait_until(read: Callable[[], list[Any]], timeout: float = 5.0) -> list[Any]:
    deadline = time.monotonic() + timeout
    while not (found := read()) and time.monotonic() < deadline:
        time.sleep(0.01)
    return found


def test_duplicates_and_reordering_on_demand(
    api: httpx.Client, admin: Admin, receiver: Receiver
) -> None:
    register(api, receiver.url)
    admin.variants(webhook_duplicates="every_event")
    admin.emit("person.updated", {"id": "1004"})
    admin.delivered()
    assert len(receiver.received) == 2
    assert receiver.received[0].body == receiver.received[1].body
    receiver.received.clear()
    admin.variants(webhook_duplicates="none", webhook_order="reversed_pairs")
    admin.emit("person.created", {"id": "1"})
    admin.emit("person.updated", {"id": "1"})
    admin.delivered()
    assert receiver.names() == ["person.updated", "person.created"]


def test_a_lone_held_event_is_delivered_after_the_hold(
    api: httpx.Client, admin: Admin, receiver: Receiver
) -> None:
    admin.deliveries(reorder_hold_seconds=0.1)
    admin.variants(webhook_order="reversed_pairs")
    register(api, receiver.url)
    admin.emit("person.created", {"id": "1"})
    admin.delivered()
    assert receiver.names() == ["person.created"]


def test_an_event_by_hand_reaches_only_enabled_subscribed_webhooks(
    api: httpx.Client, admin: Admin, receiver: Receiver
) -> None:
    with receiving() as other, receiving() as custom:
        register(api, receiver.url, enabled_events=["absence-period.deleted"])
        register(api, other.url, status="DISABLED")
        register(
            api,
            custom.url,
            auth_type="CUSTOM",
            custom_headers={"X-Sync-Key": "k1"},
            token=None,
        )
        assert admin.emit("absence-period.deleted", {"id": "p1"}, company_id="999") == 2
        assert admin.emit("person.created", {"id": "1"}) == 1
        admin.delivered()
        assert other.received == []
        assert [(r.body["company_id"], r.body["payload"]) for r in receiver.received] == [
            ("999", {"id": "p1"})
        ]
        assert [r.headers.get("X-Sync-Key") for r in custom.received] == ["k1", "k1"]
        assert all("Authorization" not in r.headers for r in custom.received)


def test_deliveries_never_leave_loopback(api: httpx.Client, admin: Admin) -> None:
    register(api, "https://sync.example/events")
    admin.emit("person.created", {"id": "1"})
    assert [d["outcome"] for d in admin.delivered()] == [
        "not sent: the sandbox delivers to loopback addresses only"
    ]


def test_a_reset_drops_what_is_queued(api: httpx.Client, admin: Admin, receiver: Receiver) -> None:
    register(api, receiver.url)
    receiver.release.clear()
    admin.emit("person.created", {"id": "1"})
    admin.emit("person.created", {"id": "2"})
    threading.Timer(0.2, receiver.release.set).start()
    admin.reset("demo")
    assert admin.deliveries()["deliveries"] == []
    assert len(receiver.wait_for(2, timeout=0.5)) <= 1
