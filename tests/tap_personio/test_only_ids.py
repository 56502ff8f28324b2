"""tap-personio ``only_ids``: just these records, at a cost following the ids, not the company."""

from __future__ import annotations

from typing import Any

import pytest
from sandbox.admin import Admin
from tap_personio.errors import PersonioError
from tap_personio.tap import TapPersonio

from tests.tap_personio.conftest import records
from tests.tap_personio.test_sandbox_sync import Sync

GONE_EMPLOYEE = 999999
GONE_PERIOD = "00000000-0000-0000-0000-000000000000"


def picks(admin: Admin) -> dict[str, list[Any]]:
    """Two employees, an absence and an attendance period of the current data, one id each
    of records that do not exist."""
    state = admin.state()
    return {
        "employees": [state["employees"][0]["id"], str(state["employees"][1]["id"]), GONE_EMPLOYEE],
        "absences": [state["absence_periods"][0]["id"], GONE_PERIOD],
        "attendances": [p["id"] for p in state["attendance_periods"][:1]] or [GONE_PERIOD],
    }


def deleted_marker(record: dict[str, Any]) -> bool:
    """The record carries its id, when it was found gone, and nothing else."""
    rest = {k: v for k, v in record.items() if k not in ("id", "_sdc_deleted_at")}
    return bool(record["_sdc_deleted_at"]) and not any(v is not None for v in rest.values())


def data_requests(admin: Admin) -> dict[str, int]:
    """Requests by endpoint, the token requests left out."""
    return {k: n for k, n in admin.counts().items() if "/auth" not in k}


def only_run(sync: Sync, config: dict[str, Any], ids: dict[str, Any]) -> list[dict[str, Any]]:
    # as the sync's extractors: a full read would send ACTIVATE_VERSION, a read by ids never does
    messages, _ = sync({**config, "only_ids": ids, "window_activate_version": True})
    return messages


def test_only_the_named_records_are_read_and_gone_ones_are_marked_deleted(
    admin: Admin, config: dict[str, Any], sync: Sync, no_sleep: list[float]
) -> None:
    ids = picks(admin)
    messages = only_run(sync, config, ids)
    employees = records(messages, "employees")
    assert [e["id"] for e in employees] == [int(i) for i in ids["employees"]]
    assert employees[0]["email"]
    assert employees[0].get("_sdc_deleted_at") is None
    assert deleted_marker(employees[2])
    absences = records(messages, "absences")
    assert [a["id"] for a in absences] == ids["absences"]
    assert absences[0]["starts_from"]
    assert absences[0]["absence_type_name"]
    assert deleted_marker(absences[1])
    assert [a["id"] for a in records(messages, "attendances")] == ids["attendances"]
    assert records(messages, "absence_types")  # read whole: the targets need the names
    assert not [m for m in messages if m["type"] == "ACTIVATE_VERSION"]
    bookmarks = [
        m["value"].get("bookmarks", {}).get(stream, {})
        for m in messages
        if m["type"] == "STATE"
        for stream in ("employees", "absences", "attendances")
    ]
    assert not any("replication_key_value" in b for b in bookmarks)


def test_streams_without_ids_emit_nothing(
    admin: Admin, config: dict[str, Any], sync: Sync, no_sleep: list[float]
) -> None:
    ids = picks(admin)
    messages = only_run(sync, config, {"absences": ids["absences"][:1]})
    assert len(records(messages, "absences")) == 1
    assert records(messages, "employees") == []
    assert records(messages, "attendances") == []
    counts = data_requests(admin)
    assert "GET /v1/company/employees/{employee_id}" not in counts
    assert "GET /v2/attendance-periods" not in counts


def test_requests_follow_the_ids_not_the_size_of_the_company(
    admin: Admin, config: dict[str, Any], sync: Sync, no_sleep: list[float]
) -> None:
    costs = []
    for employees in (20, 1500):
        admin.reset("scale", employees=employees, absences_per_employee=2, timers_per_week=0)
        ids = picks(admin)
        only_run(sync, config, ids)
        costs.append(data_requests(admin))
    assert costs[0] == costs[1]
    assert costs[0]["GET /v1/company/employees/{employee_id}"] == 3
    assert costs[0]["GET /v2/absence-periods/{id}"] == 2
    assert costs[0]["GET /v2/attendance-periods/{id}"] == 1
    assert "GET /v2/absence-periods" not in costs[0]


def test_a_404_from_something_else_than_personio_is_an_error_not_a_deletion(
    config: dict[str, Any], sync: Sync, no_sleep: list[float]
) -> None:
    wrong = {**config, "base_url": config["base_url"] + "/wrong-prefix"}
    with pytest.raises(Exception, match="404"):
        only_run(sync, wrong, {"absences": [GONE_PERIOD]})


@pytest.mark.parametrize(
    ("value", "named"),
    [
        (["1"], "must be an object"),
        ({"people": ["1"]}, "unknown streams people"),
        ({"employees": ["ana"]}, "whole numbers"),
        ({"absences": "abc"}, "list of ids"),
    ],
)
def test_a_wrong_only_ids_is_one_clear_sentence(value: Any, named: str) -> None:
    config = {"client_id": "x", "client_secret": "y", "only_ids": value}
    with pytest.raises(PersonioError, match=named):
        TapPersonio(config=config, parse_env_config=False, validate_config=False)
