"""The Staffomatic seeds hold the edge cases the sync must handle, whatever day they are built."""

from __future__ import annotations

from datetime import datetime, timedelta
from itertools import pairwise
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from sandbox.core import SandboxError
from sandbox.staffomatic import StaffomaticEmulator
from sandbox.staffomatic.seed import build_state

from sandbox import roster

BERLIN = ZoneInfo("Europe/Berlin")
NOWS = [
    datetime(2026, 3, 4, 12, 0, tzinfo=BERLIN),
    datetime(2025, 10, 26, 3, 30, tzinfo=BERLIN),  # the morning of a DST change
    datetime(2025, 11, 1, 0, 30, tzinfo=BERLIN),  # just after midnight
]


def at(value: str) -> datetime:
    return datetime.fromisoformat(value)


def by_custom_id(state: dict[str, Any]) -> dict[str | None, dict[str, Any]]:
    return {u["custom_id"]: u for u in state["users"]}


@pytest.mark.parametrize("now", NOWS, ids=str)
def test_demo_users_mirror_the_roster_edge_cases(now: datetime) -> None:
    state = build_state("demo", now)
    users = state["users"]
    assert len(users) == len(roster.USERS) + 1
    linked = by_custom_id(state)
    assert {int(k) for k in linked if k} == {p.id for p in roster.USERS if p.linked}
    emails = {u["email"] for u in users}
    assert f"Clara.Weber@{roster.DOMAIN.title()}" in emails
    assert None in emails  # Jonas Richter has no e-mail in Staffomatic
    assert [u["last_name"] for u in users if u["locked_at"]] == ["Lange"]
    api_user = users[0]
    assert (api_user["email"], api_user["role"]) == (roster.STAFFOMATIC_EMAIL, "admin")
    assert state["credentials"] == [
        {
            "user_id": api_user["id"],
            "password": roster.STAFFOMATIC_PASSWORD,
            "api_token": roster.STAFFOMATIC_API_TOKEN,
        }
    ]
    xaver = next(u for u in users if u["last_name"] == "Unbekannt")
    assert xaver["custom_id"] is None


def test_demo_has_two_locations_with_departments_and_absence_types() -> None:
    state = build_state("demo", NOWS[0])
    locations = {loc["id"]: loc["name"] for loc in state["locations"]}
    assert sorted(locations.values()) == ["Berlin", "Hamburg"]
    for location_id, name in locations.items():
        departments = {d["name"] for d in state["departments"] if d["location_id"] == location_id}
        assert departments == set(roster.DEPARTMENTS[name])
        types = {t["name"] for t in state["absence_types"] if t["location_id"] == location_id}
        assert types == {"Vacation", "Sick leave", "training"}


@pytest.mark.parametrize("now", NOWS, ids=str)
def test_demo_absences_cover_states_and_shapes_of_linked_users(now: datetime) -> None:
    state = build_state("demo", now)
    linked_ids = {u["id"] for u in state["users"] if u["custom_id"]}
    absences = state["absences"]
    assert {a["state"] for a in absences} == {"new", "approved", "declined"}
    assert {a["all_day"] for a in absences} == {True, False}
    assert any(at(a["ends_at"]).date() > at(a["starts_at"]).date() for a in absences)
    for absence in absences:
        assert absence["applicant_id"] in linked_ids
        assert now - timedelta(days=60) <= at(absence["ends_at"])
        assert at(absence["starts_at"]) <= now + timedelta(days=365)
        assert (absence["processed_at"] is None) == (absence["state"] == "new")


@pytest.mark.parametrize("now", NOWS, ids=str)
def test_demo_work_timers_cover_each_case(now: datetime) -> None:
    state = build_state("demo", now)
    timers = state["work_timers"]
    users = {u["id"]: u for u in state["users"]}
    assert all(
        users[t["user_id"]]["custom_id"] or users[t["user_id"]]["last_name"] == "Unbekannt"
        for t in timers
    )
    assert [t["state"] for t in timers].count("running") == 1
    assert [t["state"] for t in timers].count("stopped") == 1
    assert [t["state"] for t in timers].count("verified") >= 3
    finished = [t for t in timers if t["ends_at"]]
    dst = [t for t in finished if at(t["starts_at"]).utcoffset() != at(t["ends_at"]).utcoffset()]
    assert len(dst) == 1
    starts, ends = at(dst[0]["starts_at"]), at(dst[0]["ends_at"])
    assert ends - starts == timedelta(hours=9)
    assert (starts.month, starts.weekday(), starts.hour, ends.hour) == (10, 5, 22, 6)
    assert ends < now
    assert any(
        at(t["starts_at"]).date() != at(t["ends_at"]).date() for t in finished if t not in dst
    )
    for timer in finished:
        if timer in dst:
            continue
        assert at(timer["ends_at"]) < now - timedelta(hours=2)
        assert at(timer["starts_at"]) > now - timedelta(days=6)
    breaks: dict[int, int] = {}
    for item in state["break_timers"]:
        breaks[item["work_timer_id"]] = breaks.get(item["work_timer_id"], 0) + 1
    assert 2 in breaks.values()


