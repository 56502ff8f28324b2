"""overnight_periods against the sandbox's Personio accounts with and without overnight time
tracking (switch ``overnight_attendance``: ``allowed`` / ``refused``), and links rebuilt after a
lost ledger from either form."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import pytest

from tests.target_personio.helpers import (
    ANNA,
    BEN,
    Harness,
    singer_input,
    sqlite_url,
    timer,
)
from tests.target_personio.test_timers import (
    DST,
    DST_SPLIT,
    MIDNIGHT,
    MIDNIGHT_SPLIT,
    TWO_BREAKS,
    work_minutes,
)

BREAK_AT_MIDNIGHT = timer(
    5, BEN, "2024-10-28 23:00", "2024-10-29 07:00", ("2024-10-28 23:45", "2024-10-29 00:15")
)
BREAK_SPLIT = [
    ("WORK", "2024-10-28T23:00:00", "2024-10-28T23:45:00"),
    ("BREAK", "2024-10-28T23:45:00", "2024-10-29T00:00:00"),
    ("BREAK", "2024-10-29T00:00:00", "2024-10-29T00:15:00"),
    ("WORK", "2024-10-29T00:15:00", "2024-10-29T07:00:00"),
]
BREAK_WHOLE = [
    ("WORK", "2024-10-28T23:00:00", "2024-10-28T23:45:00"),
    ("BREAK", "2024-10-28T23:45:00", "2024-10-29T00:15:00"),
    ("WORK", "2024-10-29T00:15:00", "2024-10-29T07:00:00"),
]
MIDNIGHT_WHOLE = [("WORK", "2024-10-28T22:00:00", "2024-10-29T06:00:00")]
DST_WHOLE = [("WORK", "2024-10-26T22:00:00", "2024-10-27T06:00:00")]
NIGHTS = [MIDNIGHT, DST, BREAK_AT_MIDNIGHT]
FORMS = {
    "split": {"1011": MIDNIGHT_SPLIT, "1017": DST_SPLIT, "1002": BREAK_SPLIT},
    "whole": {"1011": MIDNIGHT_WHOLE, "1017": DST_WHOLE, "1002": BREAK_WHOLE},
}
TEXT = singer_input([*NIGHTS, TWO_BREAKS])


def night_rows(h: Harness) -> dict[str, list[tuple[str, str, str]]]:
    return {person: h.attendances(person) for person in ("1011", "1017", "1002")}


def no_duplicates(h: Harness) -> None:
    keys = Counter(
        (p["person"]["id"], p["type"], p["start"]["date_time"])
        for p in h.state()["attendance_periods"]
    )
    assert [key for key, count in keys.items() if count > 1] == []


@pytest.mark.parametrize("account", ["allowed", "refused"])
def test_split_night_shifts_sync_on_every_account(h: Harness, account: str) -> None:
    h.admin.variants(overnight_attendance=account)
    h.run(TEXT)
    assert night_rows(h) == FORMS["split"]
    assert work_minutes(h.attendances("1011")) == 8 * 60
    assert work_minutes(h.attendances("1017")) == 9 * 60  # the October DST night
    assert work_minutes(h.attendances("1002")) == 8 * 60 - 30
    assert len(h.attendances("1001")) == 5
    assert h.ledger().retries("staffomatic", "work_timers") == {}
    h.reset_counts()
    h.run(TEXT)
    assert h.writes() == 0
    no_duplicates(h)


def test_whole_night_shifts_sync_on_an_account_with_overnight_tracking(h: Harness) -> None:
    h.run(TEXT, overnight_periods="whole")
    assert night_rows(h) == FORMS["whole"]
    assert work_minutes(h.attendances("1017")) == 9 * 60
    h.reset_counts()
    h.run(TEXT, overnight_periods="whole")
    assert h.writes() == 0


def test_whole_night_shifts_fail_one_by_one_with_personios_reason_where_refused(
    h: Harness,
) -> None:
    h.admin.variants(overnight_attendance="refused")
    target = h.run(TEXT, overnight_periods="whole")
    assert target is not None
    # the day shift and the pieces before a refused one went through; nothing crosses midnight
    assert len(h.attendances("1001")) == 5
    assert night_rows(h) == {
        "1011": [],
        "1017": [],
        "1002": [("WORK", "2024-10-28T23:00:00", "2024-10-28T23:45:00")],
    }
    retries = h.ledger().retries("staffomatic", "work_timers")
    assert set(retries) == {"2", "3", "5"}
    for retry in retries.values():
        assert "HTTP 422" in retry.reason
        assert "crosses midnight" in retry.reason
    # the next run retries each once and creates nothing twice
    h.reset_counts()
    h.run(TEXT, overnight_periods="whole")
    # 2 and 3 once each; 5 its last WORK period (same day, created now) and its BREAK once
    assert h.requests()["by_endpoint"]["POST /v2/attendance-periods"] == 4
    assert [row[0] for row in h.attendances("1002")] == ["WORK", "WORK"]
    assert set(h.ledger().retries("staffomatic", "work_timers")) == {"2", "3", "5"}
    no_duplicates(h)
    # switching to split brings them in, the piece already there is kept
    h.run(TEXT)
    assert night_rows(h) == FORMS["split"]
    assert h.ledger().retries("staffomatic", "work_timers") == {}
    no_duplicates(h)


@pytest.mark.parametrize("form", ["split", "whole"])
def test_lost_ledger_relinks_periods_held_in_the_same_form(
    h: Harness, tmp_path: Path, form: str
) -> None:
    h.run(TEXT, overnight_periods=form)
    h.ledger_url = sqlite_url(tmp_path, "new-ledger.db")
    h.reset_counts()
    h.run(TEXT, overnight_periods=form)
    assert h.writes() == 0
    assert night_rows(h) == FORMS[form]
    links = h.ledger().links("staffomatic", "work_timers")
    assert set(links) == {"1", "2", "3", "5"}
    assert len(links["5"].data["periods"]) == len(FORMS[form]["1002"])


@pytest.mark.parametrize(("held", "asked"), [("whole", "split"), ("split", "whole")])
def test_lost_ledger_relinks_periods_held_in_the_other_form_and_reconciles_them(
    h: Harness, tmp_path: Path, held: str, asked: str
) -> None:
    h.run(TEXT, overnight_periods=held)
    before = {p["id"] for p in h.state()["attendance_periods"]}
    h.ledger_url = sqlite_url(tmp_path, "new-ledger.db")
    h.reset_counts()
    h.run(TEXT, overnight_periods=asked)
    assert night_rows(h) == FORMS[asked]
    no_duplicates(h)
    counts = h.requests()["by_endpoint"]
    # one cut or joined period per night shift, one more piece or one fewer per night shift
    assert counts.get("PATCH /v2/attendance-periods/{id}") == 3
    more = "POST /v2/attendance-periods"
    fewer = "DELETE /v2/attendance-periods/{id}"
    assert counts.get(more if asked == "split" else fewer) == 3
    after = {p["id"] for p in h.state()["attendance_periods"]}
    links = h.ledger().links("staffomatic", "work_timers")
    assert {p["id"] for link in links.values() for p in link.data["periods"]} == after
    assert len(before & after) == len(before) - (3 if asked == "whole" else 0)
    h.reset_counts()
    h.run(TEXT, overnight_periods=asked)
    assert h.writes() == 0


def test_a_day_shift_that_runs_past_midnight_later_gets_its_second_piece(h: Harness) -> None:
    h.admin.variants(overnight_attendance="refused")
    evening = timer(6, ANNA, "2024-10-28 17:00", "2024-10-28 23:30")
    h.run(singer_input([evening]))
    longer = timer(6, ANNA, "2024-10-28 17:00", "2024-10-29 01:00")
    h.reset_counts()
    h.run(singer_input([longer]))
    assert h.attendances("1001") == [
        ("WORK", "2024-10-28T17:00:00", "2024-10-29T00:00:00"),
        ("WORK", "2024-10-29T00:00:00", "2024-10-29T01:00:00"),
    ]
    counts = h.requests()["by_endpoint"]
    assert counts["PATCH /v2/attendance-periods/{id}"] == 1
    assert counts["POST /v2/attendance-periods"] == 1
    assert h.ledger().retries("staffomatic", "work_timers") == {}


@pytest.fixture
def h(harness: Harness) -> Harness:
    return harness
