"""No secret in any log: client secrets, passwords, API tokens and every token the sandbox issued.

The suite's log book holds the stdout and stderr of every plugin process the session ran (the
faulted pipelines, the bad input, the bad settings) and every secret met on the way: the
configured secrets (right and wrong), the credentials in both sandbox states, the tokens
Personio issued and every ``Authorization`` value a plugin sent. This module adds the noisiest
runs it can (debug logging, retries after 5xx and 429, renewed tokens) and then scans every log
and every SQLite ledger the targets wrote. It runs last in this folder, so the scan covers the
whole suite; run alone, it still scans its own runs.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.faults.conftest import sandbox_world
from tests.faults.helpers import SPECS, LogBook, Outcome, Spec, Trigger

pytestmark = pytest.mark.slow


def noisy_run(book: LogBook, workdir: Path, spec: Spec) -> Outcome:
    """One pipeline run at debug level with 5xx, 429 and Personio tokens renewed mid-run."""
    for world in sandbox_world(book, workdir):
        sb = world.sandbox
        world.admins.faults(error_rate=0.1, burst_429=2, seed=13)
        world.personio.add(Trigger(request=5, before=sb.personio.invalidate_tokens))
        pipeline = world.pipeline(spec)
        if spec.source == "staffomatic":  # the tap signs in with the API token this time
            token = sb.staffomatic.state["credentials"][0]["api_token"]
            pipeline.tap_config = {
                **{k: v for k, v in pipeline.tap_config.items() if k not in ("email", "password")},
                "api_token": token,
            }
        else:  # the target signs in with e-mail and password this time
            pipeline.target_config = {
                **{k: v for k, v in pipeline.target_config.items() if k != "api_token"},
                "email": "api@demo-gastro.example",
                "password": "demo-password",
            }
        outcome = pipeline.run(env={"LOGLEVEL": "DEBUG"})
        book.note_state(sb)
    return outcome


@pytest.fixture(scope="module")
def noisy(book: LogBook, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Outcome]:
    return {
        spec.name: noisy_run(book, tmp_path_factory.mktemp(f"noisy-{spec.name}"), spec)
        for spec in SPECS
    }


def test_noisy_runs_at_debug_level_with_retries_and_renewed_tokens_succeed(
    noisy: dict[str, Outcome],
) -> None:
    for outcome in noisy.values():
        assert (outcome.tap_code, outcome.target_code) == (0, 0), outcome.target_err[-3000:]
        assert "DEBUG" in outcome.tap_err + outcome.target_err


def test_no_log_and_no_ledger_of_the_whole_suite_holds_a_secret(
    noisy: dict[str, Outcome], book: LogBook
) -> None:
    assert {"demo-client-secret", "demo-password", "demo-api-token"} <= book.secrets
    assert any(s.startswith("papi-") for s in book.secrets), "no issued Personio token seen"
    assert book.ledgers, "no ledger file was written"
    assert book.leaks() == []
