"""A batch of changes reads Personio for its own people only: the same changes cost the same
requests whatever the size of the company, and end as a full run ends."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from tests.target_personio.helpers import (
    ANNA,
    BEN,
    KATHARINA,
    SEBASTIAN,
    USERS,
    XAVER,
    Harness,
    at,
    hand_made_period,
    more_people,
    singer_input,
    sqlite_url,
    timer,
    unrelated_users,
)

T1 = timer(
    1, ANNA, "2024-10-29 08:00", "2024-10-29 16:00", ("2024-10-29 12:00", "2024-10-29 12:30")
)
T2 = timer(2, BEN, "2024-10-29 07:00", "2024-10-29 15:00")
T3 = timer(3, KATHARINA, "2024-10-28 22:00", "2024-10-29 06:00")
T1_SHORTER = {
    **T1,
    "ends_at": T1["ends_at"].replace("16:00", "15:30"),
    "updated_at": at("2024-10-29 17:00"),
}
T1_SHORTER["duration"] -= 1800
T1_SHORTER["net_duration"] -= 1800
T4 = timer(4, SEBASTIAN, "2024-10-29 09:00", "2024-10-29 13:00")
CHANGES = [T1_SHORTER, T4]
PEOPLE = ("1001", "1002", "1011", "1017")


def company(h: Harness, extra: int) -> list[dict[str, Any]]:
    """The demo company with ``extra`` more people (:func:`more_people`), each with a period in
    the timers' window; the users stream of that company."""
    state = h.state()
    more_people(state, extra)
    for n in range(extra):
        state["attendance_periods"].append(
            hand_made_period(f"u-{n}", str(100 + n), "2024-10-29", "08:00", "12:00")
        )
    h.load(state)
    return USERS + unrelated_users(extra)


def partial_run(h: Harness, tmp_path: Path, extra: int) -> tuple[dict[str, int], list[Any]]:
    """A full run of three timers, then a batch of changes: the batch's requests by endpoint
    (auth left out) and the people's periods at the end."""
    users = company(h, extra)
    ledger = sqlite_url(tmp_path, f"ledger-{extra}.db")
    h.run(singer_input([T1, T2, T3], users=users), ledger_url=ledger)
    h.reset_counts()
    h.run(singer_input(CHANGES, full=False, users=users), ledger_url=ledger)
    requests = {key: n for key, n in h.requests()["by_endpoint"].items() if "/auth" not in key}
    return requests, [h.attendances(person) for person in PEOPLE]


def test_a_batch_of_changes_costs_the_same_requests_in_a_company_twice_the_size(
    harness: Harness, tmp_path: Path
) -> None:
    smaller, smaller_end = partial_run(harness, tmp_path, extra=400)
    harness.load(harness_state_without_periods(harness))
    larger, larger_end = partial_run(harness, tmp_path, extra=800)

    assert smaller == larger
    # The first page of the employee list, the two changed people by id, and their periods
    # (one read names both people): nothing of the 400 or 800 others.
    assert larger["GET /v1/company/employees"] == 1
    assert larger["GET /v1/company/employees/{employee_id}"] == 2
    assert larger["GET /v2/attendance-periods"] == 1
    assert smaller_end == larger_end


def test_a_batch_of_changes_ends_as_a_full_run_of_the_same_timers_ends(
    harness: Harness, tmp_path: Path
) -> None:
    initial = harness_state_without_periods(harness)
    harness.load(initial)
    _, partial_end = partial_run(harness, tmp_path, extra=400)

    harness.load(initial)
    users = company(harness, 400)
    final = [T1_SHORTER, T2, T3, T4]
    harness.run(singer_input(final, users=users), ledger_url=sqlite_url(tmp_path, "full.db"))

    assert [harness.attendances(person) for person in PEOPLE] == partial_end
    assert partial_end[0][-1] == ("WORK", "2024-10-29T12:30:00", "2024-10-29T15:30:00")
    assert partial_end[3] == [("WORK", "2024-10-29T09:00:00", "2024-10-29T13:00:00")]


