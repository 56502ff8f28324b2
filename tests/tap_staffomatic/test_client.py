"""The HTTP client of tap-staffomatic against a mocked API: headers, paging, retries, errors."""

from __future__ import annotations

import base64
import re
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from typing import Any, cast

import pytest
import requests_mock as rm
from tap_staffomatic.client import StaffomaticError
from tap_staffomatic.tap import TapStaffomatic
from vendor_http.staffomatic import RETRY, StaffomaticPacer, retry_wait

MAX_TRIES = RETRY.max_attempts
API = "https://api.test/v3/acme"
CONFIG = {
    "account": "acme",
    "email": "api@acme.example",
    "password": "s3cret-pass",
    "base_url": "https://api.test/v3",
    "user_agent": "Acme HR Sync (it@acme.example)",
}


def read(
    stream_name: str,
    config: dict[str, Any] | None = None,
    sleep: Callable[[float], None] = time.sleep,
) -> list[dict[str, Any]]:
    """The records of one stream as the tap emits them (without the Singer messages)."""
    tap = TapStaffomatic(config=dict(config or CONFIG), parse_env_config=False, sleep=sleep)
    stream = tap.streams[stream_name]
    rows = (
        stream.post_process(cast(dict[str, Any], row), None) for row in stream.get_records(None)
    )
    return [row for row in rows if row is not None]


def one_location(requests_mock: rm.Mocker) -> None:
    requests_mock.get(
        f"{API}/locations.json", [{"json": [{"id": 64, "name": "Cafe"}]}, {"json": []}]
    )


def test_requests_send_the_user_agent_basic_auth_and_page_parameters(
    requests_mock: rm.Mocker,
) -> None:
    requests_mock.get(
        f"{API}/locations.json",
        [{"json": [{"id": 1, "name": "Vienna"}]}, {"json": []}],
    )

    rows = read("locations")

    assert [row["id"] for row in rows] == [1]
    first, second = requests_mock.request_history
    expected = base64.b64encode(b"api@acme.example:s3cret-pass").decode()
    assert first.headers["Authorization"] == f"Basic {expected}"
    assert first.headers["User-Agent"] == "Acme HR Sync (it@acme.example)"
    assert first.qs == {"page": ["1"], "per_page": ["100"]}
    assert second.qs == {"page": ["2"], "per_page": ["100"]}


def test_api_token_is_sent_as_bearer_instead_of_basic(requests_mock: rm.Mocker) -> None:
    requests_mock.get(f"{API}/locations.json", [{"json": [{"id": 1}]}, {"json": []}])

    read("locations", {**CONFIG, "api_token": "tok-123"})

    assert requests_mock.request_history[0].headers["Authorization"] == "Bearer tok-123"


def test_the_default_user_agent_names_the_plugin(requests_mock: rm.Mocker) -> None:
    requests_mock.get(f"{API}/account.json", json={"id": 5, "subdomain": "acme"})
    config = {key: value for key, value in CONFIG.items() if key != "user_agent"}

    read("account", config)

    assert requests_mock.request_history[0].headers["User-Agent"].startswith("tap-staffomatic ")


def test_paging_follows_link_next_and_stops_when_the_link_names_no_next(
    requests_mock: rm.Mocker,
) -> None:
    next_url = f"{API}/locations.json?page=2&per_page=100&cursor=xyz"
    requests_mock.get(
        f"{API}/locations.json",
        [
            {"json": [{"id": 1}], "headers": {"Link": f'<{next_url}>; rel="next"'}},
            {
                "json": [{"id": 2}],
                "headers": {"Link": f'<{API}/locations.json?page=1>; rel="prev"'},
            },
        ],
    )

    rows = read("locations")

    assert [row["id"] for row in rows] == [1, 2]
    assert len(requests_mock.request_history) == 2
    assert requests_mock.request_history[1].qs["cursor"] == ["xyz"]


def test_a_next_link_to_another_host_is_not_followed(requests_mock: rm.Mocker) -> None:
    requests_mock.get(
        f"{API}/locations.json",
        [
            {
                "json": [{"id": 1}],
                "headers": {"Link": '<https://evil.example/x?page=2>; rel="next"'},
            },
            {"json": []},
        ],
    )

    read("locations")

    assert {r.hostname for r in requests_mock.request_history} == {"api.test"}
    assert requests_mock.request_history[1].qs["page"] == ["2"]


def test_a_429_waits_for_retry_after_and_then_carries_on(
    requests_mock: rm.Mocker, no_sleep: list[float]
) -> None:
    requests_mock.get(
        f"{API}/locations.json",
        [
            {"status_code": 429, "headers": {"Retry-After": "7"}, "text": "slow down"},
            {"json": [{"id": 1}]},
            {"json": []},
        ],
    )

    rows = read("locations", sleep=no_sleep.append)

    assert [row["id"] for row in rows] == [1]
    assert no_sleep == [7.0]


