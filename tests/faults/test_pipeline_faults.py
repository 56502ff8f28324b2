"""Both pipelines under the sandbox's faults end exactly where a fault-free run ends.

Each test runs ``tap | target`` as real processes against a fresh demo sandbox with a fault
switched on, then compares the destination with the fault-free result of the same pipeline
(``expected``): the same meaningful content keyed by natural keys (so no duplicate and nothing
lost), and the same seeded records changed (so nothing the sync did not create is touched).
Where a fault may leave a write undone in the faulted run (a broken connection, a killed
target), the job is started again without the fault, as an operator or the scheduler would.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from sandbox.core import Emulator

from tests.faults.conftest import Expected, World, sandbox_world
from tests.faults.helpers import (
    PERSONIO_TO_STAFFOMATIC,
    LogBook,
    Outcome,
    Spec,
    Trigger,
    error_lines,
    lose_answer,
)

pytestmark = pytest.mark.slow

Expectation = Callable[..., Expected]


def assert_succeeded(outcome: Outcome) -> None:
    assert outcome.tap_code == 0, outcome.tap_err[-3000:]
    assert outcome.target_code == 0, outcome.target_err[-3000:]


def assert_like_fault_free(world: World, spec: Spec, expected: Expected) -> None:
    view = spec.view(world.sandbox)
    for collection, rows in expected.view.items():
        assert view[collection] == rows, f"{collection} differ from the fault-free run"
    assert world.touched() == expected.touched


def assert_no_extra_records(world: World, spec: Spec, expected: Expected) -> None:
    """After a faulted run that may have left writes undone: nothing more than fault-free."""
    view = spec.view(world.sandbox)
    for collection, rows in expected.view.items():
        assert len(view[collection]) <= len(rows), f"{collection}: more records than fault-free"


def burst(emulator: Emulator, n: int = 3) -> Callable[[], None]:
    """A trigger action: the next ``n`` requests to ``emulator`` get 429 (set in-process, as
    triggers run inside the sandbox's event loop)."""

    def action() -> None:
        emulator.faults.burst_429 = n

    return action


def test_ten_percent_server_errors_lose_and_duplicate_nothing_once_the_job_ran_again(
    world: World, spec: Spec, expected: Expectation
) -> None:
    """Reads and idempotent writes are retried; a create answered 5xx may have been applied, so
    target-staffomatic does not repeat it in that run, and the next run links or creates it."""
    world.admins.faults(error_rate=0.1, seed=3)
    assert_succeeded(world.pipeline(spec).run())
    injected = world.admins.total("injected_errors")
    assert injected >= 3
    assert_no_extra_records(world, spec, expected(spec))
    world.admins.faults(clear=True)
    assert_succeeded(world.pipeline(spec).run())
    assert_like_fault_free(world, spec, expected(spec))


def test_bursts_of_429_at_the_start_and_among_the_writes_are_waited_out(
    world: World, spec: Spec, expected: Expectation
) -> None:
    sb = world.sandbox
    world.admins.faults(burst_429=3, retry_after=1)
    world.destination(spec).add(Trigger(write=3, before=burst(spec.destination(sb))))
    outcome = world.pipeline(spec).run()
    assert_succeeded(outcome)
    throttled = world.admins.total("throttled")
    assert throttled >= 9
    assert_like_fault_free(world, spec, expected(spec))


def test_personio_tokens_invalidated_mid_run_are_fetched_again(
    world: World, spec: Spec, expected: Expectation
) -> None:
    """Personio is the source of one pipeline and the destination of the other."""
    sb = world.sandbox
    monitor = world.personio
    if spec is PERSONIO_TO_STAFFOMATIC:  # the tap reads: invalidate between its pages
        monitor.add(Trigger(request=4, before=sb.personio.invalidate_tokens))
    else:  # the target writes: invalidate after its first and its fifth write
        monitor.add(Trigger(write=1, after=sb.personio.invalidate_tokens))
        monitor.add(Trigger(write=5, after=sb.personio.invalidate_tokens))
    outcome = world.pipeline(spec).run()
    assert_succeeded(outcome)
    token_requests = sum(n for key, n in world.admins.personio.counts().items() if "/auth" in key)
    assert token_requests >= 2
    assert_like_fault_free(world, spec, expected(spec))


def test_a_staffomatic_token_revoked_mid_run_stops_the_run_and_a_rerun_with_the_new_one_converges(
    world: World, spec: Spec, expected: Expectation
) -> None:
    """Staffomatic's API token cannot be renewed by the plugin: the run stops with one sentence
    (nothing half-deleted), and the job started again with the new token ends as fault-free."""
    sb = world.sandbox
    pipeline = world.pipeline(spec)
    if spec is PERSONIO_TO_STAFFOMATIC:  # the target writes with the token
        world.staffomatic.add(Trigger(write=4, before=sb.staffomatic.invalidate_tokens))
    else:  # the tap reads with the token
        token = sb.staffomatic.state["credentials"][0]["api_token"]
        pipeline.tap_config = {
            k: v for k, v in pipeline.tap_config.items() if k not in ("email", "password")
        }
        pipeline.tap_config["api_token"] = token
        world.staffomatic.add(Trigger(request=6, before=sb.staffomatic.invalidate_tokens))
    first = pipeline.run()
    stopped = first.target_err if spec is PERSONIO_TO_STAFFOMATIC else first.tap_err
    assert (first.target_code if spec is PERSONIO_TO_STAFFOMATIC else first.tap_code) == 1
    errors = error_lines(stopped)
    assert len(errors) == 1, errors
    assert "401" in errors[0]
    assert "Traceback" not in stopped
    assert_no_extra_records(world, spec, expected(spec))

    new_token = sb.staffomatic.state["credentials"][0]["api_token"]
    config = pipeline.target_config if spec is PERSONIO_TO_STAFFOMATIC else pipeline.tap_config
    config["api_token"] = new_token
    assert_succeeded(pipeline.run())
    assert_like_fault_free(world, spec, expected(spec))


def test_latency_spikes_slow_the_run_but_change_nothing_in_the_outcome(
    world: World, spec: Spec, expected: Expectation
) -> None:
    world.admins.faults(spike_rate=0.25, spike_ms=400, seed=5)
    assert_succeeded(world.pipeline(spec).run())
    assert_like_fault_free(world, spec, expected(spec))


def test_dropped_connections_lose_and_duplicate_nothing_once_the_job_ran_again(
    world: World, spec: Spec, expected: Expectation
) -> None:
    """Connections cut before the server handled the request: reads are repeated; a write whose
    fate the target cannot know fails for this run and is done by the next one."""
    world.admins.faults(drop_rate=0.1, seed=11)
    first = world.pipeline(spec).run()
    assert_succeeded(first)
    dropped = world.admins.total("dropped")
    assert dropped >= 3
    assert_no_extra_records(world, spec, expected(spec))
    world.admins.faults(clear=True)
    assert_succeeded(world.pipeline(spec).run())
    assert_like_fault_free(world, spec, expected(spec))


def test_answers_lost_after_the_write_was_applied_cause_no_duplicate(
    world: World, spec: Spec, expected: Expectation
) -> None:
    """The server applied the write but the connection broke before its answer, or a gateway
    answered 502: the target must not create the record twice, and the next run links what
    was created. (Towards
    Personio, writes 8 and 11 are middle periods of timers with breaks: the next run must link
    them, not try to create them again into Personio's overlap refusal, run after run.)"""
    destination = world.destination(spec)
    destination.drop_answers(1, 2, 5, 8, 11, 14)
    destination.error_answers(3, 10, 15)  # applied, then a gateway answers 502
    first = world.pipeline(spec).run()
    assert_succeeded(first)
    log = world.admins[spec.destination_name].requests()
    assert log["dropped_after"] + log["injected_errors"] >= 8
    assert_no_extra_records(world, spec, expected(spec))
    assert_succeeded(world.pipeline(spec).run())
    assert_like_fault_free(world, spec, expected(spec))


@pytest.mark.parametrize("write", [1, 6, 12])
def test_target_killed_mid_run_then_started_again_ends_as_fault_free(
    world: World, spec: Spec, expected: Expectation, write: int
) -> None:
    """SIGKILL right after the server applied the target's n-th write (its answer is lost and
    the ledger never hears of it); the job started again links instead of duplicating."""
    pipeline = world.pipeline(spec)
    lost = lose_answer(spec.destination(world.sandbox))
    world.destination(spec).add(Trigger(write=write, before=lost, after=pipeline.kill_target))
    first = pipeline.run()
    assert first.target_code == -9
    assert_no_extra_records(world, spec, expected(spec))
    assert_succeeded(pipeline.run())
    assert_like_fault_free(world, spec, expected(spec))


RETRIED_REFUSALS = {"personio-to-staffomatic": 0, "staffomatic-to-personio": 0}
SCALE = {"employees": 32, "absences_per_employee": 2, "timers_per_week": 2, "weeks": 1}


def test_a_larger_dataset_under_every_retried_fault_at_once_ends_as_fault_free(
    book: LogBook, tmp_path: Path, spec: Spec, expected: Expectation
) -> None:
    """The ``scale`` seed (hundreds of writes, several in flight at once) with 5xx, latency
    spikes and 429 bursts together, then the job again: as fault-free; and one more run with
    nothing changed writes nothing (but the retry of what Personio refused)."""
    want = expected(spec, "scale", **SCALE)
    assert want.writes >= 50
    for world in sandbox_world(book, tmp_path, "scale", **SCALE):
        sb = world.sandbox
        world.admins.faults(error_rate=0.1, spike_rate=0.1, spike_ms=300, burst_429=2, seed=17)
        world.destination(spec).add(Trigger(write=50, before=burst(spec.destination(sb))))
        assert_succeeded(world.pipeline(spec).run(timeout=300))
        assert_no_extra_records(world, spec, want)
        world.admins.faults(clear=True)
        assert_succeeded(world.pipeline(spec).run(timeout=300))
        assert_like_fault_free(world, spec, want)
        writes = world.destination(spec).writes
        assert_succeeded(world.pipeline(spec).run(timeout=300))
        assert world.destination(spec).writes - writes <= RETRIED_REFUSALS[spec.name]
