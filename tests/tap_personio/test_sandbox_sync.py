"""tap-personio against the Personio emulator over loopback: paging, incrementality, faults."""

from __future__ import annotations

import copy
import uuid
from collections import Counter
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import urlsplit

import pytest
from sandbox.admin import Admin
from tap_personio.streams import EmployeesStream
from tap_personio.tap import TapPersonio
from vendor_http.personio import PersonioPacing

from tests.tap_personio.conftest import records

Sync = Callable[..., tuple[list[dict[str, Any]], dict[str, Any]]]


def with_employees(state: dict[str, Any], count: int) -> dict[str, Any]:
    template = state["employees"][1]  # Ben Müller: has a supervisor (1001)
    boss = copy.deepcopy(state["employees"][0])
    employees = [boss] if count else []
    for n in range(count - len(employees)):
        person = copy.deepcopy(template)
        person["id"] = 20000 + n
        person["attributes"]["email"] = f"person{n}@demo-gastro.example"
        employees.append(person)
    return {**state, "employees": employees}


def with_absences(state: dict[str, Any], count: int) -> dict[str, Any]:
    template = state["absence_periods"][0]
    periods = []
    for n in range(count):
        period = copy.deepcopy(template)
        period["id"] = str(uuid.UUID(int=n + 1))
        periods.append(period)
    return {**state, "absence_periods": periods}


@pytest.mark.parametrize(("count", "pages"), [(100, 1), (101, 2), (0, 1)])
def test_employees_are_read_page_by_page_exactly_once(
    admin: Admin, config: dict[str, Any], sync: Sync, no_sleep: list[float], count: int, pages: int
) -> None:
    admin.load(with_employees(admin.state(), count))
    messages, _ = sync(config, streams=["employees"])
    ids = [r["id"] for r in records(messages, "employees")]
    assert len(ids) == count
    assert len(set(ids)) == count
    # plus one: the start-up look at the first page (to type the custom attributes)
    assert admin.requests()["by_endpoint"]["GET /v1/company/employees"] == pages + 1


def test_v2_cursor_paging_reads_every_page_once(
    admin: Admin, config: dict[str, Any], sync: Sync, no_sleep: list[float]
) -> None:
    admin.load(with_absences(admin.state(), 250))
    messages, _ = sync(config, streams=["absences"])
    ids = [r["id"] for r in records(messages, "absences")]
    assert len(ids) == 250
    assert len(set(ids)) == 250
    assert admin.requests()["by_endpoint"]["GET /v2/absence-periods"] == 3


def test_absence_records_carry_type_names_half_days_and_approval(
    admin: Admin, config: dict[str, Any], sync: Sync, no_sleep: list[float]
) -> None:
    messages, _ = sync(config, streams=["absences"])
    by_comment = {r["comment"]: r for r in records(messages, "absences") if r["comment"]}
    noon = by_comment["Starts at noon"]
    assert noon["person_id"] == "1003"
    assert noon["absence_type_name"] == "Vacation"
    assert (noon["half_day_start"], noon["half_day_end"]) == (True, False)
    assert noon["timezone"] == "Europe/Berlin"
    assert noon["approval_status"] == "APPROVED"
    assert noon["starts_from"].endswith("T00:00:00")
    assert by_comment["Morning course"]["half_day_end"] is True
    assert by_comment["Parental leave"]["absence_type_name"] == "Parental leave"
    # the absence types were looked up once, not per absence
    assert admin.requests()["by_endpoint"]["GET /v2/absence-types"] == 1


def test_employee_records_are_plain_with_custom_attributes(
    admin: Admin, config: dict[str, Any], sync: Sync, no_sleep: list[float]
) -> None:
    messages, _ = sync(config, streams=["employees"])
    schema = next(m for m in messages if m["type"] == "SCHEMA")["schema"]["properties"]
    assert schema["shift_planning"]["type"] == ["boolean", "null"]
    people = {r["id"]: r for r in records(messages, "employees")}
    assert people[1014]["shift_planning"] is False
    assert people[1001]["shift_planning"] is True
    assert people[1005]["email"] is None  # "" in Personio
    assert people[1002]["supervisor_id"] == 1001
    assert people[1007]["last_working_day"] is not None
    assert isinstance(people[1012]["weekly_working_hours"], float)
    assert people[1001]["office_name"] == "Berlin"


