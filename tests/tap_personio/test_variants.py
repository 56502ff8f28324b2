"""tap-personio under every value of the Personio switches it depends on.

``token_generations``: v1 and v2 tokens refused by the other generation's endpoints (as the
documents describe two token endpoints), or shared. ``expired_attendance_status``: a period in
the ``EXPIRED`` state a third-party client lists, with the filter known or refused. Real HTTP
against the session's sandbox.
"""

from __future__ import annotations

import copy
from collections.abc import Callable
from typing import Any

import pytest
from sandbox.admin import Admin

from tests.tap_personio.conftest import records

Sync = Callable[..., tuple[list[dict[str, Any]], dict[str, Any]]]
STREAMS = ["employees", "absence_types", "absences", "attendances"]


@pytest.mark.parametrize("token_generations", ["separate", "shared"])
def test_every_stream_is_read_with_one_token_per_generation(
    admin: Admin, config: dict[str, Any], sync: Sync, no_sleep: list[float], token_generations: str
) -> None:
    admin.variants(token_generations=token_generations)
    state = admin.state()

    messages, _ = sync(config, streams=STREAMS)

    assert len(records(messages, "employees")) == len(state["employees"])
    assert len(records(messages, "absence_types")) == len(state["absence_types"])
    assert {r["id"] for r in records(messages, "absences")} <= {
        p["id"] for p in state["absence_periods"]
    }
    assert records(messages, "absences")
    assert records(messages, "attendances")
    counts = admin.requests()["by_endpoint"]
    assert counts["POST /v1/auth"] == counts["POST /v2/auth/token"] == 1  # no 403, no renewal


@pytest.mark.parametrize("expired_attendance_status", ["listed", "unknown"])
def test_an_expired_attendance_period_is_passed_on_as_it_is(
    admin: Admin,
    config: dict[str, Any],
    sync: Sync,
    no_sleep: list[float],
    expired_attendance_status: str,
) -> None:
    state = admin.state()
    expired = copy.deepcopy(state["attendance_periods"][0])
    expired["id"] = "expired-period"
    expired["approval"] = {"status": "EXPIRED"}
    state["attendance_periods"].append(expired)
    state["variants"]["expired_attendance_status"] = expired_attendance_status
    admin.load(state)

    messages, _ = sync(config, streams=["attendances"])

    rows = {r["id"]: r for r in records(messages, "attendances")}
    assert rows["expired-period"]["approval_status"] == "EXPIRED"
    assert set(rows) == {str(p["id"]) for p in state["attendance_periods"]}
