"""The switches for unconfirmed vendor behaviour, through the admin API over real HTTP."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import httpx
import pytest
from sandbox.personio import PersonioEmulator
from sandbox.server import Sandbox
from sandbox.staffomatic import StaffomaticEmulator


@dataclass
class Server:
    http: httpx.Client
    choices: dict[str, tuple[str, ...]]

    @property
    def defaults(self) -> dict[str, str]:
        return {name: values[0] for name, values in self.choices.items()}

    def variants(self) -> dict[str, str]:
        response = self.http.get("/_sandbox/variants")
        assert response.status_code == 200
        return dict(response.json())


@pytest.fixture(params=["personio", "staffomatic"])
def server(request: pytest.FixtureRequest, sandbox: Sandbox) -> Iterator[Server]:
    personio = request.param == "personio"
    url = sandbox.personio_url if personio else sandbox.staffomatic_url
    choices = (PersonioEmulator if personio else StaffomaticEmulator).variants
    with httpx.Client(base_url=url, timeout=10) as http:
        http.post("/_sandbox/reset", json={"seed": "demo"}).raise_for_status()
        yield Server(http, choices)


def test_every_switch_starts_at_its_default(server: Server) -> None:
    assert server.choices  # both servers have switches
    assert server.variants() == server.defaults
    assert server.http.get("/_sandbox/state").json()["variants"] == server.defaults


def test_a_switch_set_through_the_api_shows_in_the_state_until_reset(server: Server) -> None:
    http = server.http
    for name, values in server.choices.items():
        answer = http.post("/_sandbox/variants", json={name: values[1]})
        assert answer.status_code == 200
        assert answer.json() == {**server.defaults, name: values[1]}
        assert http.get("/_sandbox/state").json()["variants"][name] == values[1]
        assert http.post("/_sandbox/variants", json={"reset": True}).json() == server.defaults
    name, values = next(iter(server.choices.items()))
    http.post("/_sandbox/variants", json={name: values[1]}).raise_for_status()
    http.post("/_sandbox/reset", json={"seed": "demo"}).raise_for_status()
    assert server.variants() == server.defaults


def test_unknown_switches_and_values_are_400_and_change_nothing(server: Server) -> None:
    unknown = server.http.post("/_sandbox/variants", json={"no_such_switch": "x"})
    assert unknown.status_code == 400
    assert "known:" in unknown.json()["error"]
    name = next(iter(server.choices))
    wrong = server.http.post("/_sandbox/variants", json={name: "no-such-value"})
    assert wrong.status_code == 400
    assert name in wrong.json()["error"]
    assert server.variants() == server.defaults


def test_load_takes_the_switches_with_the_state(server: Server) -> None:
    http = server.http
    state = http.get("/_sandbox/state").json()
    name, values = next(iter(server.choices.items()))
    loaded = http.post("/_sandbox/load", json={**state, "variants": {name: values[-1]}})
    assert loaded.status_code == 200
    assert server.variants() == {**server.defaults, name: values[-1]}
    refused = http.post("/_sandbox/load", json={**state, "variants": {name: "nonsense"}})
    assert refused.status_code == 400
    assert server.variants()[name] == values[-1]
    without = {k: v for k, v in state.items() if k != "variants"}
    assert http.post("/_sandbox/load", json=without).status_code == 200
    assert server.variants() == server.defaults
    assert http.get("/_sandbox/requests").json()["total"] == 0  # admin calls are not counted