def test_by_default_a_full_read_sends_no_activate_version(
    admin: Admin, config: dict[str, Any], sync: Sync, no_sleep: list[float]
) -> None:
    """SQL loaders take ACTIVATE_VERSION for "the whole table": off unless asked for."""
    messages, _ = sync(config, streams=["absences", "attendances"])
    assert records(messages, "absences")
    assert records(messages, "attendances")
    assert not [m for m in messages if m["type"] == "ACTIVATE_VERSION"]


def test_a_full_read_frames_the_window_with_two_activate_versions(
    admin: Admin, config: dict[str, Any], sync: Sync, no_sleep: list[float]
) -> None:
    framed = {**config, "window_activate_version": True}
    messages, _ = sync(framed, streams=["absences", "attendances"])
    for stream in ("absences", "attendances"):
        own = [m for m in messages if m.get("stream") == stream and m["type"] != "SCHEMA"]
        assert own[0]["type"] == "ACTIVATE_VERSION"
        version = own[0]["version"]
        rows = [m for m in own if m["type"] == "RECORD"]
        assert rows
        assert all(m["version"] == version for m in rows)
        last_record = max(i for i, m in enumerate(own) if m["type"] == "RECORD")
        after = [m for m in own[last_record:] if m["type"] == "ACTIVATE_VERSION"]
        assert [m["version"] for m in after] == [version]


def test_an_incremental_run_reads_only_changes_plus_lookback_and_advances_bookmarks(
    admin: Admin, config: dict[str, Any], sync: Sync, no_sleep: list[float]
) -> None:
    config = {**config, "window_activate_version": True}  # even then: none on increments
    first, state = sync(config)
    bookmarks = state["bookmarks"]
    old_absence_mark = bookmarks["absences"]["replication_key_value"]
    old_employee_mark = bookmarks["employees"]["replication_key_value"]

    changed = admin.state()
    now = datetime.now(UTC).replace(microsecond=0)
    changed["absence_periods"][3]["comment"] = "changed"
    changed["absence_periods"][3]["updated_at"] = (now - timedelta(minutes=5)).strftime(
        "%Y-%m-%dT%H:%M:%S.000Z"
    )
    changed["employees"][4]["attributes"]["last_name"] = "Neu"
    changed["employees"][4]["last_modified_at"] = (now - timedelta(minutes=5)).isoformat()
    admin.load(changed)

    second, state = sync(config, state=state)
    assert not [m for m in second if m["type"] == "ACTIVATE_VERSION"]
    absences = records(second, "absences")
    assert "changed" in [a["comment"] for a in absences]
    assert len(absences) < len(records(first, "absences"))
    lookback = datetime.fromisoformat(old_absence_mark) - timedelta(minutes=240)
    assert all(
        datetime.fromisoformat(a["updated_at"]) >= lookback - timedelta(hours=2) for a in absences
    )
    employees = records(second, "employees")
    assert "Neu" in [e["last_name"] for e in employees]
    assert len(employees) < len(records(first, "employees"))
    new_marks = state["bookmarks"]
    assert new_marks["absences"]["replication_key_value"] > old_absence_mark
    assert new_marks["employees"]["replication_key_value"] > old_employee_mark


def test_a_burst_of_429s_is_survived_without_lost_or_repeated_records(
    admin: Admin, config: dict[str, Any], sync: Sync, no_sleep: list[float]
) -> None:
    admin.load(with_employees(admin.state(), 101))
    baseline, _ = sync(config)
    admin.faults(burst_429=4, retry_after=2)
    messages, _ = sync(config)
    for stream in ("employees", "absence_types", "absences", "attendances"):
        ids = [r["id"] for r in records(messages, stream)]
        assert Counter(ids) == Counter(r["id"] for r in records(baseline, stream))
    assert admin.requests()["throttled"] >= 4
    assert 2.0 in no_sleep  # Retry-After was honoured


