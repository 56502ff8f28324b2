"""Contract: what the Personio emulator sends validates against Personio's own OpenAPI files.

v1 responses (employees, attributes, auth, 401/403/429 errors) are validated with openapi-core
against ``personio-personnel-data-api-oa3.yaml`` and ``personio-auth-api.yaml``, patched only for
the defects listed in ``KNOWN-DEFECTS.md``. v2 bodies are checked against the shapes that
``common-components-v2.json`` defines (errors, links, created objects).
"""

from __future__ import annotations

import copy
import json
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
import yaml
from openapi_core import OpenAPI
from openapi_core.testing import MockRequest, MockResponse
from openapi_schema_validator import OAS30Validator
from sandbox.personio import PersonioEmulator
from sandbox.personio.events import EVENT_NAMES, Event, period_payload
from sandbox.roster import (
    PERSONIO_CLIENT_ID,
    PERSONIO_CLIENT_SECRET,
)
from starlette.testclient import TestClient

from tests.sandbox.personio_clients import v1_headers, v2_headers

REFERENCE = Path(__file__).parents[2].parent / "shared" / "reference" / "personio"
OFFICIAL = REFERENCE / "official-personio-api-docs"
HOST = "https://api.personio.de"

if not OFFICIAL.is_dir():
    pytest.skip(
        f"Personio reference files not found at {OFFICIAL}: the contract tests need them",
        allow_module_level=True,
    )


class _PlainLoader(yaml.SafeLoader):
    """YAML without timestamp resolution: dates in the spec stay strings."""


_PlainLoader.yaml_implicit_resolvers = {
    first: [(tag, regexp) for tag, regexp in resolvers if tag != "tag:yaml.org,2002:timestamp"]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}