def test_server_errors_are_retried_with_growing_waits(
    requests_mock: rm.Mocker, no_sleep: list[float]
) -> None:
    requests_mock.get(
        f"{API}/locations.json",
        [
            {"status_code": 503, "text": "down"},
            {"status_code": 502, "text": "bad gateway"},
            {"json": [{"id": 1}]},
            {"json": []},
        ],
    )

    rows = read("locations", sleep=no_sleep.append)

    assert [row["id"] for row in rows] == [1]
    assert len(no_sleep) == 2
    assert 1.0 <= no_sleep[0] <= 2.0
    assert 2.0 <= no_sleep[1] <= 4.0


def test_a_server_that_keeps_failing_ends_the_run_with_one_sentence(
    requests_mock: rm.Mocker, no_sleep: list[float]
) -> None:
    requests_mock.get(f"{API}/locations.json", status_code=500, text="boom")

    with pytest.raises(StaffomaticError) as failure:
        read("locations", sleep=no_sleep.append)

    assert len(requests_mock.request_history) == MAX_TRIES
    assert str(failure.value) == (
        f"Staffomatic answered 500 for /v3/acme/locations.json after {MAX_TRIES} attempts: "
        "Staffomatic is unavailable or overloaded, run the tap again later."
    )


@pytest.mark.parametrize(
    ("status", "expected"),
    [
        (
            400,
            r"^Staffomatic refused /v3/acme/locations.json as a bad request \(400\): .*user_agent",
        ),
        (401, r"^Staffomatic rejected the credentials \(401 Unauthorized\): check `email`"),
        (403, r"^The Staffomatic user may not read /v3/acme/locations.json \(403 Forbidden\)"),
        (404, r"^Staffomatic does not know /v3/acme/locations.json \(404 Not Found\): .*`account`"),
    ],
)
def test_each_client_error_stops_at_once_with_a_sentence_saying_what_to_fix(
    requests_mock: rm.Mocker, status: int, expected: str
) -> None:
    requests_mock.get(f"{API}/locations.json", status_code=status, text="<html>nope</html>")

    with pytest.raises(StaffomaticError, match=expected) as failure:
        read("locations")

    assert len(requests_mock.request_history) == 1
    message = str(failure.value)
    assert message.count(". ") == 0
    assert message.endswith(".")
    assert "s3cret-pass" not in message


def test_an_html_page_instead_of_json_says_to_check_base_url(requests_mock: rm.Mocker) -> None:
    requests_mock.get(f"{API}/locations.json", text="<html>login</html>")

    with pytest.raises(StaffomaticError, match=r"sent no JSON .* check that `base_url`"):
        read("locations")


def test_a_running_timer_keeps_a_null_end_and_its_breaks_are_embedded_in_order(
    requests_mock: rm.Mocker,
) -> None:
    breaks = [
        {"id": 8, "work_timer_id": 3, "starts_at": "2024-05-02T12:00:00+02:00",
         "ends_at": None, "duration": 0, "updated_at": "2024-05-02T12:00:00+02:00"},
        {"id": 7, "work_timer_id": 3, "starts_at": "2024-05-02T10:00:00+02:00",
         "ends_at": "2024-05-02T10:15:00+02:00", "duration": 900,
         "updated_at": "2024-05-02T10:15:00+02:00"},
        {"id": 9, "work_timer_id": 99, "starts_at": "2024-05-02T10:00:00+02:00",
         "ends_at": "2024-05-02T10:05:00+02:00", "duration": 300,
         "updated_at": "2024-05-02T10:05:00+02:00"},
    ]  # fmt: skip
    timer = {
        "id": 3,
        "user_id": 11,
        "state": "running",
        "starts_at": "2024-05-02T08:00:00+02:00",
        "ends_at": None,
        "updated_at": "2024-05-02T12:00:00+02:00",
        "unknown_field": 1,
    }
    requests_mock.get(f"{API}/break_timers.json", [{"json": breaks}, {"json": []}])
    requests_mock.get(f"{API}/work_timers.json", [{"json": [timer]}, {"json": []}])
    user = {"id": 11, "custom_id": "1001", "email": "anna@example.org", "phone": "0170"}
    requests_mock.get(f"{API}/users.json", [{"json": [user]}, {"json": []}])

    (row,) = read("work_timers")

    assert row["ends_at"] is None
    assert row["breaks"] == [
        {"id": 7, "starts_at": "2024-05-02T10:00:00+02:00",
         "ends_at": "2024-05-02T10:15:00+02:00", "duration": 900},
        {"id": 8, "starts_at": "2024-05-02T12:00:00+02:00", "ends_at": None, "duration": 0},
    ]  # fmt: skip
    assert "unknown_field" not in row
    assert (row["user_custom_id"], row["user_email"]) == ("1001", "anna@example.org")
    break_request = requests_mock.request_history[0]
    assert break_request.path == "/v3/acme/break_timers.json"
    assert set(break_request.qs) == {"from", "until", "page", "per_page"}
    assert sum(r.path.endswith("break_timers.json") for r in requests_mock.request_history) == 2


