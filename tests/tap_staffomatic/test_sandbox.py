"""tap-staffomatic against the Staffomatic emulator over loopback: data, windows, state, faults."""

from __future__ import annotations

import copy
from collections import Counter
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from sandbox.admin import Admin
from vendor_http.pacing import Limit

from sandbox import roster

Run = Any  # conftest.Run


def requests_to(staffomatic: Admin, endpoint: str) -> int:
    return int(staffomatic.counts().get(f"GET /v3/{{account}}/{endpoint}", 0))


def api(sandbox: Any) -> httpx.Client:
    """A client of the emulated Staffomatic API itself, as the demo API user."""
    return httpx.Client(
        base_url=f"{sandbox.staffomatic_api}/{roster.STAFFOMATIC_ACCOUNT}",
        auth=(roster.STAFFOMATIC_EMAIL, roster.STAFFOMATIC_PASSWORD),
        headers={"User-Agent": "tap-staffomatic tests (tests@example.com)"},
        timeout=30,
    )


def ago(**delta: float) -> str:
    return (datetime.now(UTC) - timedelta(**delta)).isoformat(timespec="seconds")


def instant(value: str) -> datetime:
    return datetime.fromisoformat(value)


def by_id(rows: list[dict[str, Any]]) -> dict[int, dict[str, Any]]:
    return {row["id"]: row for row in rows}


def test_users_include_locked_ones_with_custom_id_and_location_ids(
    staffomatic: Admin, config: dict[str, Any], run_tap: Callable[..., Run]
) -> None:
    users = by_id(run_tap(config, streams=("users",)).records("users"))

    stored = staffomatic.state()["users"]
    assert set(users) == {user["id"] for user in stored}
    locked = [u for u in users.values() if u["locked_at"]]
    assert [(u["first_name"], u["last_name"]) for u in locked] == [("Uwe", "Lange")]
    anna = next(u for u in users.values() if u["first_name"] == "Anna")
    assert anna["custom_id"] == "1001"
    assert anna["email"] == "anna.schmidt@demo-gastro.example"
    assert anna["department_ids"]
    locations = {d["id"]: d["location_id"] for d in staffomatic.state()["departments"]}
    assert anna["location_ids"] == [locations[anna["department_ids"][0]]]


def test_reference_streams_carry_their_location_and_the_account_its_time_zone(
    config: dict[str, Any], run_tap: Callable[..., Run], staffomatic: Admin
) -> None:
    run = run_tap(config, streams=("account", "locations", "departments", "absence_types"))

    (account,) = run.records("account")
    assert account["subdomain"] == roster.STAFFOMATIC_ACCOUNT
    assert account["time_zone"] == roster.COMPANY_TIME_ZONE
    location_ids = {row["id"] for row in run.records("locations")}
    assert len(location_ids) == len(roster.OFFICES)
    assert {row["location_id"] for row in run.records("departments")} == location_ids
    assert {row["location_id"] for row in run.records("absence_types")} == location_ids
    assert len(run.records("absence_types")) == len(staffomatic.state()["absence_types"])


@pytest.mark.parametrize(("total", "pages"), [(100, 1), (101, 2)])
def test_paging_reads_every_user_once_at_100_and_101_users(
    staffomatic: Admin,
    config: dict[str, Any],
    run_tap: Callable[..., Run],
    total: int,
    pages: int,
) -> None:
    document = staffomatic.state()
    template = document["users"][0]  # the API user, who signs in
    extra = []
    for n in range(1, total):
        user = copy.deepcopy(template)
        user |= {"id": template["id"] + 1000 + n, "email": f"user{n}@paging.example",
                 "role": "staff", "account_owner": False, "custom_id": str(5000 + n)}  # fmt: skip
        extra.append(user)
    document["users"] = [template, *extra]
    staffomatic.load(document)

    rows = run_tap(config, streams=("users",)).records("users")

    ids = [row["id"] for row in rows]
    assert len(ids) == total
    assert set(ids) == {user["id"] for user in document["users"]}
    assert requests_to(staffomatic, "users.json") == pages


