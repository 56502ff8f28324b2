"""``tap-staffomatic | target-personio`` after a lost ledger, under every value of the Personio
emulator's date filter switches (``absence_period_filters``, ``attendance_period_filters``): the
periods the target reads to link instead of creating again are found whichever periods the
filters return, so nothing is created twice and nothing is deleted."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from sandbox.admin import Admins
from sandbox.server import Sandbox
from sync_ledger import Ledger

from tests.target_personio.helpers import Harness
from tests.target_personio.test_confirm_variants import (
    WINDOW,
    h,
    last_run,
    long_absence,
    tap_output,
)

__all__ = ["h"]  # the fixture

FILTERS = ["overlapping", "as_named", "starting_inside"]


def links(h: Harness, entity: str) -> dict[str, Any]:
    with Ledger(h.ledger_url) as ledger:
        return {sid: link.dest_id for sid, link in ledger.links("staffomatic", entity).items()}


def assert_linked_again(h: Harness, entity: str, before: dict[str, Any]) -> None:
    """The links are back, naming the same periods, with nothing created, deleted or failed."""
    assert links(h, entity) == before
    logged = last_run(h)
    assert [a for a in logged if a.action in ("delete", "create", "fail")] == []
    assert {a.source_id for a in logged if a.action == "link"} == set(before)


@pytest.mark.parametrize("filters", FILTERS)
def test_long_absence_is_linked_again_after_a_lost_ledger(
    h: Harness,
    admins: Admins,
    sandbox: Sandbox,
    no_sleep: list[float],
    lose_ledger: Callable[[str], None],
    filters: str,
) -> None:
    aid = long_absence(admins)  # began 30 days ago, before the window of 10
    personio = h.state()
    personio["absence_periods"] = []
    h.load(personio)
    settings = {"absence_source": "staffomatic", **WINDOW, **h.staffomatic_source()}
    h.run(tap_output(sandbox, ("absences",), no_sleep), **settings)
    before = links(h, "absences")
    assert str(aid) in before
    periods = sorted(p["id"] for p in h.state()["absence_periods"])
    lose_ledger(h.ledger_url)

    admins.personio.variants(absence_period_filters=filters)
    h.run(tap_output(sandbox, ("absences",), no_sleep), **settings)

    assert sorted(p["id"] for p in h.state()["absence_periods"]) == periods
    assert_linked_again(h, "absences", before)


@pytest.mark.parametrize("filters", FILTERS)
def test_timers_are_linked_again_after_a_lost_ledger(
    h: Harness,
    admins: Admins,
    sandbox: Sandbox,
    no_sleep: list[float],
    lose_ledger: Callable[[str], None],
    filters: str,
) -> None:
    h.run(tap_output(sandbox, ("work_timers",), no_sleep), **h.staffomatic_source())
    before = links(h, "work_timers")
    assert before
    periods = sorted(p["id"] for p in h.state()["attendance_periods"])
    lose_ledger(h.ledger_url)

    admins.personio.variants(attendance_period_filters=filters)
    h.run(tap_output(sandbox, ("work_timers",), no_sleep), **h.staffomatic_source())

    assert sorted(p["id"] for p in h.state()["attendance_periods"]) == periods
    assert_linked_again(h, "work_timers", before)