def test_the_timer_window_never_starts_before_start_date(requests_mock: rm.Mocker) -> None:
    start = datetime.now(UTC) - timedelta(days=2)
    requests_mock.get(f"{API}/break_timers.json", json=[])
    requests_mock.get(f"{API}/work_timers.json", json=[])

    read("work_timers", {**CONFIG, "start_date": start.isoformat()})

    timers = [r for r in requests_mock.request_history if r.path.endswith("work_timers.json")]
    since = datetime.fromisoformat(timers[0].qs["from"][0].upper())
    assert abs((since - start).total_seconds()) < 1


def test_absences_get_the_applicant_as_user_and_the_type_name(requests_mock: rm.Mocker) -> None:
    one_location(requests_mock)
    requests_mock.get(
        f"{API}/locations/64/absence_types.json",
        [{"json": [{"id": 1, "name": "Urlaub", "location_id": 64}]}, {"json": []}],
    )
    absence = {"id": 85015, "applicant_id": 493, "absence_type_id": 1, "state": "approved",
               "starts_at": "2024-11-16T00:00:00+01:00", "ends_at": "2024-11-23T23:59:59+01:00",
               "all_day": True, "updated_at": "2024-11-17T19:36:22+01:00"}  # fmt: skip
    requests_mock.get(f"{API}/absences.json", [{"json": [absence]}, {"json": []}])

    (row,) = read("absences")

    assert row["user_id"] == 493
    assert row["absence_type_name"] == "Urlaub"
    assert row["starts_at"] == "2024-11-16T00:00:00+01:00"
    window = next(r for r in requests_mock.request_history if r.path.endswith("absences.json"))
    since = datetime.fromisoformat(window.qs["from"][0].upper())
    until = datetime.fromisoformat(window.qs["until"][0].upper())
    assert 60 <= (datetime.now(UTC) - since).days <= 61
    assert 365 <= (until - datetime.now(UTC)).days <= 366


def test_users_get_the_locations_of_their_departments(requests_mock: rm.Mocker) -> None:
    one_location(requests_mock)
    requests_mock.get(
        f"{API}/locations/64/departments.json",
        [{"json": [{"id": 39166, "location_id": 64, "user_ids": []}]}, {"json": []}],
    )
    user = {"id": 493, "email": "a@acme.example", "department_ids": [39166], "locked_at": None}
    requests_mock.get(f"{API}/users.json", [{"json": [user]}, {"json": []}])

    (row,) = read("users")

    assert row["location_ids"] == [64]
    users = [r for r in requests_mock.request_history if r.path.endswith("users.json")]
    assert users[0].qs["state"] == ["all"]


def test_the_pacer_waits_once_the_window_is_full() -> None:
    clock = [100.0]
    waits: list[float] = []
    pacer = StaffomaticPacer(limit=3, seconds=10.0, clock=lambda: clock[0], sleep=waits.append)

    for _ in range(3):
        pacer.wait()
        clock[0] += 1.0
    pacer.wait()

    assert waits == [7.0]


def test_retry_after_as_an_http_date_and_a_bare_429_wait_at_least_a_second() -> None:
    class Failure(Exception):
        def __init__(self, status: int, headers: dict[str, str]) -> None:
            self.response = type("R", (), {"status_code": status, "headers": headers})()

    later = format_datetime(datetime.now(UTC) + timedelta(seconds=30), usegmt=True)
    assert 28 <= retry_wait(Failure(503, {"Retry-After": later}), 1) <= 30
    assert retry_wait(Failure(429, {}), 3) == 1.0
    assert retry_wait(Failure(429, {"Retry-After": "0"}), 1) == 1.0


def test_pages_with_a_foreign_body_shape_are_rejected(requests_mock: rm.Mocker) -> None:
    requests_mock.get(f"{API}/locations.json", json={"error": "not a list"})

    with pytest.raises(StaffomaticError, match=re.escape("unexpected body for /v3/acme/")):
        read("locations")


def test_a_server_that_ignores_the_page_parameter_stops_the_run_instead_of_looping(
    requests_mock: rm.Mocker,
) -> None:
    requests_mock.get(f"{API}/locations.json", json=[{"id": 1}])

    with pytest.raises(StaffomaticError, match="sent the same page twice"):
        read("locations")

    assert len(requests_mock.request_history) == 2