def test_breaks_are_embedded_from_one_break_timer_list(
    staffomatic: Admin, config: dict[str, Any], run_tap: Callable[..., Run]
) -> None:
    timers = by_id(run_tap(config, streams=("work_timers",)).records("work_timers"))

    stored = staffomatic.state()["break_timers"]
    for timer in timers.values():
        expected = sorted(
            (b for b in stored if b["work_timer_id"] == timer["id"]),
            key=lambda b: instant(b["starts_at"]),
        )
        assert [b["id"] for b in timer["breaks"]] == [b["id"] for b in expected]
        for got, want in zip(timer["breaks"], expected, strict=True):
            assert instant(got["starts_at"]) == instant(want["starts_at"])
            assert instant(got["ends_at"]) == instant(want["ends_at"])
    assert max(len(t["breaks"]) for t in timers.values()) == 2
    assert requests_to(staffomatic, "break_timers.json") == 1
    assert requests_to(staffomatic, "work_timers/{work_timer_id}/break_timers.json") == 0


def test_timers_across_midnight_and_the_dst_change_keep_their_exact_instants(
    staffomatic: Admin, config: dict[str, Any], run_tap: Callable[..., Run]
) -> None:
    run = run_tap({**config, "timer_window_days": 400}, streams=("work_timers",))
    timers = [t for t in run.records("work_timers") if t["ends_at"]]

    def hours(timer: dict[str, Any]) -> float:
        return (instant(timer["ends_at"]) - instant(timer["starts_at"])).total_seconds() / 3600

    night = [t for t in timers if instant(t["starts_at"]).date() != instant(t["ends_at"]).date()]
    dst = [t for t in night if t["starts_at"][-6:] != t["ends_at"][-6:]]
    assert len(dst) == 1
    (change,) = dst
    assert (change["starts_at"][-6:], change["ends_at"][-6:]) == ("+02:00", "+01:00")
    assert change["starts_at"][11:19] == "22:00:00"
    assert change["ends_at"][11:19] == "06:00:00"
    assert hours(change) == 9.0
    assert change["duration"] == 9 * 3600
    midnight = [t for t in night if t is not change and t["starts_at"][11:13] == "22"]
    assert midnight
    assert all(hours(t) == 8.0 for t in midnight)
    stored = by_id(staffomatic.state()["work_timers"])
    for timer in timers:
        assert instant(timer["starts_at"]) == instant(stored[timer["id"]]["starts_at"])
        assert instant(timer["ends_at"]) == instant(stored[timer["id"]]["ends_at"])


def test_a_full_read_wraps_each_window_in_two_activate_versions(
    config: dict[str, Any], run_tap: Callable[..., Run]
) -> None:
    framed = {**config, "window_activate_version": True}
    run = run_tap(framed, streams=("absences", "work_timers", "users"))

    for stream in ("absences", "work_timers"):
        kinds = [kind for kind in run.types(stream) if kind != "STATE"]
        assert kinds[:2] == ["SCHEMA", "ACTIVATE_VERSION"]
        assert kinds[-1] == "ACTIVATE_VERSION"
        assert set(kinds[2:-1]) == {"RECORD"}
        activations = [m for m in run.of(stream) if m["type"] == "ACTIVATE_VERSION"]
        versions = {m["version"] for m in activations}
        assert len(activations) == 2
        assert len(versions) == 1
        assert {m["version"] for m in run.of(stream) if m["type"] == "RECORD"} == versions
    assert "ACTIVATE_VERSION" not in run.types("users")


def test_absences_of_every_state_in_the_window_with_user_and_type_name(
    staffomatic: Admin, config: dict[str, Any], run_tap: Callable[..., Run]
) -> None:
    rows = run_tap(config, streams=("absences",)).records("absences")

    stored = staffomatic.state()
    names = {t["id"]: t["name"] for t in stored["absence_types"]}
    assert {row["state"] for row in rows} == {"new", "approved", "declined"}
    assert len(rows) == len(stored["absences"])  # the demo's absences all lie in the window
    for row in rows:
        assert row["user_id"] == row["applicant_id"]
        assert row["absence_type_name"] == names[row["absence_type_id"]]
    whole_days = [row for row in rows if row["all_day"]]
    assert all(row["starts_at"][11:19] == "00:00:00" for row in whole_days)


