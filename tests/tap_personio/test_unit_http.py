"""Focused HTTP behaviour with requests-mock: tokens, headers, retries, pacing, error sentences."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import requests
import requests_mock as rm
from singer_sdk.exceptions import ConfigValidationError
from tap_personio.errors import PersonioError
from tap_personio.tap import REQUIRED_ATTRIBUTES, TapPersonio
from vendor_http.personio import PersonioPacing
from vendor_http.testing import ManualClock

BASE = "https://personio.test"
CONFIG = {"client_id": "id-1", "client_secret": "very-secret-value", "base_url": BASE}
ATTRIBUTES: list[dict[str, Any]] = [
    {"key": k, "label": k, "type": "standard", "universal_id": k}
    for k in ["id", *REQUIRED_ATTRIBUTES, "last_modified_at"]
]


def wrap(value: Any) -> dict[str, Any]:
    return {"label": "x", "value": value, "type": "standard", "universal_id": None}


def employee(n: int) -> dict[str, Any]:
    return {
        "type": "Employee",
        "attributes": {
            "id": wrap(n),
            "email": wrap(f"e{n}@example.com"),
            "last_modified_at": wrap("2026-11-01T10:00:00+01:00"),
        },
    }


def page(rows: list[dict[str, Any]]) -> dict[str, Any]:
    return {"success": True, "data": rows, "metadata": {"current_page": 0, "total_pages": 1}}


@pytest.fixture
def personio(requests_mock: rm.Mocker) -> rm.Mocker:
    """A minimal Personio: both token endpoints, the attributes, two employees, empty v2 lists."""
    requests_mock.post(f"{BASE}/v1/auth", json={"success": True, "data": {"token": "papi-v1"}})
    requests_mock.post(
        f"{BASE}/v2/auth/token", json={"access_token": "papi-v2", "expires_in": 86400}
    )
    requests_mock.get(
        f"{BASE}/v1/company/employees/attributes", json={"success": True, "data": ATTRIBUTES}
    )
    requests_mock.get(f"{BASE}/v1/company/employees", json=page([employee(1), employee(2)]))
    for path in ("absence-types", "absence-periods", "attendance-periods"):
        requests_mock.get(f"{BASE}/v2/{path}", json={"_data": [], "_meta": {"links": {}}})
    return requests_mock


def calls(mock: rm.Mocker, method: str, path: str) -> list[Any]:
    return [r for r in mock.request_history if r.method == method and r.path == path]


def test_each_api_generation_authenticates_once_and_reuses_its_token(
    personio: rm.Mocker, sync: Callable[..., Any], no_sleep: list[float]
) -> None:
    messages, _ = sync(CONFIG)
    assert len(calls(personio, "POST", "/v1/auth")) == 1
    assert len(calls(personio, "POST", "/v2/auth/token")) == 1
    v1_auth = calls(personio, "POST", "/v1/auth")[0]
    assert v1_auth.json() == {"client_id": "id-1", "client_secret": "very-secret-value"}
    v2_auth = calls(personio, "POST", "/v2/auth/token")[0]
    assert "grant_type=client_credentials" in v2_auth.text
    for request in personio.request_history:
        assert request.headers["X-Personio-App-ID"] == "PERSONIO_STAFFOMATIC_SYNC"
        if request.path.startswith("/v1/company"):
            assert request.headers["Authorization"] == "Bearer papi-v1"
        if request.path.startswith("/v2/absence") or request.path.startswith("/v2/attendance"):
            assert request.headers["Authorization"] == "Bearer papi-v2"
    assert any(m["type"] == "RECORD" for m in messages)


def test_a_rejected_token_is_renewed_once_and_the_call_repeated(
    personio: rm.Mocker, sync: Callable[..., Any], no_sleep: list[float]
) -> None:
    personio.post(
        f"{BASE}/v1/auth",
        [
            {"json": {"success": True, "data": {"token": "papi-old"}}},
            {"json": {"success": True, "data": {"token": "papi-new"}}},
        ],
    )

    def employees(request: Any, context: Any) -> dict[str, Any]:
        if request.headers["Authorization"] != "Bearer papi-new":
            context.status_code = 403
            return {"success": False, "error": {"code": 403, "message": "not valid"}}
        return page([employee(1)])

    personio.get(f"{BASE}/v1/company/employees", json=employees)
    # the attributes call takes the old token; the employees call gets 403 and renews it
    messages, _ = sync(CONFIG, streams=["employees"])
    assert [m["record"]["id"] for m in messages if m["type"] == "RECORD"] == [1]
    assert len(calls(personio, "POST", "/v1/auth")) == 2
    assert sum(no_sleep) == 0


def test_a_token_rejected_again_after_renewal_stops_with_one_sentence(
    personio: rm.Mocker, sync: Callable[..., Any], no_sleep: list[float]
) -> None:
    personio.get(
        f"{BASE}/v1/company/employees",
        status_code=403,
        json={"success": False, "error": {"code": 403, "message": "not valid"}},
    )
    with pytest.raises(
        PersonioError, match=r"refused access to /v1/company/employees \(HTTP 403\)"
    ):
        sync(CONFIG, streams=["employees"])
    assert len(calls(personio, "POST", "/v1/auth")) == 2


def test_wrong_credentials_stop_with_one_sentence_naming_the_fix(
    personio: rm.Mocker, sync: Callable[..., Any], no_sleep: list[float]
) -> None:
    personio.post(
        f"{BASE}/v1/auth",
        status_code=401,
        json={"success": False, "error": {"code": 401, "message": "Wrong credentials"}},
    )
    with pytest.raises(PersonioError) as caught:
        sync(CONFIG)
    message = str(caught.value)
    assert "rejected the API credential" in message
    assert "client_id and client_secret" in message
    assert "very-secret-value" not in message


def test_429_waits_for_retry_after_and_carries_on(
    personio: rm.Mocker, sync: Callable[..., Any], no_sleep: list[float]
) -> None:
    personio.get(
        f"{BASE}/v1/company/employees",
        [
            {"status_code": 429, "headers": {"Retry-After": "3"}, "json": {"success": False}},
            {"status_code": 429, "json": {"success": False}},
            {"json": page([employee(1)])},
        ],
    )
    messages, _ = sync(CONFIG, streams=["employees"])
    assert [m["record"]["id"] for m in messages if m["type"] == "RECORD"] == [1]
    assert no_sleep[0] == 3.0
    assert 1.0 <= no_sleep[1] <= 1.1


def test_5xx_is_retried_with_growing_waits(
    personio: rm.Mocker, sync: Callable[..., Any], no_sleep: list[float]
) -> None:
    personio.get(
        f"{BASE}/v2/absence-types",
        [
            {"status_code": 502, "text": "bad gateway"},
            {"status_code": 503, "text": "unavailable"},
            {"json": {"_data": [{"id": "t1", "name": "Vacation"}], "_meta": {"links": {}}}},
        ],
    )
    messages, _ = sync(CONFIG, streams=["absence_types"])
    assert [m["record"]["id"] for m in messages if m["type"] == "RECORD"] == ["t1"]
    assert 1.0 <= no_sleep[0] < no_sleep[1] <= 2.2


def test_unreachable_host_stops_with_one_sentence(
    requests_mock: rm.Mocker, no_sleep: list[float]
) -> None:
    requests_mock.post(f"{BASE}/v1/auth", exc=requests.exceptions.ConnectionError("refused"))
    with pytest.raises(PersonioError, match=r"Cannot reach Personio at https://personio.test"):
        _ = TapPersonio(config=CONFIG, parse_env_config=False, sleep=no_sleep.append).streams


def test_plain_http_is_refused_for_a_host_that_is_not_loopback() -> None:
    config = {**CONFIG, "base_url": "http://api.personio.de"}
    with pytest.raises(PersonioError, match="uses plain http: use https"):
        _ = TapPersonio(config=config, parse_env_config=False).streams


def test_plain_http_is_allowed_on_loopback() -> None:
    tap = TapPersonio(config={**CONFIG, "base_url": "http://127.0.0.1:8401/"}, setup_mapper=False)
    assert tap.base_url == "http://127.0.0.1:8401"


def test_credentials_can_come_from_a_file(tmp_path: Path) -> None:
    path = tmp_path / "personio.json"
    path.write_text(json.dumps({"client_id": "file-id", "client_secret": "file-secret"}))
    tap = TapPersonio(config={"credentials_file": str(path)}, setup_mapper=False)
    assert tap.credentials == ("file-id", "file-secret")


def test_missing_credentials_are_named() -> None:
    tap = TapPersonio(config={}, setup_mapper=False, parse_env_config=False)
    with pytest.raises(ConfigValidationError, match="set client_id and client_secret"):
        _ = tap.credentials


def test_missing_required_attributes_are_all_named_in_one_message(
    personio: rm.Mocker,
) -> None:
    readable = [a for a in ATTRIBUTES if a["key"] not in ("office", "weekly_working_hours")]
    personio.get(
        f"{BASE}/v1/company/employees/attributes", json={"success": True, "data": readable}
    )
    with pytest.raises(PersonioError) as caught:
        _ = TapPersonio(config=CONFIG, parse_env_config=False).streams
    assert str(caught.value).startswith(
        "The Personio API credential cannot read the employee attributes "
        "office, weekly_working_hours: allow them"
    )
    assert "Readable employee attributes" in str(caught.value)


def paced(no_sleep: list[float]) -> PersonioPacing:
    """Personio's pacing on a clock that moves only when it sleeps; its waits go to ``no_sleep``."""
    clock = ManualClock()

    def sleep(seconds: float) -> None:
        no_sleep.append(seconds)
        clock.sleep(seconds)

    return PersonioPacing(clock=clock, sleep=sleep)