def test_a_user_no_person_matches_is_looked_for_in_the_whole_list(
    harness: Harness, tmp_path: Path
) -> None:
    users = company(harness, 250)
    ledger = sqlite_url(tmp_path)
    harness.run(singer_input([T1], users=users), ledger_url=ledger)
    harness.reset_counts()

    stranger = timer(9, XAVER, "2024-10-29 08:00", "2024-10-29 12:00")
    harness.run(singer_input([stranger], full=False, users=users), ledger_url=ledger)

    by_endpoint = harness.requests()["by_endpoint"]
    # The first page, the e-mail read that found nobody, then the other pages of the list.
    pages = -(-(len(harness.state()["employees"])) // 100)
    assert by_endpoint["GET /v1/company/employees"] == 1 + 1 + (pages - 1)
    assert harness.attendances("1001")  # the earlier timer is untouched
    assert harness.writes() == 0


def test_many_changed_users_read_the_whole_list_when_it_is_cheaper(
    harness: Harness, tmp_path: Path
) -> None:
    users = company(harness, 250)
    ledger = sqlite_url(tmp_path)
    many = [
        timer(100 + n, 7000 + n, "2024-10-29 08:00", "2024-10-29 12:00") for n in range(0, 200, 20)
    ]
    harness.run(singer_input([T1], users=users), ledger_url=ledger)
    harness.reset_counts()

    harness.run(singer_input(many, full=False, users=users), ledger_url=ledger)

    by_endpoint = harness.requests()["by_endpoint"]
    pages = -(-(len(harness.state()["employees"])) // 100)
    assert by_endpoint["GET /v1/company/employees"] == pages  # 10 users, fewer pages
    assert "GET /v1/company/employees/{employee_id}" not in by_endpoint
    # Each new timer matches the period its person already has: linked, not created again.
    assert len(harness.state()["attendance_periods"]) == 250 + 3
    assert harness.writes() == 0


def harness_state_without_periods(h: Harness) -> dict[str, Any]:
    """The demo seed as the harness loads it (no attendance periods)."""
    h.admin.reset("demo")
    state = h.state()
    state["attendance_periods"] = []
    return state


def with_identity(record: dict[str, Any], users: list[dict[str, Any]]) -> dict[str, Any]:
    """A timer as tap-staffomatic sends it with ``user_custom_id`` and ``user_email`` selected."""
    user = next(u for u in users if u["id"] == record["user_id"])
    return {**record, "user_custom_id": user["custom_id"], "user_email": user["email"]}


def partial_run_without_users(h: Harness, tmp_path: Path, extra: int) -> dict[str, int]:
    """``partial_run`` with the users' identity on the timers and no users stream."""
    users = company(h, extra)
    ledger = sqlite_url(tmp_path, f"ledger-identity-{extra}.db")
    full = [with_identity(t, users) for t in (T1, T2, T3)]
    h.run(singer_input(full, users=[]), ledger_url=ledger)
    h.reset_counts()
    changes = [with_identity(t, users) for t in CHANGES]
    h.run(singer_input(changes, full=False, users=[]), ledger_url=ledger)
    return {key: n for key, n in h.requests()["by_endpoint"].items() if "/auth" not in key}


def test_timers_that_carry_their_users_identity_need_no_users_stream(
    harness: Harness, tmp_path: Path
) -> None:
    initial = harness_state_without_periods(harness)
    harness.load(initial)
    with_users, with_users_end = partial_run(harness, tmp_path, extra=400)
    harness.load(initial)
    smaller = partial_run_without_users(harness, tmp_path, extra=400)
    smaller_end = [harness.attendances(person) for person in PEOPLE]
    harness.load(initial)
    larger = partial_run_without_users(harness, tmp_path, extra=800)

    assert smaller == larger == with_users
    assert smaller_end == with_users_end
    assert smaller_end[3] == [("WORK", "2024-10-29T09:00:00", "2024-10-29T13:00:00")]


def test_a_timer_of_a_user_with_no_custom_id_maps_by_the_e_mail_it_carries(
    harness: Harness, tmp_path: Path
) -> None:
    # Ben's user has no custom_id (target-staffomatic never linked him) and an e-mail in
    # another case with a trailing space: the e-mail on the timer finds his person.
    ben = with_identity(T2, USERS)
    assert ben["user_custom_id"] is None
    harness.run(singer_input([ben], users=[]), ledger_url=sqlite_url(tmp_path))

    assert harness.attendances("1002") == [("WORK", "2024-10-29T07:00:00", "2024-10-29T15:00:00")]
