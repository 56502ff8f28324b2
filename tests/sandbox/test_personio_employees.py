"""Personio emulator: v1 employees (paging, filters, whitelists, shapes) and attributes."""

from __future__ import annotations

from typing import Any

import pytest
from sandbox.personio import PersonioEmulator
from starlette.testclient import TestClient

from tests.sandbox.personio_clients import connect

SHIFT_PLANNING = "dynamic_4711001"


@pytest.fixture
def demo() -> TestClient:
    return connect(PersonioEmulator("demo"))


def all_pages(client: TestClient, limit: int) -> list[dict[str, Any]]:
    employees, offset = [], 0
    while True:
        body = client.get("/v1/company/employees", params={"limit": limit, "offset": offset}).json()
        employees += body["data"]
        if body["metadata"]["current_page"] >= body["metadata"]["total_pages"] - 1:
            return employees
        offset += limit


@pytest.mark.parametrize(("count", "pages"), [(100, 1), (101, 2), (0, 0)])
def test_paging_at_100_101_and_0_employees(count: int, pages: int) -> None:
    seed = ("scale", {"employees": count, "absences_per_employee": 0}) if count else ("empty", {})
    client = connect(PersonioEmulator(seed[0], **seed[1]))
    first = client.get("/v1/company/employees", params={"limit": 100, "offset": 0}).json()
    assert first["metadata"] == {
        "total_elements": count,
        "current_page": 0,
        "total_pages": pages,
    }
    assert (first["offset"], first["limit"]) == (0, 100)
    ids = [e["attributes"]["id"]["value"] for e in all_pages(client, 100)]
    assert len(ids) == len(set(ids)) == count
    if count == 101:
        last = client.get("/v1/company/employees", params={"limit": 100, "offset": 100}).json()
        assert last["metadata"]["current_page"] == 1
        assert len(last["data"]) == 1


def test_without_paging_parameters_a_page_holds_50(demo: TestClient) -> None:
    client = connect(PersonioEmulator("scale", employees=60, absences_per_employee=0))
    body = client.get("/v1/company/employees").json()
    assert body["limit"] == 50
    assert len(body["data"]) == 50
    assert body["metadata"]["total_pages"] == 2


@pytest.mark.parametrize("params", [{"limit": 101}, {"limit": 0}, {"offset": -1}, {"limit": "ten"}])
def test_bad_paging_parameters_are_400_in_the_v1_error_shape(
    demo: TestClient, params: dict[str, Any]
) -> None:
    response = demo.get("/v1/company/employees", params=params)
    assert response.status_code == 400
    assert response.json()["success"] is False
    assert response.json()["error"]["code"] == 400


def test_each_attribute_is_wrapped_with_label_value_type_and_universal_id(demo: TestClient) -> None:
    body = demo.get("/v1/company/employees", params={"email": "ben.mueller@demo-gastro.example"})
    ben = body.json()["data"][0]["attributes"]
    assert ben["id"] == {"label": "ID", "value": 1002, "type": "integer", "universal_id": "id"}
    assert ben["weekly_working_hours"]["value"] == "30"  # Personio sends weekly hours as text
    assert ben["hire_date"]["type"] == "date"
    assert ben["hire_date"]["value"].endswith(("+01:00", "+02:00"))
    assert ben["office"]["value"] == {"type": "Office", "attributes": {"id": 501, "name": "Berlin"}}
    assert ben["department"]["value"]["attributes"]["name"] == "Service"
    assert ben["team"]["value"]["type"] == "Team"
    assert ben["absence_entitlement"]["value"][0]["type"] == "TimeOffType"
    assert ben["absence_entitlement"]["value"][0]["attributes"]["entitlement"] == 28
    assert ben["supervisor"]["value"]["type"] == "Employee"
    assert ben["supervisor"]["value"]["attributes"]["id"]["value"] == 1001
    assert ben[SHIFT_PLANNING]["universal_id"] == "shift_planning"
    assert ben[SHIFT_PLANNING]["value"] is True
    assert ben["last_modified_at"]["value"]


def test_employee_without_supervisor_has_no_supervisor_attribute(demo: TestClient) -> None:
    anna = demo.get("/v1/company/employees/1001").json()["data"]["attributes"]
    assert "supervisor" not in anna
    assert anna["first_name"]["value"] == "Anna"


def test_unknown_employee_id_is_404(demo: TestClient) -> None:
    response = demo.get("/v1/company/employees/4242")
    assert response.status_code == 404
    assert response.json()["success"] is False


def test_employee_without_email_has_an_empty_email(demo: TestClient) -> None:
    eva = demo.get("/v1/company/employees/1005").json()["data"]["attributes"]
    assert eva["email"]["value"] == ""


def test_email_filter_ignores_letter_case(demo: TestClient) -> None:
    body = demo.get("/v1/company/employees", params={"email": "Clara.Weber@DEMO-gastro.example"})
    data = body.json()["data"]
    assert [e["attributes"]["id"]["value"] for e in data] == [1003]