def test_employee_list_pacing_keeps_bursts_under_15_per_second(no_sleep: list[float]) -> None:
    pacer = paced(no_sleep)
    # when each request went out
    stamps = [pacer.before("GET", f"{BASE}/v1/company/employees?limit=100") for _ in range(30)]
    assert len(stamps) == 30
    assert all(stamps[i + 15] - stamps[i] >= 1.0 for i in range(30 - 15))
    assert 0.9 < sum(no_sleep) < 1.1  # 30 requests at 15 a second take one second


def test_v2_pacing_follows_the_token_bucket_headers(no_sleep: list[float]) -> None:
    pacer = paced(no_sleep)
    response = requests.Response()
    response.headers.update({"x-ratelimit-remaining": "0", "x-ratelimit-replenish-rate": "4"})
    sent = pacer.before("GET", f"{BASE}/v2/absence-periods")
    pacer.after("GET", f"{BASE}/v2/absence-periods", response.headers, sent)
    pacer.before("GET", f"{BASE}/v2/absence-periods")
    pacer.before("GET", f"{BASE}/v2/attendance-periods")
    assert len(no_sleep) == 1
    assert 0.25 <= no_sleep[0] <= 0.27  # one token at 4 a second, from when it was sent


def test_a_single_missing_attribute_is_named_in_the_singular(personio: rm.Mocker) -> None:
    readable = [a for a in ATTRIBUTES if a["key"] != "team"]
    personio.get(
        f"{BASE}/v1/company/employees/attributes", json={"success": True, "data": readable}
    )
    with pytest.raises(PersonioError) as caught:
        _ = TapPersonio(config=CONFIG, parse_env_config=False).streams
    assert str(caught.value).startswith(
        "The Personio API credential cannot read the employee attribute team: allow it"
    )
    assert str(caught.value).endswith("or remove it from required_attributes.")


