"""The pure rules: conversions, the lifecycle, matching, and absence times (no I/O)."""

from __future__ import annotations

from dataclasses import replace
from datetime import date, datetime
from zoneinfo import ZoneInfo

import pytest
from sync_ledger import Link
from target_staffomatic.rules import (
    AbsenceIn,
    Lookups,
    absence_key,
    absence_times,
    desired_lock,
    lifecycle,
    monthly_hours,
    plan_employee,
    read_absence,
    vacation_days,
)
from target_staffomatic.settings import Settings

BERLIN = ZoneInfo("Europe/Berlin")
TODAY = date(2026, 3, 10)
RULES = Settings.from_config({"account": "demo"}).rules(BERLIN, TODAY)


@pytest.mark.parametrize(
    ("weekly", "monthly"), [(40, 173), (30, 130), (38.5, 167), (20, 87), (0, 0), (None, None)]
)
def test_monthly_hours_are_weekly_times_52_over_12_rounded(weekly: float, monthly: int) -> None:
    assert monthly_hours(weekly) == monthly


def test_vacation_days_come_from_the_paid_vacation_entitlement() -> None:
    entries = [
        {"id": 1, "name": "Sick", "category": "sick_leave", "entitlement": 0},
        {"id": 2, "name": "Urlaub", "category": "paid_vacation", "entitlement": 27.5},
    ]
    assert vacation_days({"absence_entitlement": entries}) == 28
    unnamed = [{"id": "x", "name": "Jahresurlaub", "entitlement": 25}]
    assert vacation_days({"absence_entitlement": unnamed}) == 25
    assert vacation_days({"absence_entitlement": [{"id": "t", "entitlement": 24}]}, ["t"]) == 24
    assert vacation_days({"absence_entitlement": []}) is None


@pytest.mark.parametrize(
    ("employee", "locked"),
    [
        ({"status": "active", "hire_date": "2020-01-01"}, False),
        ({"status": "inactive", "hire_date": "2020-01-01"}, True),
        ({"status": "active", "last_working_day": "2026-03-09"}, True),
        ({"status": "active", "last_working_day": "2026-03-10"}, False),  # still working today
        ({"status": "onboarding", "hire_date": "2026-03-11"}, True),
        ({"status": "active", "hire_date": "2026-03-10"}, False),  # hired today
        ({"status": "leave"}, False),
    ],
)
def test_desired_lock_follows_the_lifecycle(employee: dict[str, str], locked: bool) -> None:
    assert desired_lock(employee, RULES) is locked


def test_lifecycle_reason_names_the_rule_with_dates_only() -> None:
    assert lifecycle({"status": "inactive"}, RULES) == (True, "status inactive")
    assert lifecycle({"last_working_day": "2026-03-01"}, RULES) == (
        True,
        "last working day 2026-03-01 passed",
    )
    assert lifecycle({"termination_date": "2026-03-01"}, RULES) == (
        True,
        "termination date 2026-03-01 passed",
    )
    assert lifecycle({"hire_date": "2026-04-01"}, RULES) == (
        True,
        "hire date 2026-04-01 in the future",
    )
    assert lifecycle({"hire_date": "2020-01-01"}, RULES) == (False, "active again in Personio")


def test_unlock_names_the_hire_date_when_the_ledger_last_saw_the_employee_before_it() -> None:
    before = Link("5", "fp", datetime(2026, 3, 1, 8, 0, tzinfo=BERLIN))
    after = Link("5", "fp", datetime(2026, 3, 9, 8, 0, tzinfo=BERLIN))
    employee = {"status": "active", "hire_date": "2026-03-05"}
    assert lifecycle(employee, RULES, before) == (False, "hired on 2026-03-05")
    assert lifecycle(employee, RULES, after) == (False, "active again in Personio")


def test_lifecycle_settings_off_mean_no_opinion() -> None:
    rules = replace(RULES, lock_before_hire_date=False, lock_after_last_day=False)
    assert desired_lock({"status": "inactive"}, rules) is None
    assert desired_lock({"hire_date": "2027-01-01"}, rules) is None


def test_user_linked_to_another_employee_is_a_conflict_not_a_merge() -> None:
    lookups = Lookups(
        users=[{"id": 5, "email": "a@x.example", "custom_id": "77", "department_ids": []}],
        locations=[{"id": 1, "name": "Berlin"}],
    )
    employee = {"id": 12, "email": " A@X.example ", "first_name": "A", "office_name": "Berlin"}
    plan = plan_employee(employee, RULES, lookups, None)
    assert plan.outcome == "skip"
    assert not plan.ops
    assert plan.reason.startswith("conflict: user 5")
    assert "employee 77" in plan.reason