def test_tokens_invalidated_mid_run_are_renewed_without_lost_or_repeated_records(
    admin: Admin,
    config: dict[str, Any],
    no_sleep: list[float],
    monkeypatch: pytest.MonkeyPatch,
    run_tap: Callable[[TapPersonio], list[dict[str, Any]]],
) -> None:
    admin.load(with_absences(with_employees(admin.state(), 101), 150))
    sent: list[str] = []
    original = PersonioPacing.before

    def before(self: PersonioPacing, method: str, url: str) -> float:
        path = urlsplit(url).path
        sent.append(path)
        if path.endswith("/company/employees") and sent.count(path) == 3:
            admin.faults(invalidate_tokens=True)  # before the second page of the real read
        if path.endswith("/absence-periods") and sent.count(path) == 2:
            admin.faults(invalidate_tokens=True)
        return original(self, method, url)

    monkeypatch.setattr(PersonioPacing, "before", before)
    tap = TapPersonio(config=config, parse_env_config=False, sleep=no_sleep.append)
    messages = run_tap(tap)
    assert len({r["id"] for r in records(messages, "employees")}) == 101
    assert len(records(messages, "employees")) == 101
    assert len(records(messages, "absences")) == 150
    assert len({r["id"] for r in records(messages, "absences")}) == 150
    by_endpoint = admin.requests()["by_endpoint"]
    assert by_endpoint["POST /v1/auth"] == 2
    assert by_endpoint["POST /v2/auth/token"] == 2


def test_v2_pacing_follows_the_announced_token_bucket_without_a_single_429(
    admin: Admin, config: dict[str, Any], sync: Sync
) -> None:
    state = with_absences(admin.state(), 400)
    state["limits"]["v2_default"] = {"replenish_rate": 4, "burst_capacity": 1}
    admin.load(state)
    messages, _ = sync(config, streams=["absences"])
    assert len(records(messages, "absences")) == 400
    served = admin.requests()
    assert served["by_endpoint"]["GET /v2/absence-periods"] == 4
    assert served["throttled"] == 0


def test_v1_pacing_keeps_employee_list_bursts_under_the_limit_without_a_single_429(
    admin: Admin, config: dict[str, Any]
) -> None:
    admin.load(with_employees(admin.state(), 0))
    tap = TapPersonio(config=config, parse_env_config=False)
    stream = tap.streams["employees"]
    assert isinstance(stream, EmployeesStream)
    for _ in range(40):  # 40 pages in a row: more than the 15 a second Personio allows
        assert list(stream.request_records(context=None)) == []
    served = admin.requests()
    assert served["by_endpoint"]["GET /v1/company/employees"] == 41
    assert served["throttled"] == 0


def test_dropped_connections_are_retried_without_lost_or_repeated_records(
    admin: Admin, config: dict[str, Any], sync: Sync, no_sleep: list[float]
) -> None:
    baseline, _ = sync(config)
    admin.faults(drop_next=3)
    messages, _ = sync(config)
    for stream in ("employees", "absence_types", "absences", "attendances"):
        assert Counter(r["id"] for r in records(messages, stream)) == Counter(
            r["id"] for r in records(baseline, stream)
        )
    assert admin.requests()["dropped"] == 3


def test_updated_since_that_ignores_paging_still_reads_each_change_once(
    admin: Admin, config: dict[str, Any], sync: Sync, no_sleep: list[float]
) -> None:
    state = with_employees(admin.state(), 150)
    state["settings"]["updated_since_pages"] = False  # the spec's reading: no paging then
    admin.load(state)
    _, bookmarks = sync(config, streams=["employees"])
    changed = admin.state()
    recent = (datetime.now(UTC) - timedelta(minutes=1)).replace(microsecond=0).isoformat()
    for person in changed["employees"][:120]:
        person["last_modified_at"] = recent
    admin.load(changed)
    messages, _ = sync(config, state=bookmarks, streams=["employees"])
    ids = [r["id"] for r in records(messages, "employees")]
    assert len(ids) == len(set(ids))
    assert set(ids) >= {p["id"] for p in changed["employees"][:120]}


def test_a_stream_map_on_shift_planning_leaves_out_employees_not_planned(
    admin: Admin, config: dict[str, Any], sync: Sync, no_sleep: list[float]
) -> None:
    maps = {"employees": {"__filter__": "shift_planning != False"}}
    messages, _ = sync({**config, "stream_maps": maps}, streams=["employees"])
    ids = {r["id"] for r in records(messages, "employees")}
    assert 1014 not in ids
    assert len(ids) == 21
