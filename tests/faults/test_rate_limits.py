"""429 storms: waited out within the run's wait budget, one sentence past it.

The budget is ``rate_limit_wait_seconds``. A storm longer than the 8 tries the plugins once gave
up after is outlasted by each tap and each target, run in-process against a fresh sandbox with a
sleep that only records (no real wait). A storm past a small budget is run with the real
executables (a budget of 1 second, so about a second of real waiting): the plugin exits 1 with
one sentence and no traceback; a target records its run as failed with the writes it made (the
next run settles what is left like after any failed run: see ``test_run_safety``).
"""

from __future__ import annotations

import io
import json
import re
from collections import Counter
from collections.abc import Callable
from contextlib import redirect_stdout
from typing import Any

import pytest
import vendor_http.staffomatic_client
from sandbox.core import Emulator
from singer_sdk import Tap
from sync_ledger import Ledger
from tap_personio.tap import TapPersonio
from tap_staffomatic.tap import TapStaffomatic
from target_personio.target import TargetPersonio
from target_staffomatic.target import TargetStaffomatic

from tests.faults.conftest import Expected, World
from tests.faults.helpers import PERSONIO_TO_STAFFOMATIC, Spec, Trigger, error_lines, run_plugin

pytestmark = pytest.mark.slow

STORM = 12
"""429s in a row: more than the 8 tries the plugins once gave up after."""
TAPS: dict[str, Callable[..., Tap]] = {
    "tap-personio": TapPersonio,
    "tap-staffomatic": TapStaffomatic,
}
VENDOR = {"personio": "Personio", "staffomatic": "Staffomatic"}


def storm(emulator: Emulator, requests: int, retry_after: int) -> Callable[[], None]:
    """An action: the next ``requests`` requests to ``emulator`` are answered 429."""

    def action() -> None:
        emulator.faults.retry_after = retry_after
        emulator.faults.burst_429 = requests

    return action


def source(world: World, spec: Spec) -> Emulator:
    return world.sandbox.personio if spec.source == "personio" else world.sandbox.staffomatic


def read(world: World, spec: Spec, waits: list[float]) -> list[dict[str, Any]]:
    """The tap's messages, run in-process; its waits are recorded in ``waits``, not slept."""
    tap = TAPS[spec.tap](
        config=spec.tap_config(world.sandbox), parse_env_config=False, sleep=waits.append
    )
    out = io.StringIO()
    with redirect_stdout(out):
        tap.sync_all()
    return [json.loads(line) for line in out.getvalue().splitlines() if line.strip()]


def records(messages: list[dict[str, Any]]) -> Counter[tuple[str, Any]]:
    return Counter((m["stream"], m["record"].get("id")) for m in messages if m["type"] == "RECORD")


def test_each_tap_outlasts_a_storm_of_429s_longer_than_eight_tries(
    world: World, spec: Spec
) -> None:
    calm = read(world, spec, [])
    storm(source(world, spec), STORM, retry_after=3)()
    waits: list[float] = []
    stormy = read(world, spec, waits)
    assert records(stormy) == records(calm)
    assert source(world, spec).log.throttled == STORM
    assert waits.count(3.0) >= STORM  # every 429 waited for its Retry-After, nothing given up


def test_each_target_outlasts_a_storm_of_429s_longer_than_eight_tries(
    world: World,
    spec: Spec,
    expected: Callable[[Spec], Expected],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    stdin = "".join(json.dumps(m) + "\n" for m in read(world, spec, []))
    waits: list[float] = []
    monkeypatch.setattr(vendor_http.staffomatic_client, "_sleep", waits.append)
    url = f"sqlite:///{world.workdir / 'storm.db'}"
    config = {**spec.target_config(world.sandbox, url), "max_parallel_writes": 1}
    destination = spec.destination(world.sandbox)
    world.destination(spec).add(Trigger(write=2, before=storm(destination, STORM, 2)))
    if spec is PERSONIO_TO_STAFFOMATIC:
        TargetStaffomatic(config=config).listen(io.StringIO(stdin))
    else:
        TargetPersonio(config=config, sleep=waits.append).listen(io.StringIO(stdin))
    assert destination.log.throttled == STORM
    assert len([w for w in waits if w >= 1.0]) >= STORM
    with Ledger(url) as ledger:
        (run,) = ledger.runs()
    assert run.status == "success"
    assert spec.view(world.sandbox) == expected(spec).view  # nothing lost, nothing doubled


def test_a_tap_past_its_wait_budget_stops_with_one_sentence(world: World, spec: Spec) -> None:
    storm(source(world, spec), 1000, retry_after=1)()
    config = {**spec.tap_config(world.sandbox), "rate_limit_wait_seconds": 1}
    done = run_plugin(world.book, f"storm {spec.tap}", spec.tap, config, world.workdir)
    assert done.returncode == 1, done.stderr[-2000:]
    assert "Traceback" not in done.stderr
    assert error_lines(done.stderr) == [
        f"{VENDOR[spec.source]} kept answering 429 (rate limited): this run waited 1 s for it, "
        "and the 1 s more it asks for would pass rate_limit_wait_seconds=1; the run stops here "
        "and the next one continues from its bookmark."
    ]


def test_a_target_past_its_wait_budget_stops_with_one_sentence_and_records_its_writes(
    world: World, spec: Spec
) -> None:
    destination = spec.destination(world.sandbox)
    world.destination(spec).add(Trigger(write=3, before=storm(destination, 1000, 1)))
    pipeline = world.pipeline(spec)
    pipeline.target_config["rate_limit_wait_seconds"] = 1
    outcome = pipeline.run(timeout=120)
    assert outcome.target_code == 1, outcome.target_err[-2000:]
    assert "Traceback" not in outcome.target_err
    sentence = re.compile(
        rf"{VENDOR[spec.destination_name]} kept answering 429 \(rate limited\): this run waited "
        r"\d+ s for it, and the \d+ s more it asks for would pass rate_limit_wait_seconds=1; "
        r"the run stops here, what it wrote so far is recorded in the ledger, and the next run "
        r"carries on\."
    )
    assert [line for line in error_lines(outcome.target_err) if sentence.fullmatch(line)]
    with Ledger(pipeline.target_config["ledger_url"]) as ledger:
        (run,) = ledger.runs()
        written = [a for a in ledger.actions(run.id) if a.action in ("create", "update")]
    assert run.status == "failed"
    # The two writes before the storm are in the run's record: one record or two, as the
    # parallel writes interleave (a leaver's user takes a create and a lock).
    assert written
