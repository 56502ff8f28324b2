"""Runs that overlap, runs that are stopped, input that breaks off: no duplicate, nothing lost.

Each pipeline runs as real processes against a fresh demo sandbox (see ``test_pipeline_faults``)
with its ledger on SQLite and on PostgreSQL (the ``ledger_url`` fixture).
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
from collections.abc import Callable
from pathlib import Path

import pytest
from sync_ledger import Ledger
from sync_ledger.lock import RunLock

from tests.faults.conftest import Expected, World
from tests.faults.helpers import Outcome, Pipeline, Spec, Trigger

pytestmark = pytest.mark.slow


def _pipeline(world: World, spec: Spec, ledger_url: str, **settings: object) -> Pipeline:
    sb = world.sandbox
    target = {**spec.target_config(sb, ledger_url), **settings}
    return Pipeline(spec, world.workdir, world.book, spec.tap_config(sb), target)


def _account(spec: Spec, world: World) -> str:
    """The destination account as the target names its lock."""
    sb = world.sandbox
    if spec.source == "personio":
        return f"{sb.staffomatic_api}|demo"
    return f"{sb.personio_url}|demo-client-id"


def _like_fault_free(world: World, spec: Spec, expected: Expected) -> None:
    view = spec.view(world.sandbox)
    for collection, rows in expected.view.items():
        assert view[collection] == rows, f"{collection} differ from a single run"
    assert world.touched() == expected.touched


def test_two_runs_at_once_on_one_ledger_end_as_one_run(
    world: World, spec: Spec, expected: Callable[..., Expected], ledger_url: str
) -> None:
    """Both start together; the second waits for the first (one run at a time per account),
    then finds everything done: the destination holds what one run leaves, no duplicate."""
    outcomes: list[Outcome] = []
    runs = [
        threading.Thread(
            target=lambda: outcomes.append(_pipeline(world, spec, ledger_url).run(timeout=300))
        )
        for _ in range(2)
    ]
    for run in runs:
        run.start()
    for run in runs:
        run.join(timeout=400)
    assert [(o.tap_code, o.target_code) for o in outcomes] == [(0, 0), (0, 0)], [
        o.target_err[-2000:] for o in outcomes
    ]
    _like_fault_free(world, spec, expected(spec))
    with Ledger(ledger_url) as ledger:
        finished = [r for r in ledger.runs() if r.target == spec.target]
    assert [r.status for r in finished] == ["success", "success"]
    later, earlier = finished
    assert earlier.finished_at is not None
    assert later.started_at >= earlier.finished_at  # one after the other, never together


def test_a_run_that_waited_in_vain_stops_naming_the_run_it_waited_for(
    world: World, spec: Spec, ledger_url: str
) -> None:
    with Ledger(ledger_url) as ledger:
        holder = RunLock(ledger, spec.target, _account(spec, world), wait=0)
        with holder:
            run = ledger.start_run(spec.target)
            holder.held_by_run(run.id)
            outcome = _pipeline(world, spec, ledger_url, lock_wait_seconds=1).run()
            run.finish()
    assert outcome.target_code == 1
    assert (
        f"Another run of {spec.target} (run {run.id}, process {os.getpid()} on this host, since "
        in outcome.target_err
    )
    assert "is writing to the same destination account; waited 1 s" in outcome.target_err
    assert "Traceback" not in outcome.target_err
    assert world.touched() == set()


def test_a_target_stopped_with_sigterm_records_its_run_as_interrupted_and_the_rerun_completes(
    world: World, spec: Spec, expected: Callable[..., Expected], ledger_url: str
) -> None:
    pipeline = _pipeline(world, spec, ledger_url)

    def stop() -> None:
        if pipeline.target_pid is not None:
            os.kill(pipeline.target_pid, signal.SIGTERM)

    world.destination(spec).add(Trigger(write=3, after=stop))
    first = pipeline.run()
    assert first.target_code == 128 + signal.SIGTERM
    assert "Stopped by SIGTERM; the run is recorded as interrupted" in first.target_err
    assert "Traceback" not in first.target_err
    with Ledger(ledger_url) as ledger:
        stopped = next(r for r in ledger.runs() if r.target == spec.target)
    assert stopped.status == "interrupted"
    assert stopped.finished_at is not None
    rerun = pipeline.run()
    assert (rerun.tap_code, rerun.target_code) == (0, 0), rerun.target_err[-2000:]
    _like_fault_free(world, spec, expected(spec))


def test_input_that_breaks_off_stops_with_the_line_and_closes_the_run_as_failed(
    world: World, spec: Spec, ledger_url: str, tmp_path: Path
) -> None:
    """The tap's output cut in the middle of its last record: one sentence naming the line
    (never its content), exit 1, and the ledger run closed as failed, not left running."""
    pipeline = _pipeline(world, spec, ledger_url)
    configs = {"tap": pipeline.tap_config, "target": pipeline.target_config}
    for name, config in configs.items():
        (tmp_path / f"{name}.json").write_text(json.dumps(config), encoding="utf-8")
    bin_dir = Path(sys.executable).parent
    tapped = subprocess.run(
        [str(bin_dir / spec.tap), "--config", str(tmp_path / "tap.json")],
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    ).stdout.splitlines()
    last_record = max(
        i for i, line in enumerate(tapped) if '"type":"RECORD"' in line.replace(" ", "")
    )
    cut = [*tapped[:last_record], tapped[last_record][: len(tapped[last_record]) // 2]]
    done = subprocess.run(
        [str(bin_dir / spec.target), "--config", str(tmp_path / "target.json")],
        input="\n".join(cut),
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 1
    assert (
        f"Line {len(cut)} of the input is not valid JSON (the input ends in the middle of it)"
        in done.stderr
    )
    assert cut[-1] not in done.stderr
    assert "Traceback" not in done.stderr
    with Ledger(ledger_url) as ledger:
        statuses = [r.status for r in ledger.runs() if r.target == spec.target]
    assert "running" not in statuses
    assert statuses[:1] in ([], ["failed"])


@pytest.mark.parametrize("write", [1, 6, 12])
def test_the_report_of_a_killed_target_lists_the_writes_it_made(
    world: World, spec: Spec, expected: Callable[..., Expected], ledger_url: str, write: int
) -> None:
    """SIGKILL right after the server applied the n-th write: the ledger's record of the killed
    run shows every write made (from the write-ahead record), and the rerun ends as one run."""
    pipeline = _pipeline(world, spec, ledger_url)
    world.destination(spec).add(Trigger(write=write, after=pipeline.kill_target))
    first = pipeline.run()
    assert first.target_code == -signal.SIGKILL
    made = world.destination(spec).writes
    rerun = pipeline.run()
    assert (rerun.tap_code, rerun.target_code) == (0, 0), rerun.target_err[-2000:]
    _like_fault_free(world, spec, expected(spec))
    with Ledger(ledger_url) as ledger:
        killed = [r for r in ledger.runs() if r.target == spec.target][-1]
        logged = ledger.actions(killed.id)
    assert killed.status == "interrupted"
    writes = [a for a in logged if a.action not in ("skip", "fail")]
    unknown = [a for a in logged if a.action == "fail" and "is unknown" in a.reason]
    # Every write the server applied is in the killed run's log, as done or (its answer never
    # read) as unknown; requests still in flight are unknown too. Nothing is logged as done
    # that was not made. (target-personio logs a timer's periods as one row.)
    assert len(writes) <= made
    assert len(writes) + len(unknown) >= (made if spec.source == "personio" else 1)
