"""The plugins in another Meltano project: added with ``meltano add --from-ref <plugin.yml>`` into a
fresh project in a temporary folder, configured only through the usual ``TAP_PERSONIO_...`` and
``TARGET_STAFFOMATIC_...`` variables, run against the sandbox.

The project installs each plugin from this checkout's folder (the definition's ``pip_url``
overridden, as a project pinning a tag or a fork would do); ``DROPIN_SOURCE`` (for example
``git+https://github.com/...@my-branch``) makes it install from that repository instead.
"""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml
from sandbox.server import Sandbox

from sandbox import roster
from tests.dropin.definitions import BIN, ROOT, definition, plugin_type
from tests.e2e.helpers import clean_environ, ok, state, users_by_person

pytestmark = pytest.mark.slow

ADDED = ("tap-personio", "target-staffomatic", "sync-ledger")
PROJECT = {
    "default_environment": "dev",
    "project_id": "another-project",
    "send_anonymous_usage_stats": False,
    "cli": {"disable_version_check": True},
    "venv": {"backend": "uv"},
    "environments": [{"name": "dev"}],
}
# Employees of the demo seed without a Staffomatic user before the first run (conftest's seed).
CREATED = {"1004", "1006", "1013", "1014", "1016", "1018", "1020", "1021"}


def pip_url(plugin: str) -> str:
    source = os.environ.get("DROPIN_SOURCE")
    return f"{source}#subdirectory={plugin}" if source else str(ROOT / plugin)


def meltano(project: Path, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(BIN / "meltano"), *args],
        cwd=project,
        env=clean_environ() | {"MELTANO_DATABASE_URI": f"sqlite:///{project}/meltano.db"} | env,
        capture_output=True,
        text=True,
        timeout=900,
        check=False,
    )


@pytest.fixture(scope="module")
def project(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A fresh Meltano project with the three plugins added from their definition files."""
    root = tmp_path_factory.mktemp("another-project")
    (root / "meltano.yml").write_text(yaml.safe_dump(PROJECT))
    for plugin in ADDED:
        ref = root / f"{plugin}.plugin.yml"
        ref.write_text(yaml.safe_dump(definition(plugin) | {"pip_url": pip_url(plugin)}))
        kind = plugin_type(plugin)
        ok(meltano(root, "add", "--plugin-type", kind, "--from-ref", str(ref), plugin))
    return root


def credentials(sandbox: Sandbox, personio_secret: str) -> dict[str, str]:
    return {
        "TAP_PERSONIO_BASE_URL": sandbox.personio_url,
        "TAP_PERSONIO_CLIENT_ID": roster.PERSONIO_CLIENT_ID,
        "TAP_PERSONIO_CLIENT_SECRET": personio_secret,
        "TARGET_STAFFOMATIC_BASE_URL": sandbox.staffomatic_api,
        "TARGET_STAFFOMATIC_ACCOUNT": roster.STAFFOMATIC_ACCOUNT,
        "TARGET_STAFFOMATIC_EMAIL": roster.STAFFOMATIC_EMAIL,
        "TARGET_STAFFOMATIC_PASSWORD": roster.STAFFOMATIC_PASSWORD,
        "TARGET_STAFFOMATIC_USER_AGENT": "drop-in tests (tests@example.org)",
    }


def test_added_plugins_sync_personio_into_staffomatic_with_the_usual_variables(
    project: Path, sandbox: Sandbox
) -> None:
    before = {user["id"] for user in state(sandbox.staffomatic_url)["users"]}
    env = credentials(sandbox, roster.PERSONIO_CLIENT_SECRET)
    ok(meltano(project, "run", "tap-personio", "target-staffomatic", **env))
    linked = users_by_person(state(sandbox.staffomatic_url))
    assert {person for person, user in linked.items() if user["id"] not in before} == CREATED
    report = json.loads(
        ok(meltano(project, "invoke", "sync-ledger", "report", "--format", "json")).stdout
    )
    (run,) = report["runs"]
    assert (run["target"], run["status"]) == ("target-staffomatic", "success")
    assert run["counts"]["employee"]["create"] == len(CREATED)


def test_a_plugin_error_sentence_reaches_meltanos_log_as_an_error(
    project: Path, sandbox: Sandbox
) -> None:
    env = credentials(sandbox, "not-the-secret")
    done = meltano(project, "--log-format=json", "run", "tap-personio", "target-staffomatic", **env)
    assert done.returncode == 1
    lines: list[dict[str, Any]] = []
    for line in done.stderr.splitlines():
        if line.startswith("{"):
            lines.append(json.loads(line))
    from_tap = [e for e in lines if e.get("plugin_logger") == "tap-personio"]
    errors = [e["event"] for e in from_tap if e["level"] == "error"]
    assert len(errors) == 1
    assert errors[0].startswith("Personio rejected the API credential")
    assert "not-the-secret" not in done.stderr
