"""tap-staffomatic on THE Staffomatic policy: shared run services, the 429 budget, no server."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any, cast

import pytest
import requests
import requests_mock as rm
import urllib3
from tap_staffomatic.client import StaffomaticError, StaffomaticStream
from tap_staffomatic.tap import TapStaffomatic
from vendor_http.staffomatic import RETRY

API = "https://api.test/v3/acme"
CONFIG = {
    "account": "acme",
    "api_token": "tok-123",
    "base_url": "https://api.test/v3",
    "user_agent": "Acme HR Sync (it@acme.example)",
}


def read(stream_name: str, sleep: Callable[[float], None] = time.sleep) -> list[dict[str, Any]]:
    tap = TapStaffomatic(config=dict(CONFIG), parse_env_config=False, sleep=sleep)
    return cast("list[dict[str, Any]]", list(tap.streams[stream_name].get_records(None)))


def streams(tap: TapStaffomatic) -> dict[str, StaffomaticStream]:
    """The tap's streams, typed as what they are."""
    return {name: cast(StaffomaticStream, stream) for name, stream in tap.streams.items()}


def test_every_stream_of_a_run_shares_one_set_of_services() -> None:
    tap = TapStaffomatic(config=dict(CONFIG), parse_env_config=False)
    services = {id(stream.services) for stream in streams(tap).values()}
    (shared,) = {stream.services for stream in streams(tap).values()}

    assert len(services) == 1
    assert shared.authenticator is streams(tap)["users"].authenticator
    assert shared.authenticator.auth_headers == {"Authorization": "Bearer tok-123"}
    assert shared.pacer.limit.requests == 500


def test_429s_are_retried_past_the_attempts_of_5xx_within_the_wait_budget(
    requests_mock: rm.Mocker, no_sleep: list[float]
) -> None:
    throttled = {"status_code": 429, "headers": {"Retry-After": "2"}}
    many = RETRY.max_attempts + 3
    requests_mock.get(
        f"{API}/locations.json", [throttled] * many + [{"json": [{"id": 1}]}, {"json": []}]
    )

    rows = read("locations", sleep=no_sleep.append)

    assert [row["id"] for row in rows] == [1]
    assert no_sleep == [2.0] * many


def test_no_server_at_all_stops_after_the_connect_attempts_with_one_sentence(
    requests_mock: rm.Mocker, no_sleep: list[float]
) -> None:
    refused = urllib3.exceptions.NewConnectionError(None, "refused")  # type: ignore[arg-type]
    pool = urllib3.exceptions.MaxRetryError(None, "/", refused)  # type: ignore[arg-type]
    requests_mock.get(f"{API}/locations.json", exc=requests.exceptions.ConnectionError(pool))

    with pytest.raises(StaffomaticError) as failure:
        read("locations", sleep=no_sleep.append)

    attempts = RETRY.connect_attempts
    assert len(requests_mock.request_history) == attempts
    assert str(failure.value) == (
        "Cannot reach Staffomatic at https://api.test/v3 (ConnectionError) after "
        f"{attempts} attempts: check `base_url` and the network."
    )
