"""The command line: each failure is one clear sentence and a non-zero exit, secrets stay out."""

from __future__ import annotations

import json
import socket
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from sandbox.server import Sandbox

TAP = str(Path(sys.executable).parent / "tap-personio")


def tap(tmp_path: Path, config: dict[str, Any], *args: str) -> subprocess.CompletedProcess[str]:
    path = tmp_path / "config.json"
    path.write_text(json.dumps(config))
    return subprocess.run(
        [TAP, "--config", str(path), *args], capture_output=True, text=True, timeout=120
    )


def errors(result: subprocess.CompletedProcess[str]) -> list[str]:
    lines = [line for line in result.stderr.splitlines() if "| ERROR" in line]
    return [line.split("| ", 3)[-1].strip() for line in lines]


def closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.mark.parametrize("mode", [(), ("--discover",)])
def test_wrong_credentials_exit_non_zero_with_one_sentence(
    tmp_path: Path, sandbox: Sandbox, mode: tuple[str, ...]
) -> None:
    config = {
        "client_id": "demo-client-id",
        "client_secret": "wrong-secret-123",
        "base_url": sandbox.personio_url,
    }
    result = tap(tmp_path, config, *mode)
    assert result.returncode == 1
    assert errors(result)[0].startswith("Personio rejected the API credential for the v1 API")
    assert "Traceback" not in result.stderr
    assert "wrong-secret-123" not in result.stderr + result.stdout


def test_unreadable_required_attributes_are_named_with_where_to_allow_them(
    tmp_path: Path, sandbox: Sandbox
) -> None:
    config = {
        "client_id": "restricted-client-id",
        "client_secret": "restricted-client-secret",
        "base_url": sandbox.personio_url,
    }
    result = tap(tmp_path, config)
    assert result.returncode == 1
    assert errors(result)[0] == (
        "The Personio API credential cannot read the employee attributes office, "
        "weekly_working_hours: allow them for the API credential in Personio (Settings > "
        "Integrations > API credentials > your credential > Readable employee attributes) or "
        "remove them from required_attributes."
    )
    assert "Traceback" not in result.stderr


def test_the_restricted_credential_works_when_fewer_attributes_are_required(
    tmp_path: Path, sandbox: Sandbox
) -> None:
    config = {
        "client_id": "restricted-client-id",
        "client_secret": "restricted-client-secret",
        "base_url": sandbox.personio_url,
        "required_attributes": ["email", "first_name", "last_name"],
    }
    result = tap(tmp_path, config, "--discover")
    assert result.returncode == 0
    catalog = json.loads(result.stdout)
    employees = next(s for s in catalog["streams"] if s["tap_stream_id"] == "employees")
    assert "shift_planning" in employees["schema"]["properties"]
    assert "personnel_number" not in employees["schema"]["properties"]


def test_unreachable_host_exits_non_zero_with_one_sentence(tmp_path: Path) -> None:
    config = {
        "client_id": "a",
        "client_secret": "b",
        "base_url": f"http://127.0.0.1:{closed_port()}",
    }
    result = tap(tmp_path, config)
    assert result.returncode == 1
    assert errors(result)[0].startswith("Cannot reach Personio at http://127.0.0.1:")
    assert "check the base_url setting" in errors(result)[0]
    assert "Traceback" not in result.stderr


def test_plain_http_to_a_remote_host_is_refused(tmp_path: Path) -> None:
    config = {"client_id": "a", "client_secret": "b", "base_url": "http://api.personio.de"}
    result = tap(tmp_path, config)
    assert result.returncode == 1
    assert errors(result)[0] == (
        "base_url 'http://api.personio.de' uses plain http: use https (plain http is only "
        "allowed for loopback addresses such as http://127.0.0.1)."
    )
    assert "Traceback" not in result.stderr


def test_a_successful_run_logs_neither_secret_nor_token(tmp_path: Path, sandbox: Sandbox) -> None:
    config = {
        "client_id": "demo-client-id",
        "client_secret": "demo-client-secret",
        "base_url": sandbox.personio_url,
    }
    result = tap(tmp_path, config)
    assert result.returncode == 0, result.stderr
    tokens = [t["token"] for t in sandbox.personio.state["tokens"]]
    assert tokens
    for secret in ["demo-client-secret", *tokens]:
        assert secret not in result.stderr
        assert secret not in result.stdout


def test_the_readme_holds_the_current_about_output() -> None:
    about = subprocess.run(
        [TAP, "--about", "--format=markdown"], capture_output=True, text=True, timeout=60
    )
    readme = Path(__file__).resolve().parents[2] / "tap-personio" / "README.md"
    assert about.returncode == 0
    assert about.stdout.strip() in readme.read_text(encoding="utf-8")
