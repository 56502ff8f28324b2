"""THE Personio policy: pacing to the documented limits, error text, one token cache."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import httpx
import pytest
from vendor_http.budget import RateLimitBudget
from vendor_http.pacing import Limit
from vendor_http.personio import (
    EMPLOYEES_LIMITS,
    V1_LIMITS,
    VENDOR,
    CredentialRejected,
    PersonioPacing,
    PersonioProblem,
    Unreachable,
    bucket_key,
    error_text,
)
from vendor_http.personio_auth import Tokens
from vendor_http.testing import ManualClock

BASE = "https://personio.test"
EMPLOYEES = f"{BASE}/v1/company/employees?limit=100&offset=0"


def most_in_any_window(stamps: list[float], seconds: float) -> int:
    return max(sum(1 for s in stamps if t <= s < t + seconds) for t in stamps)


def test_the_v1_windows_are_the_documented_limits_without_a_margin() -> None:
    """Personio: v1 employees 300 a minute with bursts of at most 15 a second; all v1 2,000 a
    minute (research notes). The benchmark's floor reads the same constants."""
    assert (Limit(2000, 60.0),) == V1_LIMITS
    assert set(EMPLOYEES_LIMITS) == {Limit(300, 60.0), Limit(15, 1.0)}


def test_employees_list_goes_out_at_the_documented_15_a_second_and_300_a_minute() -> None:
    clock = ManualClock()
    pacing = PersonioPacing(clock=clock, sleep=clock.sleep)
    stamps = [pacing.before("GET", EMPLOYEES) for _ in range(600)]
    assert most_in_any_window(stamps, 1.0) == 15
    assert most_in_any_window(stamps, 60.0) == 300


def test_other_v1_calls_share_only_the_2000_a_minute_budget() -> None:
    clock = ManualClock()
    pacing = PersonioPacing(clock=clock, sleep=clock.sleep)
    stamps = [pacing.before("GET", f"{BASE}/v1/company/time-offs") for _ in range(1000)]
    stamps += [pacing.before("GET", EMPLOYEES) for _ in range(15)]
    assert stamps[-1] == stamps[0]  # 1015 requests fit under 2000 a minute at once
    stamps += [pacing.before("POST", f"{BASE}/v1/auth") for _ in range(1000)]
    assert most_in_any_window(stamps, 60.0) == 2000


def test_a_v1_request_counts_until_its_answer_so_a_slow_answer_draws_no_429() -> None:
    """Personio counts a request when it arrives: a burst whose answers were slow must not be
    followed by a full burst one second after its SEND (both could arrive in one second)."""
    clock = ManualClock()
    pacing = PersonioPacing(clock=clock, sleep=clock.sleep)
    first = [pacing.before("GET", EMPLOYEES) for _ in range(15)]
    clock.advance(0.8)  # the answers took 0.8 s
    for sent in first:
        pacing.after("GET", EMPLOYEES, {}, sent)
    second = pacing.before("GET", EMPLOYEES)
    # one second after the answers: even if all 15 arrived just before they were answered,
    # the 16th cannot arrive in the same second
    assert second == pytest.approx(first[0] + 0.8 + 1.0)


def test_answers_that_come_fast_keep_the_pace_at_the_limit() -> None:
    clock = ManualClock()
    pacing = PersonioPacing(clock=clock, sleep=clock.sleep)
    stamps = []
    for _ in range(45):
        sent = pacing.before("GET", EMPLOYEES)
        pacing.after("GET", EMPLOYEES, {}, sent)  # answered at once
        stamps.append(sent)
    assert most_in_any_window(stamps, 1.0) == 15
    assert stamps[-1] - stamps[0] == pytest.approx(2.0)  # 45 requests: three bursts of 15


def test_an_unanswered_request_stays_counted_and_an_unknown_answer_changes_nothing() -> None:
    clock = ManualClock()
    pacing = PersonioPacing(clock=clock, sleep=clock.sleep)
    sent = [pacing.before("GET", EMPLOYEES) for _ in range(15)]
    pacing.after("GET", EMPLOYEES, {}, sent[0] + 123.0)  # no such request: ignored
    pacing.after("GET", f"{BASE}/v1/company/time-offs", {}, sent[0])  # other windows: ignored
    assert pacing.before("GET", EMPLOYEES) == pytest.approx(sent[0] + 1.0)


def test_an_empty_v2_bucket_holds_its_endpoint_from_when_the_request_was_sent() -> None:
    clock = ManualClock()
    pacing = PersonioPacing(clock=clock, sleep=clock.sleep)
    url = f"{BASE}/v2/attendance-periods/abc"
    sent = pacing.before("PATCH", url)
    clock.advance(0.02)  # the answer came 20 ms later
    headers = {"x-ratelimit-remaining": "0", "x-ratelimit-replenish-rate": "2"}
    pacing.after("PATCH", url, headers, sent)
    pacing.before("GET", f"{BASE}/v2/attendance-periods")  # another bucket: no wait
    assert clock.slept == []
    assert pacing.before("PATCH", f"{BASE}/v2/attendance-periods/xyz") == pytest.approx(
        sent + 0.5 + 0.02
    )


def test_a_bucket_with_tokens_left_holds_nothing() -> None:
    clock = ManualClock()
    pacing = PersonioPacing(clock=clock, sleep=clock.sleep)
    url = f"{BASE}/v2/absence-periods"
    headers = {"x-ratelimit-remaining": "3", "x-ratelimit-replenish-rate": "2"}
    pacing.after("GET", url, headers, pacing.before("GET", url))
    pacing.after("GET", url, {"x-ratelimit-remaining": "soon"}, pacing.before("GET", url))
    pacing.before("GET", url)
    assert clock.slept == []


