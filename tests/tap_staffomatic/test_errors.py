"""Each failure a person must fix ends the tap with one sentence and a non-zero exit; no secrets."""

from __future__ import annotations

import base64
import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from sandbox.admin import Admin
from tap_staffomatic.tap import settings_problems

GOOD = {"account": "acme", "email": "api@acme.example", "password": "pw"}


def cli(config: dict[str, Any], tmp_path: Path, **env: str) -> subprocess.CompletedProcess[str]:
    path = tmp_path / "config.json"
    path.write_text(json.dumps(config))
    environment = {k: v for k, v in os.environ.items() if not k.startswith("TAP_STAFFOMATIC")}
    return subprocess.run(
        [sys.executable, "-m", "tap_staffomatic", "--config", str(path)],
        capture_output=True,
        text=True,
        timeout=120,
        env=environment | env,
        check=False,
    )


def error_lines(stderr: str) -> list[str]:
    return [line for line in stderr.splitlines() if "| ERROR" in line]


@pytest.mark.parametrize(
    ("config", "sentence"),
    [
        ({**GOOD, "account": " "}, "The setting `account` is missing: set it to your Staffomatic"),
        ({"account": "acme"}, "No Staffomatic credentials are set: set `email` and `password`"),
        ({**GOOD, "password": ""}, "The setting `password` is missing: set it together with"),
        ({"account": "acme", "password": "pw"}, "The setting `email` is missing: set it together"),
        (
            {**GOOD, "base_url": "http://staffomatic.example/v3"},
            "The setting `base_url` ('http://staffomatic.example/v3') must use https: plain",
        ),
        (
            {**GOOD, "base_url": "staffomatic"},
            "The setting `base_url` ('staffomatic') is not a URL",
        ),
    ],
)
def test_each_wrong_setting_is_named_in_one_sentence(config: dict[str, Any], sentence: str) -> None:
    (problem,) = settings_problems(config)

    assert problem.startswith(sentence)
    assert problem.endswith(".")


@pytest.mark.parametrize(
    "config",
    [
        GOOD,
        {"account": "acme", "api_token": "t"},
        {**GOOD, "base_url": "http://127.0.0.1:8402/v3"},
        {**GOOD, "base_url": "http://localhost:8402/v3"},
    ],
)
def test_complete_settings_and_loopback_http_are_accepted(config: dict[str, Any]) -> None:
    assert settings_problems(config) == []


def test_a_missing_setting_stops_the_command_with_its_sentence(tmp_path: Path) -> None:
    done = cli({"email": "api@acme.example", "password": "hunter2-secret"}, tmp_path)

    assert done.returncode == 1
    assert "The setting `account` is missing" in done.stderr
    assert "Traceback" not in done.stderr
    assert "hunter2-secret" not in done.stderr + done.stdout


def test_wrong_credentials_stop_the_command_with_one_sentence_and_no_secret(
    tmp_path: Path, config: dict[str, Any], staffomatic: Admin
) -> None:
    done = cli({**config, "password": "wrong-secret-4711"}, tmp_path)

    assert done.returncode == 1
    assert error_lines(done.stderr)[-1].endswith(
        "Staffomatic rejected the credentials (401 Unauthorized): check `email` and `password` "
        "(or `api_token`) of a user of account 'demo'."
    )
    assert "Traceback" not in done.stderr
    assert "wrong-secret-4711" not in done.stderr + done.stdout


def test_a_wrong_api_token_is_reported_like_wrong_credentials(
    tmp_path: Path, config: dict[str, Any], staffomatic: Admin
) -> None:
    done = cli({**config, "api_token": "no-such-token-0815"}, tmp_path)

    assert done.returncode == 1
    assert "Staffomatic rejected the credentials (401 Unauthorized)" in done.stderr
    assert "no-such-token-0815" not in done.stderr + done.stdout


def test_an_unknown_account_stops_the_command_naming_the_account_setting(
    tmp_path: Path, config: dict[str, Any], staffomatic: Admin
) -> None:
    done = cli({**config, "account": "no-such-account"}, tmp_path)

    assert done.returncode == 1
    assert error_lines(done.stderr)[-1].endswith(
        "(404 Not Found): check that `account` ('no-such-account') is your Staffomatic "
        "subdomain and that `base_url` ends in /v3."
    )
    assert "Traceback" not in done.stderr


def test_secrets_never_reach_the_logs_even_when_retrying_at_debug_level(
    tmp_path: Path, config: dict[str, Any], staffomatic: Admin
) -> None:
    staffomatic.faults(burst_429=1, retry_after=1)

    done = cli(config, tmp_path, TAP_STAFFOMATIC_LOGLEVEL="DEBUG")

    assert done.returncode == 0, done.stderr[-2000:]
    assert "Backing off" in done.stderr
    basic = base64.b64encode(f"{config['email']}:{config['password']}".encode()).decode()
    for secret in (config["password"], basic):
        assert secret not in done.stderr
        assert secret not in done.stdout
