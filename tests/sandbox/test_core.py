"""The machinery both emulators share: admin endpoints, request counting and injected faults."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
import uvicorn
from sandbox.core import Emulator, SandboxError, SlidingWindow, TokenBucket, bind
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route
from starlette.testclient import TestClient


class Toy(Emulator):
    """A one-endpoint vendor to exercise the shared machinery."""

    name = "toy"

    def routes(self) -> list[Route]:
        async def item(request: Request) -> Response:
            item_id = request.path_params["item_id"]
            if request.method == "DELETE":
                self.state["items"] = [i for i in self.state["items"] if str(i) != item_id]
            return JSONResponse({"id": item_id})

        return [Route("/items/{item_id}", item, methods=["GET", "DELETE"])]

    def seed_state(self, seed: str, **params: Any) -> dict[str, Any]:
        if seed not in ("demo", "empty"):
            raise SandboxError(f"unknown seed {seed!r}")
        return {"items": [1, 2, 3] if seed == "demo" else []}

    def check_state(self, state: dict[str, Any]) -> None:
        if not isinstance(state.get("items"), list):
            raise SandboxError("'items' must be a list")


@pytest.fixture
def client() -> TestClient:
    return TestClient(Toy("demo").app())


def test_requests_are_counted_by_method_and_path_template(client: TestClient) -> None:
    client.get("/items/1")
    client.get("/items/2")
    client.delete("/items/2")
    client.get("/_sandbox/state")
    log = client.get("/_sandbox/requests").json()
    assert log["by_endpoint"] == {"DELETE /items/{item_id}": 1, "GET /items/{item_id}": 2}
    assert log["total"] == 3
    assert log["writes"] == 1


def test_state_load_and_reset_round_trip(client: TestClient) -> None:
    assert client.post("/_sandbox/load", json={"items": [9]}).status_code == 200
    assert client.get("/_sandbox/state").json() == {"items": [9]}
    assert client.post("/_sandbox/reset", json={"seed": "empty"}).json()["seed"] == "empty"
    assert client.get("/_sandbox/state").json() == {"items": []}


def test_bad_admin_requests_get_a_400_with_the_reason(client: TestClient) -> None:
    bad_load = client.post("/_sandbox/load", json={"items": "nope"})
    assert bad_load.status_code == 400
    assert "'items' must be a list" in bad_load.json()["error"]
    assert client.post("/_sandbox/reset", json={"seed": "nope"}).status_code == 400
    bad_fault = client.post("/_sandbox/faults", json={"lateness": 3})
    assert bad_fault.status_code == 400
    assert "lateness" in bad_fault.json()["error"]


def test_a_burst_of_429s_answers_exactly_that_many_requests(client: TestClient) -> None:
    client.post("/_sandbox/faults", json={"burst_429": 2, "retry_after": 3})
    statuses = [client.get("/items/1") for _ in range(3)]
    assert [r.status_code for r in statuses] == [429, 429, 200]
    assert statuses[0].headers["Retry-After"] == "3"
    assert client.get("/_sandbox/requests").json()["throttled"] == 2


def test_error_rate_injects_5xx_and_clear_stops_it(client: TestClient) -> None:
    client.post("/_sandbox/faults", json={"error_rate": 1.0})
    assert client.get("/items/1").status_code in (500, 502, 503)
    client.post("/_sandbox/faults", json={"clear": True})
    assert client.get("/items/1").status_code == 200
    assert client.get("/_sandbox/requests").json()["injected_errors"] == 1


def test_admin_endpoints_are_never_faulted(client: TestClient) -> None:
    client.post("/_sandbox/faults", json={"error_rate": 1.0, "burst_429": 5})
    assert client.get("/_sandbox/state").status_code == 200
    assert client.get("/_sandbox/requests").json()["total"] == 0


@pytest.fixture
def served() -> Iterator[tuple[Toy, str]]:
    toy = Toy("demo")
    sock = bind("127.0.0.1", 0)
    server = uvicorn.Server(uvicorn.Config(toy.app(), log_level="critical", lifespan="off"))
    loop = asyncio.new_event_loop()
    thread = threading.Thread(
        target=loop.run_until_complete, args=(server.serve(sockets=[sock]),), daemon=True
    )
    thread.start()
    while not server.started:
        threading.Event().wait(0.01)
    yield toy, f"http://127.0.0.1:{sock.getsockname()[1]}"
    server.should_exit = True
    thread.join(5)
    loop.close()
    sock.close()


def test_a_dropped_connection_cuts_the_response_short(served: tuple[Toy, str]) -> None:
    toy, url = served
    httpx.post(f"{url}/_sandbox/faults", json={"drop_next": 1})
    with pytest.raises(httpx.RemoteProtocolError):
        httpx.get(f"{url}/items/1")
    assert httpx.get(f"{url}/items/1").json() == {"id": "1"}
    assert toy.log.dropped == 1


def test_drop_after_next_applies_the_write_then_cuts_the_connection(
    served: tuple[Toy, str],
) -> None:
    toy, url = served
    httpx.post(f"{url}/_sandbox/faults", json={"drop_after_next": 1})
    with pytest.raises(httpx.RemoteProtocolError):
        httpx.delete(f"{url}/items/2")
    assert toy.state["items"] == [1, 3]
    assert httpx.delete(f"{url}/items/3").json() == {"id": "3"}
    log = httpx.get(f"{url}/_sandbox/requests").json()
    assert (log["dropped_after"], log["dropped"], log["writes"]) == (1, 0, 2)


def test_drop_after_faults_leave_reads_alone(served: tuple[Toy, str]) -> None:
    toy, url = served
    httpx.post(f"{url}/_sandbox/faults", json={"drop_after_next": 1, "drop_after_rate": 1.0})
    assert httpx.get(f"{url}/items/1").json() == {"id": "1"}
    assert toy.log.dropped_after == 0


def test_drop_after_rate_cuts_every_applied_write_at_rate_one(served: tuple[Toy, str]) -> None:
    toy, url = served
    httpx.post(f"{url}/_sandbox/faults", json={"drop_after_rate": 1.0})
    for item in (1, 2):
        with pytest.raises(httpx.RemoteProtocolError):
            httpx.delete(f"{url}/items/{item}")
    assert toy.state["items"] == [3]
    assert httpx.get(f"{url}/_sandbox/requests").json()["dropped_after"] == 2


def test_error_after_rate_applies_the_write_then_answers_502(client: TestClient) -> None:
    client.post("/_sandbox/faults", json={"error_after_rate": 1.0})
    response = client.delete("/items/1")
    assert response.status_code == 502
    assert "Bad gateway" in response.json()["error"]
    assert client.get("/_sandbox/state").json() == {"items": [2, 3]}
    assert client.get("/items/2").status_code == 200  # reads are not affected
    log = client.get("/_sandbox/requests").json()
    assert (log["injected_errors"], log["dropped_after"]) == (1, 0)


def test_error_after_next_answers_exactly_that_many_writes_502(client: TestClient) -> None:
    client.post("/_sandbox/faults", json={"error_after_next": 2})
    statuses = [client.delete(f"/items/{n}").status_code for n in (1, 2, 3)]
    assert statuses == [502, 502, 200]
    assert client.get("/_sandbox/state").json() == {"items": []}
    assert client.get("/_sandbox/faults").json()["error_after_next"] == 0


def test_latency_is_added_to_vendor_requests(served: tuple[Toy, str]) -> None:
    _, url = served
    httpx.post(f"{url}/_sandbox/faults", json={"latency_ms": 150})
    response = httpx.get(f"{url}/items/1")
    assert response.elapsed.total_seconds() >= 0.15


def test_token_bucket_allows_its_burst_then_refuses() -> None:
    bucket = TokenBucket(rate=1.0, capacity=3)
    assert [bucket.take() for _ in range(4)] == [True, True, True, False]
    assert 0 < bucket.seconds_until() <= 1.0


def test_sliding_window_allows_its_limit_then_refuses() -> None:
    window = SlidingWindow(limit=2, seconds=10)
    assert [window.take() for _ in range(3)] == [True, True, False]
    assert 9 < window.seconds_until() <= 10