def test_bucket_keys_leave_ids_out() -> None:
    assert bucket_key("get", "/v2/persons/12/employments/9?x=1") == (
        "GET /v2/persons/{id}/employments/{id}"
    )
    assert bucket_key("DELETE", f"{BASE}/v2/attendance-periods/a-1") == (
        "DELETE /v2/attendance-periods/{id}"
    )


@pytest.mark.parametrize(
    ("body", "text"),
    [
        ({"errors": [{"title": "Unprocessable", "detail": "Too long"}]}, "Unprocessable: Too long"),
        ({"success": False, "error": {"code": 404, "message": "Not found."}}, "Not found."),
        ({"error": "invalid_client", "error_description": "Bad secret"}, "Bad secret"),
        ({"error": "invalid_client"}, "invalid_client"),
        ({"detail": "Nope"}, "Nope"),
        ([1, 2], "[1, 2]"),
    ],
)
def test_personio_error_text_from_each_shape(body: Any, text: str) -> None:
    assert error_text(httpx.Response(400, json=body)) == text


def test_error_text_of_a_page_that_is_not_json_is_shortened() -> None:
    assert error_text(httpx.Response(502, text="<html>" + "x" * 500)) == ("<html>" + "x" * 294)
    assert error_text(httpx.Response(502, text="")) == "Bad Gateway"


Handler = Callable[[httpx.Request], httpx.Response]


def tokens(handler: Handler, clock: ManualClock | None = None) -> tuple[Tokens, list[str]]:
    seen: list[str] = []
    clock = clock or ManualClock()

    def record(request: httpx.Request) -> httpx.Response:
        seen.append(f"{request.method} {request.url.path}")
        return handler(request)

    client = httpx.Client(transport=httpx.MockTransport(record))
    cache = Tokens(
        base_url=BASE,
        client_id="id",
        client_secret="s3cr3t-value",
        app_id="APP",
        post=client.post,
        pacing=PersonioPacing(clock=clock, sleep=clock.sleep),
        budget=RateLimitBudget(vendor=VENDOR, clock=clock),
    )
    return cache, seen


def issue(request: httpx.Request) -> httpx.Response:
    if request.url.path == "/v1/auth":
        assert request.headers["X-Personio-App-ID"] == "APP"
        return httpx.Response(200, json={"success": True, "data": {"token": "papi-1"}})
    assert b"grant_type=client_credentials" in request.content
    return httpx.Response(200, json={"access_token": "papi-2", "expires_in": 3600})


def test_each_generation_is_fetched_once_and_renewed_before_it_expires() -> None:
    clock = ManualClock()
    cache, seen = tokens(issue, clock)
    assert [cache.token("v1"), cache.token("v2"), cache.token("v1"), cache.token("v2")] == [
        "papi-1",
        "papi-2",
        "papi-1",
        "papi-2",
    ]
    assert seen == ["POST /v1/auth", "POST /v2/auth/token"]
    clock.advance(3600 - 301)
    cache.token("v2")
    assert seen.count("POST /v2/auth/token") == 1
    clock.advance(2)  # within five minutes of the end of its hour
    cache.token("v2")
    assert seen.count("POST /v2/auth/token") == 2


def test_a_rejected_token_is_renewed_once_until_one_is_accepted() -> None:
    cache, seen = tokens(issue)
    first = cache.token("v2")
    assert cache.reject("v2", first) is True
    second = cache.token("v2")
    assert seen.count("POST /v2/auth/token") == 2
    assert cache.reject("v2", second) is False  # a fresh token refused: the credential lacks it
    cache.accepted("v2")
    assert cache.reject("v2", second) is True


def test_a_token_another_request_already_replaced_is_not_dropped_again() -> None:
    cache, seen = tokens(issue)
    cache.token("v1")
    assert cache.reject("v1", "papi-old") is True
    cache.token("v1")
    assert seen.count("POST /v1/auth") == 1


def test_refused_credentials_are_one_sentence_with_personios_reason() -> None:
    cache, _ = tokens(lambda r: httpx.Response(401, json={"error": "invalid_client"}))
    with pytest.raises(CredentialRejected) as caught:
        cache.token("v2")
    assert str(caught.value).startswith(
        "Personio rejected the API credential for the v2 API (HTTP 401: invalid_client): "
        "check the client_id and client_secret settings"
    )
    assert "s3cr3t-value" not in str(caught.value)


def test_a_throttled_token_endpoint_is_retried() -> None:
    answers = iter([httpx.Response(429, headers={"Retry-After": "2"})])
    clock = ManualClock()
    cache, seen = tokens(lambda r: next(answers, None) or issue(r), clock)
    assert cache.token("v1") == "papi-1"
    assert clock.slept == [2.0]
    assert seen == ["POST /v1/auth", "POST /v1/auth"]


def test_no_server_is_tried_three_times_then_named() -> None:
    def refuse(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("refused")

    cache, seen = tokens(refuse)
    with pytest.raises(Unreachable, match=r"Cannot reach Personio at https://personio.test"):
        cache.token("v1")
    assert len(seen) == 3


def test_an_answer_without_a_token_names_the_base_url() -> None:
    cache, _ = tokens(lambda r: httpx.Response(200, text="<html>login</html>"))
    with pytest.raises(PersonioProblem, match="holds no access token: check that base_url"):
        cache.token("v1")