def test_endless_5xx_gives_up_after_the_shared_policys_attempts(
    personio: rm.Mocker, sync: Callable[..., Any], no_sleep: list[float]
) -> None:
    personio.get(f"{BASE}/v2/absence-types", status_code=502, text="bad gateway")
    with pytest.raises(PersonioError, match=r"Personio kept failing \(HTTP 502 for /v2/absence"):
        sync(CONFIG, streams=["absence_types"])
    assert len(calls(personio, "GET", "/v2/absence-types")) == 6
    assert len(no_sleep) == 5


def test_429s_are_waited_out_for_at_most_15_minutes_in_a_run(
    personio: rm.Mocker, sync: Callable[..., Any], no_sleep: list[float]
) -> None:
    personio.get(
        f"{BASE}/v1/company/employees",
        status_code=429,
        headers={"Retry-After": "120"},
        json={"success": False},
    )
    with pytest.raises(PersonioError) as caught:
        sync(CONFIG, streams=["employees"])
    assert str(caught.value) == (
        "Personio kept answering 429 (rate limited): this run waited 14 min 0 s for it, and "
        "the 2 min 0 s more it asks for would pass rate_limit_wait_seconds=900; the run stops "
        "here and the next one continues from its bookmark."
    )
    assert no_sleep == [120.0] * 7  # an eighth wait would pass 15 minutes
    assert len(calls(personio, "GET", "/v1/company/employees")) == 8