def test_demo_is_deterministic_for_the_same_moment() -> None:
    assert build_state("demo", NOWS[0]) == build_state("demo", NOWS[0])


def test_dst_timer_lasts_nine_hours_in_the_api() -> None:
    emulator = StaffomaticEmulator("demo")
    timers = [emulator.render_work_timer(t) for t in emulator.state["work_timers"]]
    dst = [
        t
        for t in timers
        if t["ends_at"] and at(t["starts_at"]).utcoffset() != at(t["ends_at"]).utcoffset()
    ]
    assert [t["duration"] for t in dst] == [9 * 3600]


def test_scale_seed_is_sized_by_its_parameters() -> None:
    state = build_state(
        "scale", NOWS[0], employees=40, absences_per_employee=3, timers_per_week=5, weeks=2
    )
    people = roster.scale_people(40)
    with_user = [p for p in people if p.staffomatic_email]
    linked = [p for p in with_user if p.linked]
    assert len(state["users"]) == len(with_user) + 1
    assert len(state["absences"]) == 3 * len(linked)
    assert len(state["work_timers"]) == 10 * len(linked)
    assert len(state["break_timers"]) == len(state["work_timers"])
    assert {t["state"] for t in state["work_timers"]} == {"verified"}
    per_user: dict[int, list[tuple[datetime, datetime]]] = {}
    for timer in state["work_timers"]:
        per_user.setdefault(timer["user_id"], []).append(
            (at(timer["starts_at"]), at(timer["ends_at"]))
        )
    for spans in per_user.values():
        spans.sort()
        assert all(a[1] <= b[0] for a, b in pairwise(spans))


def test_empty_seed_holds_only_the_account_basics() -> None:
    state = build_state("empty", NOWS[0])
    assert [u["email"] for u in state["users"]] == [roster.STAFFOMATIC_EMAIL]
    assert len(state["locations"]) == 2
    assert state["absence_types"]
    assert not state["absences"]
    assert not state["work_timers"]


@pytest.mark.parametrize(
    ("seed", "params"),
    [
        ("nope", {}),
        ("demo", {"employees": 3}),
        ("scale", {"people": 3}),
        ("scale", {"employees": -1}),
        ("scale", {"weeks": "2"}),
        ("scale", {"timers_per_week": 15}),
    ],
)
def test_unknown_seed_or_bad_parameter_is_refused(seed: str, params: dict[str, Any]) -> None:
    with pytest.raises(SandboxError):
        build_state(seed, NOWS[0], **params)


def test_describe_names_the_account_and_its_credentials() -> None:
    text = "\n".join(StaffomaticEmulator("demo").describe())
    assert "demo" in text
    assert "Europe/Berlin" in text
    assert roster.STAFFOMATIC_EMAIL in text
    assert roster.STAFFOMATIC_PASSWORD in text
    assert roster.STAFFOMATIC_API_TOKEN in text


@pytest.mark.parametrize("now", NOWS, ids=str)
def test_the_scale_seed_is_history_with_one_latest_change(now: datetime) -> None:
    state = build_state("scale", now, employees=40, timers_per_week=7, weeks=2)
    timers = state["work_timers"]
    breaks: dict[int, list[dict[str, Any]]] = {}
    for item in state["break_timers"]:
        breaks.setdefault(item["work_timer_id"], []).append(item)
    # A timer's last change is its own or one of its breaks' (as tap-staffomatic counts it).
    changes = sorted(
        max(at(item["updated_at"]) for item in (timer, *breaks.get(timer["id"], ())))
        for timer in timers
    )
    latest = changes[-1]
    assert now - timedelta(hours=2) < latest <= now
    # The bookmark of a run right after seeding is that change; 240 minutes before it there is
    # no other, so an incremental run re-reads one timer, whatever the size.
    assert changes[-2] < latest - timedelta(minutes=240)
    for timer in timers:
        assert at(timer["created_at"]) <= at(timer["updated_at"])
