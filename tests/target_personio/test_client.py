"""The Personio client against a scripted transport: auth, retries, pacing, paging, errors."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import httpx
import pytest
from target_personio.client import ATTENDANCE, AnswerLost, PersonioClient, Rejected, RunStopped
from vendor_http.testing import ManualClock

Handler = Callable[[httpx.Request], httpx.Response]


class Recorder:
    def __init__(self, handler: Handler) -> None:
        self.handler = handler
        self.requests: list[httpx.Request] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        if request.url.path == "/v2/auth/token":
            return httpx.Response(200, json={"access_token": "papi-v2", "expires_in": 86400})
        if request.url.path == "/v1/auth":
            return httpx.Response(200, json={"success": True, "data": {"token": "papi-v1"}})
        return self.handler(request)

    def paths(self) -> list[str]:
        return [f"{r.method} {r.url.path}" for r in self.requests]


def make(handler: Handler, sleeps: list[float] | None = None) -> tuple[PersonioClient, Recorder]:
    recorder = Recorder(handler)
    waits = sleeps if sleeps is not None else []
    client = PersonioClient(
        "http://personio.test",
        "id",
        "secret",
        "MY_APP",
        transport=httpx.MockTransport(recorder),
        sleep=waits.append,
    )
    return client, recorder


def created(request: httpx.Request) -> httpx.Response:
    return httpx.Response(201, json={"_data": {"id": "p-1"}})


def test_token_is_fetched_once_and_reused_with_the_app_id_header() -> None:
    client, recorder = make(created)
    for _ in range(3):
        client.create(ATTENDANCE, {"type": "WORK"}, skip_approval=True)
    assert recorder.paths().count("POST /v2/auth/token") == 1
    write = recorder.requests[-1]
    assert write.headers["Authorization"] == "Bearer papi-v2"
    assert write.headers["X-Personio-App-ID"] == "MY_APP"
    assert write.url.params["skip_approval"] == "true"


def test_a_403_fetches_a_new_token_once_and_repeats_the_request() -> None:
    answers = iter([httpx.Response(403, json={"errors": [{"title": "expired"}]})])

    def handler(request: httpx.Request) -> httpx.Response:
        return next(answers, None) or created(request)

    client, recorder = make(handler)
    assert client.create(ATTENDANCE, {}, skip_approval=True) == "p-1"
    assert recorder.paths().count("POST /v2/auth/token") == 2


def test_lasting_403_stops_the_run_with_one_sentence() -> None:
    client, _ = make(lambda r: httpx.Response(403, json={"errors": [{"title": "Forbidden"}]}))
    with pytest.raises(RunStopped, match=r"refused access .*HTTP 403: Forbidden.*scopes"):
        client.create(ATTENDANCE, {}, skip_approval=True)


def test_bad_credentials_stop_the_run_naming_the_settings() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(401, json={"error": "invalid_client"})

    client = PersonioClient(
        "http://personio.test", "id", "wrong", "APP", transport=httpx.MockTransport(handler)
    )
    with pytest.raises(RunStopped, match="check the client_id and client_secret settings"):
        client.delete(ATTENDANCE, "x")


def test_429_waits_for_retry_after_and_5xx_backs_off_at_least_a_second() -> None:
    answers = iter(
        [
            httpx.Response(429, headers={"Retry-After": "3"}),
            httpx.Response(503),
            httpx.Response(429),
        ]
    )
    sleeps: list[float] = []

    def handler(request: httpx.Request) -> httpx.Response:
        return next(answers, None) or created(request)

    client, recorder = make(handler, sleeps)
    assert client.create(ATTENDANCE, {}, skip_approval=True) == "p-1"
    assert sleeps[0] == 3.0
    assert all(s >= 1.0 for s in sleeps)
    assert len(sleeps) == 3
    assert recorder.paths().count("POST /v2/attendance-periods") == 4


def test_dropped_connections_are_retried() -> None:
    calls = {"n": 0}

    def handler(request: httpx.Request) -> httpx.Response:
        calls["n"] += 1
        if calls["n"] == 1:
            raise httpx.ConnectError("connection refused")  # the POST never left
        return created(request)

    client, _ = make(handler)
    assert client.create(ATTENDANCE, {}, skip_approval=True) == "p-1"


def test_endless_5xx_stops_the_run_after_the_attempts() -> None:
    client, recorder = make(lambda r: httpx.Response(502))
    with pytest.raises(RunStopped, match="kept answering HTTP 502"):
        client.delete(ATTENDANCE, "abc")
    assert recorder.paths().count("DELETE /v2/attendance-periods/abc") == 6


def test_pacing_waits_when_the_bucket_is_empty() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        headers = {"x-ratelimit-remaining": "0", "x-ratelimit-replenish-rate": "4"}
        return httpx.Response(201, json={"_data": {"id": "p"}}, headers=headers)

    sleeps: list[float] = []
    client, _ = make(handler, sleeps)
    client.create(ATTENDANCE, {}, skip_approval=True)
    client.create(ATTENDANCE, {}, skip_approval=True)
    assert len(sleeps) == 1
    assert 0 < sleeps[0] <= 0.25


def test_validation_errors_are_rejections_with_personios_reason() -> None:
    problem = {
        "personio_trace_id": "t",
        "errors": [{"title": "Unprocessable", "detail": "Period time range too long"}],
    }
    client, _ = make(lambda r: httpx.Response(422, json=problem))
    with pytest.raises(Rejected) as caught:
        client.create(ATTENDANCE, {}, skip_approval=True)
    assert caught.value.status == 422
    assert caught.value.reason == "Unprocessable: Period time range too long"


def test_deleting_a_period_that_is_gone_counts_as_deleted() -> None:
    client, recorder = make(lambda r: httpx.Response(404, json={"errors": [{"title": "nf"}]}))
    client.delete(ATTENDANCE, "gone")
    assert recorder.paths()[-1] == "DELETE /v2/attendance-periods/gone"


def test_v1_employees_are_read_in_pages_of_100_and_unwrapped() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        offset = int(request.url.params["offset"])
        assert request.url.params["limit"] == "100"
        assert request.headers["Authorization"] == "Bearer papi-v1"
        count = 100 if offset == 0 else 1
        rows = [
            {
                "type": "Employee",
                "attributes": {
                    "id": {"label": "ID", "value": offset + n + 1, "type": "integer"},
                    "email": {"label": "Email", "value": f"e{offset + n}@x.example"},
                },
            }
            for n in range(count)
        ]
        meta = {"total_elements": 101, "current_page": offset // 100, "total_pages": 2}
        return httpx.Response(200, json={"success": True, "metadata": meta, "data": rows})

    client, recorder = make(handler)
    people = list(client.employees())
    assert len(people) == 101
    assert people[100] == {"id": 101, "email": "e100@x.example"}
    assert recorder.paths().count("GET /v1/company/employees") == 2


def test_v2_lists_follow_absolute_next_links() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        if "cursor" not in request.url.params:
            nxt = {"href": "http://personio.test/v2/absence-types?cursor=c2&limit=100"}
            return httpx.Response(
                200, json={"_data": [{"id": "a"}], "_meta": {"links": {"next": nxt}}}
            )
        return httpx.Response(200, json={"_data": [{"id": "b"}], "_meta": {"links": {}}})

    client, _ = make(handler)
    assert [t["id"] for t in client.absence_types()] == ["a", "b"]


BODY: dict[str, Any] = {
    "person": {"id": "7"},
    "type": "WORK",
    "start": {"date_time": "2026-11-02T08:00:00"},
    "end": {"date_time": "2026-11-02T12:00:00"},
}
DONE: dict[str, Any] = {**BODY, "id": "p-7", "start": {"date_time": "2026-11-02T08:00:00+01:00"}}


def lost_posts(count: int, listed: list[dict[str, Any]]) -> Handler:
    """The first ``count`` POSTs lose their answer; a list shows ``listed``."""
    posts = {"n": 0}

    def handler(request: httpx.Request) -> httpx.Response:
        if request.method == "GET":
            return httpx.Response(200, json={"_data": listed, "_meta": {"links": {}}})
        posts["n"] += 1
        if posts["n"] <= count:
            raise httpx.RemoteProtocolError("peer closed connection")
        return created(request)

    return handler


def test_a_create_whose_answer_was_lost_is_linked_when_personio_has_it() -> None:
    client, recorder = make(lost_posts(1, [{**DONE, "id": "other", "type": "BREAK"}, DONE]))
    assert client.create(ATTENDANCE, BODY, skip_approval=True) == "p-7"
    assert recorder.paths().count("POST /v2/attendance-periods") == 1
    read = recorder.requests[-1]
    assert read.url.params["person.id"] == "7"
    assert read.url.params["start.date_time.gte"] == "2026-11-02T08:00:00"


def test_a_create_whose_answer_was_lost_is_sent_again_only_when_the_read_finds_nothing() -> None:
    client, recorder = make(lost_posts(1, []))
    assert client.create(ATTENDANCE, BODY, skip_approval=True) == "p-1"
    assert recorder.paths()[-3:] == [
        "POST /v2/attendance-periods",
        "GET /v2/attendance-periods",
        "POST /v2/attendance-periods",
    ]


def test_a_create_that_loses_its_answer_twice_is_rejected_for_this_run() -> None:
    client, recorder = make(lost_posts(2, []))
    with pytest.raises(AnswerLost) as caught:
        client.create(ATTENDANCE, BODY, skip_approval=True)
    assert isinstance(caught.value, Rejected)  # the record fails this run; the next one reads
    assert "read first" in str(caught.value)
    assert recorder.paths().count("POST /v2/attendance-periods") == 2


def test_a_create_answered_502_is_read_before_anything_is_sent_again() -> None:
    answers = iter([httpx.Response(502, text="bad gateway")])

    def handler(request: httpx.Request) -> httpx.Response:
        if request.method == "GET":
            return httpx.Response(200, json={"_data": [DONE], "_meta": {"links": {}}})
        return next(answers, None) or created(request)

    client, recorder = make(handler)
    assert client.create(ATTENDANCE, BODY, skip_approval=True) == "p-7"
    assert recorder.paths().count("POST /v2/attendance-periods") == 1


def test_a_delete_whose_answer_was_lost_is_sent_again() -> None:
    answers = iter([httpx.RemoteProtocolError("peer closed connection")])

    def handler(request: httpx.Request) -> httpx.Response:
        error = next(answers, None)
        if error is not None:
            raise error
        return httpx.Response(204)

    client, recorder = make(handler)
    client.delete(ATTENDANCE, "p-9")
    assert recorder.paths().count("DELETE /v2/attendance-periods/p-9") == 2


def test_v2_pacing_counts_the_refill_from_when_the_request_was_sent() -> None:
    clock = ManualClock()

    def handler(request: httpx.Request) -> httpx.Response:
        clock.advance(0.1)  # the answer takes 100 ms
        headers = {"x-ratelimit-remaining": "0", "x-ratelimit-replenish-rate": "4"}
        return httpx.Response(201, json={"_data": {"id": "p"}}, headers=headers)

    recorder = Recorder(handler)
    client = PersonioClient(
        "http://personio.test",
        "id",
        "secret",
        "MY_APP",
        transport=httpx.MockTransport(recorder),
        sleep=clock.sleep,
        clock=clock,
    )
    client.create(ATTENDANCE, {}, skip_approval=True)
    client.create(ATTENDANCE, {}, skip_approval=True)
    # 0.25 s refill and 0.05 s for the way there, counted from the send; 0.1 s passed already
    assert clock.slept == [pytest.approx(0.2)]