def test_restricted_credential_silently_misses_attributes(demo: TestClient) -> None:
    restricted = connect(PersonioEmulator("demo"), restricted=True)
    employee = restricted.get("/v1/company/employees", params={"limit": 1}).json()["data"][0]
    attributes = employee["attributes"]
    assert "office" not in attributes
    assert "weekly_working_hours" not in attributes
    assert {"id", "email", "department", SHIFT_PLANNING} <= set(attributes)
    keys = {a["key"] for a in restricted.get("/v1/company/employees/attributes").json()["data"]}
    assert "office" not in keys
    assert SHIFT_PLANNING in keys


def test_attributes_endpoint_lists_custom_attributes_with_options(demo: TestClient) -> None:
    body = demo.get("/v1/company/employees/attributes").json()
    alias = demo.get("/v1/company/employees/custom-attributes").json()
    assert body == alias
    by_key = {a["key"]: a for a in body["data"]}
    assert by_key[SHIFT_PLANNING]["label"] == "Shift planning"
    assert by_key["dynamic_4711003"]["type"] == "list"
    assert by_key["dynamic_4711003"]["options"] == ["Full-time", "Part-time"]
    assert by_key["office"] == {
        "key": "office",
        "label": "Office",
        "type": "standard",
        "universal_id": "office",
        "options": [],
    }


def test_attributes_parameter_projects_the_employee(demo: TestClient) -> None:
    params: dict[str, Any] = {"attributes[]": ["first_name", "office"], "limit": 3}
    data = demo.get("/v1/company/employees", params=params).json()["data"]
    assert all(set(e["attributes"]) == {"id", "first_name", "office"} for e in data)


def test_updated_since_returns_only_employees_changed_after_it() -> None:
    emulator = PersonioEmulator("demo")
    for employee in emulator.state["employees"]:
        employee["last_modified_at"] = "2024-01-01T10:00:00+01:00"
    emulator.state["employees"][1]["last_modified_at"] = "2024-03-01T10:00:00+01:00"
    client = connect(emulator)
    body = client.get("/v1/company/employees", params={"updated_since": "2024-02-01"}).json()
    assert [e["attributes"]["id"]["value"] for e in body["data"]] == [1002]
    early = client.get("/v1/company/employees", params={"updated_since": "2023-12-31T00:00:00"})
    assert early.json()["metadata"]["total_elements"] == 22


def test_updated_since_pages_unless_the_spec_behaviour_is_chosen() -> None:
    emulator = PersonioEmulator("demo")
    client = connect(emulator)
    params: dict[str, Any] = {"updated_since": "2000-01-01", "limit": 5, "offset": 0}
    paged = client.get("/v1/company/employees", params=params).json()
    assert (len(paged["data"]), paged["metadata"]["total_pages"]) == (5, 5)
    emulator.state["settings"]["updated_since_pages"] = False
    whole = client.get("/v1/company/employees", params={**params, "email": "x@y.z"}).json()
    assert len(whole["data"]) == 22  # limit, offset and email are ignored, as the spec says
    assert whole["metadata"]["total_pages"] == 1


def test_updated_since_with_attributes_selects_employees_whose_listed_attribute_changed() -> None:
    emulator = PersonioEmulator("demo")
    for employee in emulator.state["employees"]:
        employee["last_modified_at"] = "2024-01-01T10:00:00+01:00"
    ben = emulator.state["employees"][1]
    ben["last_modified_at"] = "2024-03-01T10:00:00+01:00"
    ben["changed_at"] = {
        "first_name": "2024-03-01T10:00:00+01:00",
        "email": "2023-01-01T10:00:00+01:00",
    }
    client = connect(emulator)
    since = "2024-02-01T00:00:00"
    by_name = client.get(
        "/v1/company/employees", params={"updated_since": since, "attributes[]": "first_name"}
    ).json()
    by_email = client.get(
        "/v1/company/employees", params={"updated_since": since, "attributes[]": "email"}
    ).json()
    assert [e["attributes"]["id"]["value"] for e in by_name["data"]] == [1002]
    assert by_email["data"] == []


def test_bad_updated_since_is_400(demo: TestClient) -> None:
    response = demo.get("/v1/company/employees", params={"updated_since": "yesterday"})
    assert response.status_code == 400
    assert "updated_since" in response.json()["error"]["message"]


def test_v1_responses_echo_the_token(demo: TestClient) -> None:
    response = demo.get("/v1/company/employees", params={"limit": 1})
    assert response.headers["authorization"] == demo.headers["Authorization"]


def test_unknown_path_and_wrong_method_answer_in_the_vendor_shape(demo: TestClient) -> None:
    missing = demo.get("/v1/company/nothing-here")
    wrong = demo.delete("/v1/company/employees")
    assert (missing.status_code, wrong.status_code) == (404, 405)
    assert missing.json()["success"] is False
    assert wrong.json()["success"] is False
