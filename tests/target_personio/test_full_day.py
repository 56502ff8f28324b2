"""Timers of exactly 24 hours against Personio accounts that take a period of exactly 24 h and
accounts that refuse it (switch ``attendance_24_hours``: no document says which), in both
``overnight_periods`` forms: each such period is sent as two halves, so both accounts take it,
nothing is lost or written twice, and a timer past 24 h is reported with its reason."""

from __future__ import annotations

from collections import Counter

import pytest

from tests.target_personio.helpers import (
    ANNA,
    BEN,
    KATHARINA,
    SEBASTIAN,
    Harness,
    singer_input,
    timer,
)
from tests.target_personio.test_timers import work_minutes

MIDNIGHT_TO_MIDNIGHT = timer(30, ANNA, "2024-10-28 00:00", "2024-10-29 00:00")
MORNING_TO_MORNING = timer(31, KATHARINA, "2024-10-28 08:00", "2024-10-29 08:00")
PAST_A_DAY = timer(32, SEBASTIAN, "2024-10-28 08:00", "2024-10-29 08:01")
DAY_SHIFT = timer(33, BEN, "2024-10-28 09:00", "2024-10-28 17:00")
TEXT = singer_input([MIDNIGHT_TO_MIDNIGHT, MORNING_TO_MORNING, PAST_A_DAY, DAY_SHIFT])
HALVES = [
    ("WORK", "2024-10-28T00:00:00", "2024-10-28T12:00:00"),
    ("WORK", "2024-10-28T12:00:00", "2024-10-29T00:00:00"),
]
MORNING = {
    "split": [
        ("WORK", "2024-10-28T08:00:00", "2024-10-29T00:00:00"),
        ("WORK", "2024-10-29T00:00:00", "2024-10-29T08:00:00"),
    ],
    "whole": [
        ("WORK", "2024-10-28T08:00:00", "2024-10-28T20:00:00"),
        ("WORK", "2024-10-28T20:00:00", "2024-10-29T08:00:00"),
    ],
}


@pytest.mark.parametrize("form", ["split", "whole"])
@pytest.mark.parametrize("full_day", ["accepted", "refused"])
def test_a_24_hour_timer_syncs_once_whether_personio_takes_a_full_day_or_not(
    harness: Harness, full_day: str, form: str
) -> None:
    h = harness
    h.admin.variants(attendance_24_hours=full_day)  # overnight periods allowed: `whole` may go
    h.run(TEXT, overnight_periods=form)
    assert h.attendances("1001") == HALVES
    assert h.attendances("1011") == MORNING[form]
    assert work_minutes(h.attendances("1001")) == work_minutes(h.attendances("1011")) == 24 * 60
    assert h.attendances("1002") == [("WORK", "2024-10-28T09:00:00", "2024-10-28T17:00:00")]
    # past 24 h: refused before it is sent, with the reason; nothing of it is written
    assert h.attendances("1017") == []
    retries = h.ledger().retries("staffomatic", "work_timers")
    assert set(retries) == {"32"}
    assert "a WORK period of 24.0 h is longer than the 24 h Personio allows" in retries["32"].reason
    assert "HTTP 422" not in retries["32"].reason
    # the next run writes nothing and duplicates nothing
    h.reset_counts()
    h.run(TEXT, overnight_periods=form)
    assert h.writes() == 0
    keys = Counter(
        (p["person"]["id"], p["start"]["date_time"]) for p in h.state()["attendance_periods"]
    )
    assert max(keys.values()) == 1
    assert set(h.ledger().retries("staffomatic", "work_timers")) == {"32"}
