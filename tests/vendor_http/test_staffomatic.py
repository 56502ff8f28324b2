"""THE Staffomatic policy: auth header, User-Agent rule, pacing, retries and error text."""

from __future__ import annotations

import base64

import httpx
import pytest
import requests
from vendor_http.staffomatic import (
    LIMIT,
    RETRY,
    MissingCredentials,
    StaffomaticPacer,
    account_url,
    authorization,
    error_text,
    failure_facts,
    names_contact,
    retry_wait,
    user_agent,
)
from vendor_http.testing import ManualClock


def test_a_token_is_sent_as_bearer_before_email_and_password() -> None:
    assert authorization(api_token="tok", email="a@b.c", password="pw") == "Bearer tok"


def test_email_and_password_are_sent_as_basic_in_utf8() -> None:
    header = authorization(email="zoë@acme.example", password="pässword")
    assert header == "Basic " + base64.b64encode("zoë@acme.example:pässword".encode()).decode()


@pytest.mark.parametrize("given", [{}, {"email": "a@b.c"}, {"password": "pw"}])
def test_incomplete_credentials_are_one_sentence(given: dict[str, str]) -> None:
    with pytest.raises(MissingCredentials, match="set api_token, or email and password"):
        authorization(**given)


def test_the_user_agent_is_the_setting_or_the_plugin_with_the_users_email() -> None:
    assert user_agent("Acme (it@acme.example)", plugin="x") == "Acme (it@acme.example)"
    assert user_agent(None, plugin="target-staffomatic", email="api@acme.example") == (
        "target-staffomatic (api@acme.example)"
    )
    assert user_agent("", plugin="target-staffomatic") == "target-staffomatic"
    assert names_contact("Acme (it@acme.example)")
    assert not names_contact("tap-staffomatic (no contact address: please set user_agent)")


def test_the_account_url_joins_base_and_subdomain() -> None:
    assert account_url("https://api.test/v3/", " acme ") == "https://api.test/v3/acme"
    assert account_url(None, "acme") == "https://api.staffomaticapp.com/v3/acme"


def test_pacing_holds_to_the_documented_500_requests_in_10_seconds() -> None:
    clock = ManualClock()
    pacer = StaffomaticPacer(clock=clock, sleep=clock.sleep)
    for _ in range(501):
        pacer.wait()
    assert LIMIT.requests == 500
    assert clock.slept == [10.0]
    assert pacer.waited == 10.0


def test_a_request_counts_until_its_answer_so_a_slow_answer_holds_its_place_longer() -> None:
    clock = ManualClock()
    pacer = StaffomaticPacer(1, 1.0, clock=clock, sleep=clock.sleep)
    with pacer.slot():
        clock.advance(0.3)  # Staffomatic may have counted it as late as its answer
    with pacer.slot():
        sent_at = clock()
    assert sent_at == 1001.3  # one second after the first answer, not after its send
    assert clock.slept == [pytest.approx(1.0)]


def test_an_answer_slower_than_the_window_still_counts_once() -> None:
    clock = ManualClock()
    pacer = StaffomaticPacer(1, 1.0, clock=clock, sleep=clock.sleep)
    with pacer.slot():
        clock.advance(5.0)
    start = clock()
    pacer.wait()
    assert clock() - start == 1.0


def test_a_bare_429_waits_one_second_whatever_the_attempt() -> None:
    assert [RETRY.wait(attempt, 429, None) for attempt in (1, 4, 9)] == [1.0, 1.0, 1.0]
    assert RETRY.wait(1, 429, 12.0) == 12.0


def test_5xx_backs_off_exponentially_with_at_most_a_tenth_of_jitter() -> None:
    for attempt, base in ((1, 1.0), (2, 2.0), (3, 4.0)):
        assert base <= RETRY.wait(attempt, 503, None) <= base * 1.1


def test_failure_facts_read_the_answer_of_an_sdk_style_error() -> None:
    class Failed(Exception):
        def __init__(self, response: httpx.Response) -> None:
            self.response = response

    answered = Failed(httpx.Response(429, headers={"Retry-After": "4"}))
    assert failure_facts(answered) == (429, 4.0)
    assert failure_facts(requests.exceptions.ConnectionError("reset")) == (None, None)
    assert retry_wait(answered, 3) == 4.0


@pytest.mark.parametrize(
    ("answer", "text"),
    [
        (httpx.Response(422, json={"errors": {"email": ["is invalid", "is taken"]}}),
         "email is invalid, is taken"),
        (httpx.Response(422, json={"error": "Absence overlaps"}), "Absence overlaps"),
        (httpx.Response(422, json={"errors": ["Email is invalid", "Email is taken"]}),
         "Email is invalid; Email is taken"),
        (httpx.Response(422, json={"message": "Email is invalid"}), "Email is invalid"),
        (httpx.Response(422, text="Email is invalid\n"), "Email is invalid"),
        (httpx.Response(401, text="Du musst Dich einloggen.\nmore"), "Du musst Dich einloggen."),
        (httpx.Response(404, text=""), ""),
        (httpx.Response(500, json=["odd"]), "['odd']"),
    ],
)  # fmt: skip
def test_error_text_is_staffomatics_own_reason(answer: httpx.Response, text: str) -> None:
    assert error_text(answer) == text
