"""The admin client (sandbox.admin) against the session's sandbox over loopback."""

from __future__ import annotations

import pytest
from sandbox.admin import AdminError, Admins
from sandbox.personio import PersonioEmulator
from sandbox.server import Sandbox


def test_state_load_and_counts_round_trip(sandbox: Sandbox, admins: Admins) -> None:
    personio = admins["personio"]
    state = personio.state()
    state["employees"] = state["employees"][:3]
    personio.load(state)
    assert len(personio.state()["employees"]) == 3
    assert personio.counts() == {}
    assert personio.requests()["throttled"] == 0


def test_faults_and_variants_are_set_and_fresh_clears_them(
    sandbox: Sandbox, admins: Admins
) -> None:
    name, values = next(iter(PersonioEmulator.variants.items()))
    assert admins.staffomatic.faults(burst_429=2)["burst_429"] == 2
    assert admins.personio.variants(**{name: values[1]})[name] == values[1]

    admins.fresh("demo")

    assert admins.staffomatic.faults()["burst_429"] == 0
    assert admins.personio.variants()[name] == values[0]


def test_reset_takes_a_seed_with_its_sizes(sandbox: Sandbox, admins: Admins) -> None:
    admins.personio.reset("scale", employees=7, absences_per_employee=0)
    assert len(admins.personio.state()["employees"]) == 7


def test_a_refused_call_raises_with_the_servers_reason(sandbox: Sandbox, admins: Admins) -> None:
    with pytest.raises(AdminError, match="unknown fault settings"):
        admins.staffomatic.faults(no_such_fault=1)
    with pytest.raises(KeyError):
        admins["elsewhere"]
