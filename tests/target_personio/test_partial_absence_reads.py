"""With ``absence_source: staffomatic``, a batch of changed absences reads Personio's absence
periods for the people its plans need only, one person per read (the reference gives no form
for several ids in ``person.id`` of this list), or the whole list when that is cheaper: the same
changes cost the same requests whatever the size of the company, and end as a full run ends."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from tests.target_personio.helpers import (
    ANNA,
    BEN,
    KATHARINA,
    SEBASTIAN,
    USERS,
    Harness,
    absence,
    at,
    more_people,
    singer_input,
    sqlite_url,
    unrelated_users,
)

STAFFOMATIC = {"absence_source": "staffomatic"}
VACATION = absence(1, ANNA, 71, "2024-11-04 00:00", "2024-11-06 23:59", "approved")
COURSE = absence(2, KATHARINA, 73, "2024-11-07 09:00", "2024-11-07 13:00", "approved", False)
TRIP = absence(3, SEBASTIAN, 71, "2024-11-11 00:00", "2024-11-12 23:59", "approved")
CHANGED = at("2024-10-30 09:00")
LONGER = {**VACATION, "ends_at": at("2024-11-08 23:59"), "updated_at": CHANGED}
DECLINED = {**COURSE, "state": "declined", "updated_at": CHANGED}
NEW = absence(4, BEN, 72, "2024-11-13 00:00", "2024-11-13 23:59", "approved")
CHANGES = [LONGER, DECLINED, NEW]
PEOPLE = ("1001", "1002", "1011", "1017")
HELD_DAY = "2024-11-20"
"""The day each of the other people has an absence in Personio."""


def demo_without_periods(h: Harness) -> dict[str, Any]:
    """The demo seed with no absence or attendance periods."""
    h.admin.reset("demo")
    state = h.state()
    state["absence_periods"] = []
    state["attendance_periods"] = []
    return state


def held(state: dict[str, Any], n: int) -> dict[str, Any]:
    """An approved one-day vacation in Personio of the ``n``-th of :func:`more_people`."""
    vacation = next(t["id"] for t in state["absence_types"] if t["name"] == "Vacation")
    return {
        "id": f"held-{n}",
        "person": {"id": str(100 + n)},
        "absence_type": {"id": vacation},
        "starts_from": {"date_time": f"{HELD_DAY}T00:00:00", "type": "FIRST_HALF"},
        "ends_at": {"date_time": f"{HELD_DAY}T00:00:00", "type": "SECOND_HALF"},
        "timezone_id": "Europe/Berlin",
        "comment": "",
        "approval": {"status": "APPROVED"},
        "substitute": None,
        "created_at": "2024-10-01T08:00:00Z",
        "updated_at": "2024-10-01T08:00:00Z",
    }


def company(h: Harness, extra: int) -> list[dict[str, Any]]:
    """The demo company without periods and ``extra`` more people, each with an absence in
    Personio in the window and a Staffomatic user; the users stream of that company."""
    state = demo_without_periods(h)
    more_people(state, extra)
    state["absence_periods"] = [held(state, n) for n in range(extra)]
    h.load(state)
    return USERS + unrelated_users(extra)


def staffomatic_twin(n: int) -> dict[str, Any]:
    """The Staffomatic absence of the ``n``-th other person that Personio already holds."""
    day = f"{HELD_DAY} 00:00", f"{HELD_DAY} 23:59"
    return absence(900 + n, 7000 + n, 71, *day, "approved")


def shape(periods: list[dict[str, Any]]) -> list[tuple[str, ...]]:
    return sorted(
        (
            p["absence_type"]["id"],
            p["starts_from"]["date_time"],
            p["starts_from"]["type"],
            p["ends_at"]["date_time"],
            p["ends_at"]["type"],
            p["approval"]["status"],
        )
        for p in periods
    )


def partial_run(h: Harness, tmp_path: Path, extra: int) -> tuple[dict[str, int], list[Any]]:
    """A full run of three absences, then a batch of changes (one changed, one declined, one
    new): the batch's requests by endpoint (auth left out) and the people's absences after."""
    users = company(h, extra)
    ledger = sqlite_url(tmp_path, f"ledger-{extra}.db")
    h.run(
        singer_input(absences=[VACATION, COURSE, TRIP], users=users),
        ledger_url=ledger,
        **STAFFOMATIC,
    )
    h.reset_counts()
    h.run(singer_input(absences=CHANGES, full=False, users=users), ledger_url=ledger, **STAFFOMATIC)
    requests = {key: n for key, n in h.requests()["by_endpoint"].items() if "/auth" not in key}
    return requests, [shape(h.absences(person)) for person in PEOPLE]


def test_a_batch_of_changed_absences_costs_the_same_requests_in_a_company_twice_the_size(
    harness: Harness, tmp_path: Path
) -> None:
    smaller, smaller_end = partial_run(harness, tmp_path, extra=400)
    larger, larger_end = partial_run(harness, tmp_path, extra=800)

    assert smaller == larger
    # Anna's periods (her changed absence is created again) and Ben's (his is new), one read
    # each; the declined absence of Katharina needs none: nothing of the 400 or 800 others.
    assert larger["GET /v2/absence-periods"] == 2
    assert larger["DELETE /v2/absence-periods/{id}"] == 2  # Anna's old period, Katharina's
    assert larger["POST /v2/absence-periods"] == 2  # Anna's longer one, Ben's
    assert smaller_end == larger_end


def test_a_batch_of_changed_absences_ends_as_a_full_run_of_the_same_absences_ends(
    harness: Harness, tmp_path: Path
) -> None:
    _, partial_end = partial_run(harness, tmp_path, extra=400)

    users = company(harness, 400)
    final = [LONGER, DECLINED, TRIP, NEW]
    full = sqlite_url(tmp_path, "full.db")
    harness.run(singer_input(absences=final, users=users), ledger_url=full, **STAFFOMATIC)

    assert [shape(harness.absences(person)) for person in PEOPLE] == partial_end
    vacation, sick = harness.type_id("Vacation"), harness.type_id("Sick leave")
    anna, ben, katharina, sebastian = partial_end
    assert anna == [
        (
            vacation,
            "2024-11-04T00:00:00",
            "FIRST_HALF",
            "2024-11-08T00:00:00",
            "SECOND_HALF",
            "APPROVED",
        )
    ]
    assert ben == [
        (
            sick,
            "2024-11-13T00:00:00",
            "FIRST_HALF",
            "2024-11-13T00:00:00",
            "SECOND_HALF",
            "APPROVED",
        )
    ]
    assert katharina == []
    assert len(sebastian) == 1
    assert len(harness.state()["absence_periods"]) == 400 + 3  # the others' are untouched


def test_an_absence_personio_already_holds_is_linked_after_reading_only_its_person(
    harness: Harness,
) -> None:
    users = company(harness, 400)
    harness.run(singer_input(absences=[VACATION], users=users), **STAFFOMATIC)
    harness.reset_counts()

    twins = [staffomatic_twin(7), staffomatic_twin(300)]
    harness.run(singer_input(absences=twins, full=False, users=users), **STAFFOMATIC)

    assert harness.requests()["by_endpoint"]["GET /v2/absence-periods"] == 2
    assert harness.writes() == 0  # linked, not created again
    assert len(harness.state()["absence_periods"]) == 400 + 1
    links = harness.ledger().links("staffomatic", "absences")
    assert {links["907"].dest_id, links["1200"].dest_id} == {"held-7", "held-300"}


def test_many_changed_people_read_the_whole_list_when_it_is_cheaper(
    harness: Harness, tmp_path: Path
) -> None:
    users = company(harness, 250)
    ledger = sqlite_url(tmp_path)
    harness.run(singer_input(absences=[VACATION], users=users), ledger_url=ledger, **STAFFOMATIC)
    harness.reset_counts()

    twins = [staffomatic_twin(n) for n in range(0, 200, 20)]  # ten people, three pages
    harness.run(
        singer_input(absences=twins, full=False, users=users), ledger_url=ledger, **STAFFOMATIC
    )

    pages = -(-len(harness.state()["absence_periods"]) // 100)
    assert harness.requests()["by_endpoint"]["GET /v2/absence-periods"] == pages
    assert harness.writes() == 0  # each found in the list and linked
    assert len(harness.state()["absence_periods"]) == 250 + 1


def test_without_a_page_count_kept_the_list_is_read_and_its_pages_kept_for_the_next_runs(
    harness: Harness,
) -> None:
    users = company(harness, 250)

    harness.run(singer_input(absences=[NEW], full=False, users=users), **STAFFOMATIC)

    # No run has read the list yet and no absence is linked (about one page, then): the one
    # person is not fewer than the list's pages, so the whole list is read, and its pages kept.
    assert harness.requests()["by_endpoint"]["GET /v2/absence-periods"] == -(-250 // 100)
    harness.reset_counts()
    harness.run(singer_input(absences=[TRIP], full=False, users=users), **STAFFOMATIC)
    assert harness.requests()["by_endpoint"]["GET /v2/absence-periods"] == 1  # Sebastian's
    assert len(shape(harness.absences("1002"))) == len(shape(harness.absences("1017"))) == 1
