"""``tap-personio | target-staffomatic`` window deletes under every value of the Personio
emulator's ``absence_period_filters`` switch: a long absence that began before the window is
never deleted in Staffomatic nor written twice, whichever periods the date filters return. And
recovery after a lost ledger under every value of the Staffomatic emulator's ``date_filters``
(the absences the target reads by ``from``/``until`` to link instead of creating again)."""

from __future__ import annotations

import io
import json
from collections.abc import Callable
from contextlib import redirect_stdout
from datetime import timedelta
from typing import Any

import pytest
import vendor_http.personio_client
from sandbox.admin import Admins
from sync_ledger import Ledger
from tap_personio.tap import TapPersonio

Kit = Any  # the conftest's Kit
LONG = "long-absence-before-the-window"
WINDOW = {"absence_window_past_days": 10, "absence_window_future_days": 30}


def tap_output(kit: Kit, no_sleep: list[float]) -> str:
    """What tap-personio sends for absence types and absences (a full window read)."""
    config = {
        "client_id": "demo-client-id",
        "client_secret": "demo-client-secret",
        "base_url": kit.sandbox.personio_url,
        **WINDOW,
        "window_activate_version": True,  # as the sync's extractors: a full read may remove
    }
    tap = TapPersonio(config=config, parse_env_config=False, sleep=no_sleep.append)
    for name, stream in tap.streams.items():
        stream.selected = name in ("absence_types", "absences")
    out = io.StringIO()
    with redirect_stdout(out):
        tap.sync_all()
    return out.getvalue()


def add_long_absence(admins: Admins, kit: Kit) -> None:
    """An approved vacation of Katharina (1011) from 30 days ago to 20 days ahead."""
    state = admins.personio.state()
    period = json.loads(json.dumps(state["absence_periods"][0]))
    first, last = kit.today() - timedelta(days=30), kit.today() + timedelta(days=20)
    period.update(
        id=LONG,
        person={"id": "1011"},
        starts_from={"date_time": f"{first}T00:00:00", "type": "FIRST_HALF"},
        ends_at={"date_time": f"{last}T00:00:00", "type": "SECOND_HALF"},
        approval={"status": "APPROVED"},
    )
    state["absence_periods"].append(period)
    admins.personio.load(state)


@pytest.mark.parametrize("filters", ["overlapping", "as_named", "starting_inside"])
def test_long_absence_is_neither_deleted_nor_duplicated_under_each_date_filter(
    kit: Kit,
    admins: Admins,
    no_sleep: list[float],
    monkeypatch: pytest.MonkeyPatch,
    filters: str,
) -> None:
    monkeypatch.setattr(vendor_http.personio_client, "_sleep", no_sleep.append)
    add_long_absence(admins, kit)
    settings = {**WINDOW, **kit.personio_source()}
    kit.run(kit.singer(kit.demo_employees()), **settings)
    kit.run(tap_output(kit, no_sleep), **settings)
    with Ledger(kit.ledger_url) as ledger:
        dest = int(ledger.links("personio", "absence")[LONG].dest_id)
    before = sorted(a["id"] for a in kit.state()["absences"])

    admins.personio.variants(absence_period_filters=filters)
    kit.run(tap_output(kit, no_sleep), **settings)

    assert sorted(a["id"] for a in kit.state()["absences"]) == before  # none gone, none added
    assert dest in before
    with Ledger(kit.ledger_url) as ledger:
        run = ledger.runs(limit=1)[0]
        logged = ledger.actions(run.id)
        assert LONG in ledger.links("personio", "absence")
    assert [a for a in logged if a.action in ("delete", "create")] == []
    held = [a.reason for a in logged if a.source_id == LONG]
    if filters == "starting_inside":  # the read missed it; Personio still has it
        assert len(held) == 1
        assert "still exists (status approved)" in held[0]


@pytest.mark.parametrize("filters", ["overlapping", "starting_inside"])
def test_long_absence_is_linked_again_after_a_lost_ledger_under_each_date_filter(
    kit: Kit,
    admins: Admins,
    no_sleep: list[float],
    monkeypatch: pytest.MonkeyPatch,
    lose_ledger: Callable[[str], None],
    filters: str,
) -> None:
    monkeypatch.setattr(vendor_http.personio_client, "_sleep", no_sleep.append)
    add_long_absence(admins, kit)
    settings = {**WINDOW, **kit.personio_source()}
    kit.run(kit.singer(kit.demo_employees()), **settings)
    kit.run(tap_output(kit, no_sleep), **settings)
    with Ledger(kit.ledger_url) as ledger:
        dest = ledger.links("personio", "absence")[LONG].dest_id
    before = sorted(a["id"] for a in kit.state()["absences"])
    lose_ledger(kit.ledger_url)

    admins.staffomatic.variants(date_filters=filters)
    kit.run(kit.singer(kit.demo_employees()), **settings)
    kit.run(tap_output(kit, no_sleep), **settings)

    assert sorted(a["id"] for a in kit.state()["absences"]) == before  # none gone, none added
    with Ledger(kit.ledger_url) as ledger:
        assert ledger.links("personio", "absence")[LONG].dest_id == dest
        logged = ledger.actions(ledger.runs(limit=1)[0].id)
    assert [a for a in logged if a.action in ("delete", "create", "fail")] == []
    assert [a.action for a in logged if a.source_id == LONG] == ["link"]