def test_an_incremental_run_emits_only_changes_plus_the_lookback(
    sandbox: Any,
    staffomatic: Admin,
    config: dict[str, Any],
    run_tap: Callable[..., Run],
) -> None:
    config = {**config, "window_activate_version": True}  # even then: none on increments
    document = staffomatic.state()
    for collection in ("absences", "work_timers", "break_timers"):
        for item in document[collection]:
            item["updated_at"] = ago(days=10)
    absences, timers = document["absences"], document["work_timers"]
    latest, in_lookback, outside = absences[0], absences[1], absences[2]
    latest["updated_at"] = ago(days=2)
    in_lookback["updated_at"] = ago(days=2, hours=3)
    outside["updated_at"] = ago(days=2, hours=5)
    changed = next(a for a in absences[3:] if a["state"] == "new")
    timers[1]["updated_at"] = ago(days=2)
    stopped = next(t for t in timers[2:] if t["ends_at"])
    staffomatic.load(document)
    streams = ("absences", "work_timers")
    first = run_tap(config, streams=streams)
    assert len(first.records("absences")) == len(absences)

    with api(sandbox) as client:
        client.put(f"/absences/{changed['id']}.json", json={"justification": "moved"})
        pause = instant(stopped["starts_at"]) + timedelta(hours=1)
        client.post(
            "/break_timers.json",
            json={
                "work_timer_id": stopped["id"],
                "starts_at": pause.isoformat(),
                "ends_at": (pause + timedelta(minutes=10)).isoformat(),
            },
        ).raise_for_status()
    second = run_tap(config, state=first.state, streams=streams)

    assert Counter(r["id"] for r in second.records("absences")) == Counter(
        {latest["id"]: 1, in_lookback["id"]: 1, changed["id"]: 1}
    )
    assert {r["id"] for r in second.records("work_timers")} == {timers[1]["id"], stopped["id"]}
    timer = by_id(second.records("work_timers"))[stopped["id"]]
    assert instant(timer["breaks"][-1]["starts_at"]) == pause
    for stream in streams:
        assert "ACTIVATE_VERSION" not in second.types(stream)
        assert all("version" not in m for m in second.of(stream))


def test_429_bursts_and_server_errors_are_survived_with_nothing_lost_or_repeated(
    staffomatic: Admin,
    config: dict[str, Any],
    run_tap: Callable[..., Run],
    no_sleep: list[float],
) -> None:
    streams = ("users", "locations", "departments", "absences", "work_timers")
    calm = run_tap(config)
    no_sleep.clear()

    staffomatic.faults(burst_429=3, retry_after=2)
    throttled = run_tap(config)
    assert no_sleep[:3] == [2.0, 2.0, 2.0]
    staffomatic.faults(clear=True, error_rate=0.3, drop_next=2, seed=11)
    failing = run_tap(config)

    log = staffomatic.requests()
    assert log["injected_errors"] > 0
    assert log["dropped"] == 2
    for stream in streams:
        expected = sorted(r["id"] for r in calm.records(stream))
        assert sorted(r["id"] for r in throttled.records(stream)) == expected
        assert sorted(r["id"] for r in failing.records(stream)) == expected


def test_pacing_keeps_a_long_run_under_the_rate_limit(
    staffomatic: Admin,
    config: dict[str, Any],
    run_tap: Callable[..., Run],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The emulator allows 5 requests a second here, the tap paces itself to 4."""
    monkeypatch.setattr("vendor_http.staffomatic.LIMIT", Limit(4, 1.0))
    document = staffomatic.state()
    document["rate_limit"] = {"requests": 5, "seconds": 1}
    staffomatic.load(document)

    run = run_tap(config, streams=("users", "absences", "work_timers", "departments"))

    assert len(run.records("users")) == len(staffomatic.state()["users"])
    assert staffomatic.requests()["throttled"] == 0


def test_by_default_a_full_read_sends_no_activate_version(
    config: dict[str, Any], run_tap: Callable[..., Run]
) -> None:
    """SQL loaders take ACTIVATE_VERSION for "the whole table": off unless asked for."""
    run = run_tap(config, streams=("absences",))

    assert run.records("absences")
    assert "ACTIVATE_VERSION" not in run.types("absences")