def test_a_kept_user_holds_only_the_fields_the_rules_use_and_reads_like_that_dict() -> None:
    lookups = Lookups()
    read = {"id": 5, "email": "a@x.example", "custom_id": "12", "phone": "+49 30 1", "avatar": {}}
    lookups.put_user(read)
    user = lookups.users[5]
    assert user == {"id": 5, "email": "a@x.example", "custom_id": "12"}
    assert dict(user) == {"id": 5, "email": "a@x.example", "custom_id": "12"}
    assert user.get("phone") is None
    assert user.get("last_name", "-") == "-"
    assert "email" in user
    assert "last_name" not in user
    assert "phone" not in user
    with pytest.raises(KeyError):
        user["last_name"]
    assert {**user, "custom_id": "13"}["custom_id"] == "13"


def test_a_replaced_user_moves_in_the_indexes_and_leaves_no_empty_entry() -> None:
    lookups = Lookups()
    lookups.put_user({"id": 5, "email": "a@x.example", "custom_id": "12", "first_name": "A"})
    lookups.put_user({"id": 6, "email": "A@X.example", "first_name": "A"})
    assert lookups.by_email == {"a@x.example": (5, 6)}
    lookups.put_user({"id": 5, "email": "b@x.example", "custom_id": "14", "first_name": "B"})
    assert lookups.by_email == {"a@x.example": (6,), "b@x.example": (5,)}
    assert lookups.by_custom_id == {"14": (5,)}
    assert lookups.by_name == {"a": (6,), "b": (5,)}


def test_an_absence_key_is_the_same_moment_whatever_the_offset_it_is_written_with() -> None:
    berlin = {"applicant_id": 5, "absence_type_id": 2, "starts_at": "2026-03-10T00:00:00+01:00"}
    utc = {"applicant_id": 5, "absence_type_id": 2, "starts_at": "2026-03-09T23:00:00Z"}
    later = {"applicant_id": 5, "absence_type_id": 2, "starts_at": "2026-03-10T00:00:00.001+01:00"}
    naive = {"applicant_id": 5, "absence_type_id": 2, "starts_at": "2026-03-10T00:00:00"}
    assert absence_key(berlin) == absence_key(utc)
    assert absence_key(later) != absence_key(berlin)
    assert absence_key(naive) == (5, 2, None, None)


def test_unchanged_user_plans_no_write() -> None:
    lookups = Lookups(
        users=[
            {
                "id": 5,
                "email": "a@x.example",
                "custom_id": "12",
                "first_name": "A",
                "last_name": "B",
                "department_ids": [],
                "locked_at": None,
            }
        ],
        locations=[{"id": 1, "name": "Berlin", "user_ids": [5]}],
    )
    employee = {
        "id": 12,
        "email": "A@x.example",
        "first_name": "A",
        "last_name": "B",
        "office_name": "Berlin",
        "status": "active",
    }
    plan = plan_employee(employee, RULES, lookups, None)
    assert plan.outcome == "unchanged"
    assert plan.ops == []
    assert plan.dest_id == 5


def test_half_day_markers_and_hourly_times_are_read_from_the_tap_record() -> None:
    record = {
        "id": "p1",
        "person_id": "1001",
        "absence_type_id": "t",
        "absence_type_name": None,
        "starts_from": "2026-03-29T00:00:00",
        "starts_from_type": "SECOND_HALF",
        "ends_at": "2026-03-30T00:00:00",
        "ends_at_type": "SECOND_HALF",
        "approval_status": "PENDING",
    }
    absence = read_absence(record, {"t": "Vacation"}, date(2026, 12, 31))
    assert (absence.type_name, absence.status) == ("Vacation", "pending")
    assert absence.starts_second_half
    assert not absence.ends_first_half
    hourly = read_absence(
        {
            **record,
            "starts_from": "2026-03-29T09:30:00",
            "ends_at": "2026-03-29T11:00:00",
            "starts_from_type": None,
            "ends_at_type": None,
        },
        {},
        date(2026, 12, 31),
    )
    starts, ends, all_day = absence_times(hourly, BERLIN)
    assert (starts, ends, all_day) == (
        "2026-03-29T09:30:00+02:00",
        "2026-03-29T11:00:00+02:00",
        False,
    )


def test_absence_times_use_real_time_zones_across_the_dst_change() -> None:
    absence = AbsenceIn("p", "1", "t", "Vacation", date(2026, 3, 28), date(2026, 3, 29))
    starts, ends, all_day = absence_times(absence, BERLIN)
    assert all_day is True
    assert starts == "2026-03-28T00:00:00+01:00"  # winter time
    assert ends == "2026-03-29T23:59:59+02:00"  # summer time
    span = datetime.fromisoformat(ends) - datetime.fromisoformat(starts)
    assert span.total_seconds() == 2 * 86400 - 3600 - 1


def test_absence_without_person_or_start_is_refused() -> None:
    with pytest.raises(ValueError, match="lacks its id, person or start"):
        read_absence({"id": "x", "person_id": None}, {}, TODAY)
