"""``tap-staffomatic | target-personio`` window deletes under every value of the emulators' date
filter switches (Staffomatic ``date_filters``, Personio ``attendance_period_filters``): a long
absence that began before the window and the timers of the window are never deleted in Personio
nor written twice, whichever records the filters return."""

from __future__ import annotations

import contextlib
import io
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import vendor_http.staffomatic_client
from sandbox.admin import Admins
from sandbox.server import Sandbox
from sync_ledger import Ledger
from tap_staffomatic.tap import TapStaffomatic

from sandbox import roster
from tests.target_personio.helpers import Harness

WINDOW = {"absence_window_past_days": 10, "absence_window_future_days": 30}


@pytest.fixture
def h(
    sandbox: Sandbox,
    admins: Admins,
    ledger_url: str,
    no_sleep: list[float],
    monkeypatch: pytest.MonkeyPatch,
) -> Any:
    monkeypatch.setattr(vendor_http.staffomatic_client, "_sleep", no_sleep.append)
    harness = Harness(sandbox, admins.personio, ledger_url, now=datetime.now(UTC))
    yield harness
    harness.close()


def tap_output(sandbox: Sandbox, streams: tuple[str, ...], no_sleep: list[float]) -> str:
    config = {
        "account": roster.STAFFOMATIC_ACCOUNT,
        "api_token": roster.STAFFOMATIC_API_TOKEN,
        "base_url": sandbox.staffomatic_api,
        "user_agent": "target-personio tests (tests@example.com)",
        **WINDOW,
        "window_activate_version": True,  # as the sync's extractors: a full read may remove
    }
    tap = TapStaffomatic(config=config, parse_env_config=False, sleep=no_sleep.append)
    for name, stream in tap.streams.items():
        stream.selected = name in ("account", "users", "absence_types", *streams)
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        tap.sync_all()
    return out.getvalue()


def last_run(h: Harness) -> list[Any]:
    with Ledger(h.ledger_url) as ledger:
        return ledger.actions(ledger.runs(limit=1)[0].id)


def long_absence(admins: Admins) -> int:
    """The seed's first Staffomatic absence, approved, from 30 days ago to 20 days ahead."""
    state = admins.staffomatic.state()
    record = state["absences"][0]
    now = datetime.now(UTC)
    record.update(
        state="approved",
        all_day=True,
        starts_at=(now - timedelta(days=30)).strftime("%Y-%m-%dT00:00:00+00:00"),
        ends_at=(now + timedelta(days=20)).strftime("%Y-%m-%dT23:59:59+00:00"),
    )
    admins.staffomatic.load(state)
    return int(record["id"])


@pytest.mark.parametrize("filters", ["overlapping", "starting_inside"])
def test_long_staffomatic_absence_is_neither_deleted_nor_duplicated(
    h: Harness, admins: Admins, sandbox: Sandbox, no_sleep: list[float], filters: str
) -> None:
    aid = long_absence(admins)
    personio = h.state()
    personio["absence_periods"] = []  # none of the seed's to overlap with
    h.load(personio)
    settings = {"absence_source": "staffomatic", **WINDOW, **h.staffomatic_source()}
    h.run(tap_output(sandbox, ("absences",), no_sleep), **settings)
    with Ledger(h.ledger_url) as ledger:
        assert str(aid) in ledger.links("staffomatic", "absences")
    before = sorted(p["id"] for p in h.state()["absence_periods"])

    admins.staffomatic.variants(date_filters=filters)
    h.run(tap_output(sandbox, ("absences",), no_sleep), **settings)

    assert sorted(p["id"] for p in h.state()["absence_periods"]) == before
    logged = last_run(h)
    assert [a for a in logged if a.action in ("delete", "create")] == []
    if filters == "starting_inside":  # the read missed it; Staffomatic still has it
        [held] = [a.reason for a in logged if a.source_id == str(aid)]
        assert "still exists (approved)" in held


@pytest.mark.parametrize("attendance", ["as_named", "overlapping", "starting_inside"])
@pytest.mark.parametrize("filters", ["overlapping", "starting_inside"])
def test_timers_are_neither_deleted_nor_duplicated(
    h: Harness,
    admins: Admins,
    sandbox: Sandbox,
    no_sleep: list[float],
    filters: str,
    attendance: str,
) -> None:
    h.run(tap_output(sandbox, ("work_timers",), no_sleep), **h.staffomatic_source())
    before = sorted(p["id"] for p in h.state()["attendance_periods"])
    assert before

    admins.staffomatic.variants(date_filters=filters)
    admins.personio.variants(attendance_period_filters=attendance)
    h.run(tap_output(sandbox, ("work_timers",), no_sleep), **h.staffomatic_source())

    assert sorted(p["id"] for p in h.state()["attendance_periods"]) == before
    assert [a for a in last_run(h) if a.action in ("delete", "create")] == []