def _string_keys(value: Any) -> Any:
    """Response codes such as ``200`` load as integers; openapi-core wants string keys."""
    if isinstance(value, dict):
        return {str(k): _string_keys(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_string_keys(v) for v in value]
    return value


def _load(name: str) -> dict[str, Any]:
    with (OFFICIAL / name).open(encoding="utf-8") as handle:
        return dict(_string_keys(yaml.load(handle, Loader=_PlainLoader)))  # noqa: S506


@pytest.fixture(scope="module")
def personnel_spec() -> dict[str, Any]:
    spec = _load("personio-personnel-data-api-oa3.yaml")
    # KNOWN-DEFECTS.md 1: `Response.data` is typed object while every list response narrows it
    # to an array through allOf, so no list response could validate. Drop that type, nothing else.
    del spec["components"]["schemas"]["Response"]["properties"]["data"]["type"]
    return spec


@pytest.fixture(scope="module")
def personnel(personnel_spec: dict[str, Any]) -> OpenAPI:
    return OpenAPI.from_dict(personnel_spec)


@pytest.fixture(scope="module")
def auth_api() -> OpenAPI:
    return OpenAPI.from_dict(_load("personio-auth-api.yaml"))


@pytest.fixture(scope="module")
def v2_components() -> dict[str, Any]:
    document = json.loads((OFFICIAL / "common-components-v2.json").read_text(encoding="utf-8"))
    return dict(document["components"])


@pytest.fixture
def demo() -> TestClient:
    return TestClient(PersonioEmulator("demo").app())


def _validate(api: OpenAPI, path: str, response: Any, args: dict[str, Any] | None = None) -> None:
    """Validate a live response as the answer to ``GET``/``POST`` ``path`` of the spec."""
    method = response.request.method.lower()
    request = MockRequest(HOST, method, path, args=args or {})
    content_type = response.headers["content-type"].split(";")[0]
    api.validate_response(
        request, MockResponse(response.content, response.status_code, content_type=content_type)
    )


def _schema_errors(schema: dict[str, Any], root: dict[str, Any], body: Any) -> list[str]:
    validator = OAS30Validator({**schema, "components": root["components"]})
    return [error.message for error in validator.iter_errors(body)]


@pytest.mark.parametrize("restricted", [False, True])
@pytest.mark.parametrize("params", [{"limit": 100}, {"limit": 7, "offset": 14}, {}])
def test_employees_list_validates_against_the_official_spec(
    demo: TestClient, personnel: OpenAPI, params: dict[str, Any], restricted: bool
) -> None:
    response = demo.get(
        "/v1/company/employees", params=params, headers=v1_headers(demo, restricted)
    )
    assert response.status_code == 200
    assert response.json()["data"]
    _validate(personnel, "/v1/company/employees", response, params)


def test_projected_and_updated_since_lists_validate(demo: TestClient, personnel: OpenAPI) -> None:
    headers = v1_headers(demo)
    projected = demo.get(
        "/v1/company/employees", params={"attributes[]": ["office", "supervisor"]}, headers=headers
    )
    _validate(personnel, "/v1/company/employees", projected)
    since = demo.get(
        "/v1/company/employees", params={"updated_since": "2000-01-01"}, headers=headers
    )
    _validate(personnel, "/v1/company/employees", since, {"updated_since": "2000-01-01"})


def test_scale_employees_validate(personnel: OpenAPI) -> None:
    client = TestClient(PersonioEmulator("scale", employees=120, absences_per_employee=0).app())
    response = client.get(
        "/v1/company/employees", params={"limit": 100, "offset": 100}, headers=v1_headers(client)
    )
    _validate(personnel, "/v1/company/employees", response, {"limit": 100, "offset": 100})


def test_attributes_list_validates_and_has_the_documented_item_keys(
    demo: TestClient, personnel: OpenAPI
) -> None:
    response = demo.get("/v1/company/employees/attributes", headers=v1_headers(demo))
    _validate(personnel, "/v1/company/employees/attributes", response)
    # The spec documents this response only by example: compare with its keys.
    example = personnel.spec / "paths" / "/company/employees/attributes" / "get" / "responses"
    documented = example / "200" / "content" / "application/json" / "examples" / "response"
    sample = documented.read_value()["value"]
    body = response.json()
    assert set(body) == set(sample)
    assert all(set(item) == set(sample["data"][0]) for item in body["data"])


def test_v1_auth_response_validates_against_the_auth_spec(
    demo: TestClient, auth_api: OpenAPI
) -> None:
    body = {"client_id": PERSONIO_CLIENT_ID, "client_secret": PERSONIO_CLIENT_SECRET}
    response = demo.post("/v1/auth", json=body)
    request = MockRequest(HOST, "post", "/v1/auth", data=json.dumps(body).encode())
    auth_api.validate_request(request)
    auth_api.validate_response(request, MockResponse(response.content, 200))


@pytest.mark.parametrize(
    ("headers", "status", "component"),
    [
        ({}, 401, "401UnauthorizedResponse"),
        ({"Authorization": "Bearer papi-unknown"}, 403, "403ForbiddenResponse"),
    ],
)
def test_v1_auth_errors_match_the_specs_error_responses(
    demo: TestClient,
    personnel_spec: dict[str, Any],
    headers: dict[str, str],
    status: int,
    component: str,
) -> None:
    response = demo.get("/v1/company/employees", headers=headers)
    assert response.status_code == status
    declared = personnel_spec["components"]["responses"][component]["content"]["application/json"]
    assert _schema_errors(declared["schema"], personnel_spec, response.json()) == []
    example = declared["examples"]["response"]["$ref"].rsplit("/", 1)[-1]
    assert response.json() == personnel_spec["components"]["examples"][example]["value"]


def test_v1_429_has_the_default_error_shape(
    demo: TestClient, personnel_spec: dict[str, Any]
) -> None:
    demo.post("/_sandbox/faults", json={"burst_429": 1})
    response = demo.get("/v1/company/employees", headers={"Authorization": "Bearer papi-x"})
    assert response.status_code == 429
    schema = personnel_spec["components"]["schemas"]["ErrorResponse"]
    assert _schema_errors(schema, personnel_spec, response.json()) == []
    assert response.json()["error"]["code"] == 429


def test_v2_error_bodies_match_the_common_error_response(
    demo: TestClient, v2_components: dict[str, Any]
) -> None:
    headers = v2_headers(demo)
    answers = [
        demo.get("/v2/absence-periods"),  # 401
        demo.get("/v2/absence-periods", headers={"Authorization": "Bearer papi-x"}),  # 403
        demo.get("/v2/absence-periods/nope", headers=headers),  # 404
        demo.get("/v2/attendance-periods", params={"limit": 0}, headers=headers),  # 400
        demo.post(
            "/v2/attendance-periods",
            headers=headers,
            json={  # 422
                "person": {"id": "4242"},
                "type": "WORK",
                "start": {"date_time": "2025-01-01T08:00:00"},
            },
        ),
    ]
    root = {"components": v2_components}
    schema = v2_components["schemas"]["ErrorResponse"]
    assert [a.status_code for a in answers] == [401, 403, 404, 400, 422]
    for answer in answers:
        assert answer.headers["content-type"].startswith("application/problem+json")
        assert _schema_errors(schema, root, answer.json()) == []
        assert answer.json()["errors"]


def test_v2_lists_and_created_objects_match_the_common_shapes(
    demo: TestClient, v2_components: dict[str, Any]
) -> None:
    headers = v2_headers(demo)
    root = {"components": v2_components}
    meta = v2_components["schemas"]["MetaObject"]
    for path in ("/v2/absence-types", "/v2/absence-periods", "/v2/attendance-periods"):
        body = demo.get(path, params={"limit": 2}, headers=headers).json()
        assert _schema_errors(meta, root, body["_meta"]) == []
        assert isinstance(body["_data"], list)
    created = demo.post(
        "/v2/attendance-periods",
        headers=headers,
        json={
            "person": {"id": "1004"},
            "type": "WORK",
            "start": {"date_time": "2025-01-01T08:00:00"},
            "end": {"date_time": "2025-01-01T12:00:00"},
        },
    )
    assert created.status_code == 201
    created_schema = copy.deepcopy(v2_components["schemas"]["CreatedObject"])
    assert _schema_errors(created_schema, root, created.json()) == []


def test_v2_webhook_answers_match_the_common_shapes(
    demo: TestClient, v2_components: dict[str, Any]
) -> None:
    headers = v2_headers(demo)
    root = {"components": v2_components}
    body = {
        "url": "https://sync.example/events",
        "description": "sync",
        "token": "Bearer t",
        "enabled_events": ["person.created"],
    }
    created = demo.post("/v2/webhooks", headers=headers, json=body)
    assert created.status_code == 201
    assert _schema_errors(v2_components["schemas"]["CreatedObject"], root, created.json()) == []
    listed = demo.get("/v2/webhooks", headers=headers).json()
    assert _schema_errors(v2_components["schemas"]["MetaObject"], root, listed["_meta"]) == []
    answers = [
        demo.post("/v2/webhooks", headers=headers, json={"url": "https://x.example"}),  # 400
        demo.get("/v2/webhooks/nope", headers=headers),  # 404
        demo.post("/v2/webhooks", headers=headers, json=body),  # 409
        demo.post("/v2/webhooks", headers=headers, json={**body, "enabled_events": ["x"]}),  # 422
    ]
    assert [a.status_code for a in answers] == [400, 404, 409, 422]
    for answer in answers:
        assert answer.headers["content-type"].startswith("application/problem+json")
        assert _schema_errors(v2_components["schemas"]["ErrorResponse"], root, answer.json()) == []


DELIVERY_BODY = {
    "type": "object",
    "properties": {
        "company_id": {"type": "string"},
        "occurred_at": {"type": "string", "format": "date-time"},
        "payload": {"type": "object"},
        "meta": {"type": "object"},
        "event_name": {"type": "string"},
    },
    "required": ["company_id", "occurred_at", "payload", "event_name"],
}
"""The body of every delivery, after the schema on Personio's webhook reference page (the page
is not in the reference folder; its facts are in the research notes, section 4.6)."""


def test_delivery_bodies_match_the_documented_schema() -> None:
    emulator = PersonioEmulator("demo")
    period = emulator.state["absence_periods"][0]
    bodies = [Event(name, period_payload(period)).body() for name in EVENT_NAMES]
    validator = OAS30Validator(DELIVERY_BODY, format_checker=OAS30Validator.FORMAT_CHECKER)
    for body in bodies:
        assert [e.message for e in validator.iter_errors(body)] == []
        assert datetime.fromisoformat(body["occurred_at"]).tzinfo is not None
