"""tap-staffomatic under every value of the Staffomatic switches its streams meet.

Real HTTP against the session's sandbox. ``user_fields``: the tap derives each user's locations
from documented fields only, so its output is the same under both values, and right for a user
placed in a location through the documented path without any department there.
``adjusted_duration``: passed on as Staffomatic holds it, whether an update kept or recomputed it.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

import pytest
from sandbox.admin import Admin

from tests.tap_staffomatic.test_sandbox import api

Run = Any  # conftest.Run
UNDOCUMENTED = {"full_name", "shift_category_ids", "account_id", "invitation_token"}


@pytest.mark.parametrize("user_fields", ["documented", "extended"])
def test_users_carry_their_locations_under_every_user_fields_value(
    sandbox: Any,
    staffomatic: Admin,
    config: dict[str, Any],
    run_tap: Callable[..., Run],
    user_fields: str,
) -> None:
    staffomatic.variants(user_fields=user_fields)
    hamburg = next(
        loc["id"] for loc in staffomatic.state()["locations"] if loc["name"] == "Hamburg"
    )
    with api(sandbox) as client:
        placed = client.post(
            f"/locations/{hamburg}/users.json", json={"email": "placed@demo-gastro.example"}
        )
    assert placed.status_code == 201, placed.text
    assert ("location_ids" in placed.json()) is (user_fields == "extended")

    users = {row["id"]: row for row in run_tap(config, streams=("users",)).records("users")}

    stored = {u["id"]: sorted(u["location_ids"]) for u in staffomatic.state()["users"]}
    assert {uid: row["location_ids"] for uid, row in users.items()} == stored
    assert users[placed.json()["id"]]["location_ids"] == [hamburg]
    assert not UNDOCUMENTED & {key for row in users.values() for key in row}


@pytest.mark.parametrize("adjusted_duration", ["kept", "recomputed"])
def test_adjusted_duration_is_passed_on_as_staffomatic_holds_it(
    sandbox: Any,
    staffomatic: Admin,
    config: dict[str, Any],
    run_tap: Callable[..., Run],
    adjusted_duration: str,
) -> None:
    staffomatic.variants(adjusted_duration=adjusted_duration)
    moved = next(a for a in staffomatic.state()["absences"] if a["state"] == "new")
    later = datetime.fromisoformat(moved["ends_at"]) + timedelta(days=1)
    with api(sandbox) as client:
        answer = client.put(f"/absences/{moved['id']}.json", json={"ends_at": later.isoformat()})
    assert answer.status_code == 200, answer.text
    kept = answer.json()["adjusted_duration"] == moved["adjusted_duration"]
    assert kept is (adjusted_duration == "kept")

    rows = {r["id"]: r for r in run_tap(config, streams=("absences",)).records("absences")}

    assert rows[moved["id"]]["adjusted_duration"] == answer.json()["adjusted_duration"]
