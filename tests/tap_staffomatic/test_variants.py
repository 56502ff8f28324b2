"""tap-staffomatic under every value of ``user_fields``: the documented users, or the 2014 extras.

Real HTTP against the session's sandbox. The tap derives each user's locations from documented
fields only, so its output is the same under both values, and right for a user placed in a
location through the documented path without any department there.
"""

from __future__ import annotations

from collections.abc import Callable
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
