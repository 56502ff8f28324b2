"""Bad settings and bad credentials stop the run with one sentence; PostgreSQL as the ledger."""

from __future__ import annotations

import json
import subprocess
import sys
from datetime import timedelta
from pathlib import Path

import pytest
from sandbox.roster import company_today
from target_personio.client import RunStopped
from target_personio.target import TargetPersonio

from tests.target_personio.helpers import ANNA, Harness, singer_input, timer

CLI = str(Path(sys.executable).parent / "target-personio")


def run_cli(tmp_path: Path, config: dict, text: str = "") -> subprocess.CompletedProcess[str]:
    path = tmp_path / "config.json"
    path.write_text(json.dumps(config))
    return subprocess.run(
        [CLI, "--config", str(path)], input=text, capture_output=True, text=True, timeout=60
    )


BASE = {
    "client_id": "demo-client-id",
    "client_secret": "demo-client-secret",
    "base_url": "http://127.0.0.1:9",
}


@pytest.mark.parametrize(
    ("override", "sentence"),
    [
        ({"absence_source": "both"}, "absence_source is 'both'; set it to personio or staffomatic"),
        ({"overnight_periods": "cut"}, "overnight_periods is 'cut'; set it to split"),
        ({"base_url": "http://api.personio.de"}, "must use https"),
        ({"client_secret": None}, "Personio credentials are missing"),
        ({"client_secret": None, "credentials_file": "/nonexistent.json"}, "cannot be read"),
    ],
)
def test_bad_setting_exits_non_zero_with_one_clear_sentence(
    tmp_path: Path, override: dict, sentence: str
) -> None:
    config = {k: v for k, v in {**BASE, **override}.items() if v is not None}
    result = run_cli(tmp_path, config)
    assert result.returncode == 1
    errors = [line for line in result.stderr.splitlines() if sentence in line]
    assert len(errors) == 1
    assert "Traceback" not in result.stderr


def test_credentials_file_supplies_the_credentials(tmp_path: Path) -> None:
    path = tmp_path / "personio.json"
    path.write_text(json.dumps({"client_id": "a", "client_secret": "b"}))
    target = TargetPersonio(config={"credentials_file": str(path), "ledger_url": "sqlite://"})
    assert target.sync.client is not None


def test_wrong_credentials_stop_the_run_with_one_sentence_and_no_secret(
    harness: Harness, tmp_path: Path
) -> None:
    config = {
        **harness.config(),
        "client_secret": "wrong-secret-value",
        "ledger_url": f"sqlite:///{tmp_path / 'l.db'}",
    }
    day = (company_today() - timedelta(days=1)).isoformat()
    text = singer_input([timer(1, ANNA, f"{day} 08:00", f"{day} 12:00")])
    result = run_cli(tmp_path, config, text)
    assert result.returncode == 1
    assert "Personio refused the API credential" in result.stderr
    assert "wrong-secret-value" not in result.stderr
    assert "Traceback" not in result.stderr


def test_failed_run_is_closed_as_failed_in_the_ledger(harness: Harness) -> None:
    text = singer_input([timer(1, ANNA, "2024-10-29 08:00", "2024-10-29 12:00")])
    with pytest.raises(RunStopped):
        harness.run(text, client_secret="wrong")
    assert harness.ledger().runs()[0].status == "failed"
