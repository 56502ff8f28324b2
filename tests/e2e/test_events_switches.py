"""The receiver end to end under the sandbox's delivery switches, one at a time: every event
delivered twice (``webhook_duplicates=every_event``), and each event held back until the next
one has been delivered (``webhook_order=reversed_pairs``), so a deletion arrives before the
change that preceded it. (Both at once would pair each event with its own copy: nothing would
come out of order.) Whatever arrives, Staffomatic ends up as one correct sync leaves it, and
nothing more is written.

The helpers (receiver, registration, Personio edits, waits) are those of ``test_events.py``.
"""

from __future__ import annotations

import time
from collections import Counter
from typing import Any

import pytest
from sandbox.admin import Admin

from tests.e2e.helpers import delete_absence_period, state, writes
from tests.e2e.test_events import (
    NEW_PERSON,
    PERIOD,
    PERSON,
    add_period,
    add_person,
    change_period,
    ends_on,
    events,
    free_port,
    receiver,
    register,
    synced_absence,
    wait_for,
)

pytestmark = pytest.mark.slow


def absences_of(sync: Any, person: str) -> set[str]:
    """Ids of the Staffomatic absences of the user linked to Personio ``person``."""
    data = state(sync.staffomatic)
    users = {u["id"] for u in data["users"] if u.get("custom_id") == person}
    return {str(a["id"]) for a in data["absences"] if a.get("applicant_id") in users}


def users_of(sync: Any, person: str) -> list[dict[str, Any]]:
    return [u for u in state(sync.staffomatic)["users"] if u.get("custom_id") == person]


def quiet(sync: Any) -> bool:
    """No delivery queued in the sandbox and no event waiting in the receiver."""
    with Admin(sync.personio) as admin:
        pending = admin.deliveries()["pending"]
    return not pending and events(sync)["pending"] == 0


def settle(sync: Any) -> None:
    """Wait until deliveries and runs are over, twice over a few seconds (a held event or a
    coalesced run may still follow the first quiet moment)."""
    wait_for(lambda: quiet(sync), 120, "deliveries or events left pending")
    time.sleep(4)
    wait_for(lambda: quiet(sync), 120, "deliveries or events left pending")


@pytest.mark.parametrize(
    ("duplicates", "order"), [("every_event", "in_order"), ("none", "reversed_pairs")]
)
def test_duplicated_or_reordered_deliveries_give_one_correct_sync_and_nothing_more(
    sync: Any, duplicates: str, order: str
) -> None:
    with Admin(sync.personio) as admin:
        admin.variants(webhook_duplicates=duplicates, webhook_order=order)
        admin.deliveries(reorder_hold_seconds=10)  # long enough to pair a change and a delete
    port = free_port()
    register(sync, port)
    before = absences_of(sync, PERSON)
    with receiver(sync, port):
        add_person(sync)
        add_period(sync, 10, 11)
        wait_for(lambda: users_of(sync, NEW_PERSON), 120, "the new hire has no user")
        wait_for(lambda: ends_on(synced_absence(sync), 11), 120, "the absence was not created")
        settle(sync)
        assert len(users_of(sync, NEW_PERSON)) == 1
        created = absences_of(sync, PERSON) - before
        assert len(created) == 1
        absence = synced_absence(sync)
        assert absence is not None
        assert str(absence["id"]) in created
        written = writes(sync.staffomatic)
        settle(sync)
        assert writes(sync.staffomatic) == written  # duplicates and late events write nothing

        # changed, then deleted at once: the deletion is delivered before the change
        change_period(sync, 10, 12)
        delete_absence_period(sync.personio, PERIOD)
        wait_for(lambda: absences_of(sync, PERSON) == before, 120, "the absence was not deleted")
        settle(sync)
        assert absences_of(sync, PERSON) == before  # the late change brought nothing back
        assert len(users_of(sync, NEW_PERSON)) == 1
        written = writes(sync.staffomatic)
        settle(sync)
        assert writes(sync.staffomatic) == written
    with Admin(sync.personio) as admin:
        delivered = [d for d in admin.delivered(timeout=30) if d.get("status") == 200]
    # the switch was on: every event arrived twice, or the deletion before the change
    bodies = Counter((d["event_name"], d["occurred_at"], str(d["payload"])) for d in delivered)
    assert min(bodies.values()) == (2 if duplicates == "every_event" else 1)
    names = [d["event_name"] for d in delivered if d["payload"].get("id") == PERIOD]
    deleted = names.index("absence-period.deleted")
    changed = names.index("absence-period.updated.timerange")
    assert (deleted < changed) == (order == "reversed_pairs")
