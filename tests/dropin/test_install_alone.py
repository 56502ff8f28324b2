"""Each plugin installs alone into a fresh virtual environment, with PyPI as the only index: from
its folder, from a wheel (its shared distributions' wheels beside it) and from a git subdirectory.

The shared distributions (``personio-staffomatic-http``, ``personio-staffomatic-ledger``) are on
no index, so each install proves they come from the same checkout or the same wheel folder.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.dropin.definitions import BIN, PLUGINS, ROOT, SHARED

pytestmark = pytest.mark.slow

UV = str(BIN / "uv")
DISTRIBUTIONS = {"vendor-http": "personio-staffomatic-http"}
DISTRIBUTIONS |= {"sync-ledger": "personio-staffomatic-ledger"}


def run(*command: str, cwd: Path | None = None, **env: str) -> str:
    done = subprocess.run(
        command,
        cwd=cwd,
        env=os.environ | env,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    assert done.returncode == 0, (done.stdout + done.stderr)[-3000:]
    return done.stdout


def fresh_venv(path: Path) -> Path:
    run(UV, "venv", "--quiet", "--python", sys.executable, str(path))
    return path / "bin"


def installed(venv_bin: Path) -> set[str]:
    """The names of the distributions installed in a virtual environment."""
    listing = run(UV, "pip", "list", "--python", str(venv_bin / "python"), "--format", "freeze")
    return {line.split("==")[0] for line in listing.split()}


def assert_runs_alone(venv_bin: Path, plugin: str) -> None:
    """The plugin's command works, and the shared distributions it needs are the only others."""
    if plugin == "sync-ledger":
        assert "usage: sync-ledger" in run(str(venv_bin / plugin), "--help")
    else:
        assert f"Name: {plugin}" in run(str(venv_bin / plugin), "--about")
    ours = {name for name in installed(venv_bin) if name.startswith("personio-staffomatic")}
    assert ours == {DISTRIBUTIONS[folder] for folder in SHARED[plugin]}


@pytest.fixture(scope="module")
def wheels(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Wheels of every plugin and shared distribution, built as ``make dist`` builds them."""
    out = tmp_path_factory.mktemp("wheels")
    folders = (*PLUGINS, *DISTRIBUTIONS)
    run(
        sys.executable,
        str(ROOT / "scripts" / "dist.py"),
        "--wheel-only",
        "--out",
        str(out),
        *folders,
    )
    return out


@pytest.mark.parametrize("plugin", [*PLUGINS, "sync-ledger"])
def test_a_plugin_installs_alone_from_its_folder(tmp_path: Path, plugin: str) -> None:
    venv_bin = fresh_venv(tmp_path / "venv")
    run(UV, "pip", "install", "--quiet", "--python", str(venv_bin / "python"), str(ROOT / plugin))
    assert_runs_alone(venv_bin, plugin)


@pytest.mark.parametrize("plugin", PLUGINS)
def test_a_plugin_installs_alone_from_its_wheel_with_the_shared_wheels_beside_it(
    tmp_path: Path, wheels: Path, plugin: str
) -> None:
    (wheel,) = wheels.glob(f"{plugin.replace('-', '_')}-*.whl")
    venv_bin = fresh_venv(tmp_path / "venv")
    python = str(venv_bin / "python")
    run(
        UV, "pip", "install", "--quiet", "--python", python, "--find-links", str(wheels), str(wheel)
    )
    assert_runs_alone(venv_bin, plugin)


def test_a_target_installs_alone_from_a_git_subdirectory(tmp_path: Path) -> None:
    """As ``pip install "git+https://...#subdirectory=target-personio"`` does: here from a
    repository on disk holding the working tree's plugin and shared folders."""
    if shutil.which("git") is None:
        pytest.skip("git is not installed")
    repo = tmp_path / "repo"
    for folder in ("target-personio", *SHARED["target-personio"]):
        ignore = shutil.ignore_patterns("__pycache__", "*.egg-info")
        shutil.copytree(ROOT / folder, repo / folder, ignore=ignore, dirs_exist_ok=True)
    git = ("git", "-c", "user.name=tests", "-c", "user.email=tests@example.org")
    run(*git, "init", "--quiet", "--initial-branch", "main", cwd=repo)
    run(*git, "add", "-A", cwd=repo)
    run(*git, "commit", "--quiet", "-m", "the working tree", cwd=repo)
    venv_bin = fresh_venv(tmp_path / "venv")
    url = f"target-personio @ git+file://{repo}@main#subdirectory=target-personio"
    run(UV, "pip", "install", "--quiet", "--python", str(venv_bin / "python"), url)
    assert_runs_alone(venv_bin, "target-personio")
