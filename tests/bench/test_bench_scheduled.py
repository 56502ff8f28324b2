"""The scheduled phase's file helpers: which install Meltano runs for a plugin, and reading
installs into the page cache before a measured run. Nothing is started or timed."""

from __future__ import annotations

import builtins
from pathlib import Path
from typing import Any

import pytest

from tests.bench.test_bench_figures import load

for _name in ("sandbox_process", "pipeline_run"):
    load(_name, _name)  # imported by bench/scheduled.py under these names
scheduled = load("scheduled", "scheduled")


def test_installed_is_the_executable_meltano_runs_an_inheriting_plugin_included(
    tmp_path: Path,
) -> None:
    venv = tmp_path / ".meltano"
    assert scheduled.installed(tmp_path, "tap-personio--absences") == (
        venv / "extractors" / "tap-personio" / "venv" / "bin" / "tap-personio"
    )
    assert scheduled.installed(tmp_path, "target-staffomatic") == (
        venv / "loaders" / "target-staffomatic" / "venv" / "bin" / "target-staffomatic"
    )


def test_warm_reads_every_file_of_each_install_and_skips_what_cannot_be_read(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    install = tmp_path / "venv"
    (install / "bin").mkdir(parents=True)
    (install / "lib" / "pkg").mkdir(parents=True)
    files = [install / "bin" / "tap-x", install / "lib" / "pkg" / "a.py", install / "lib" / "b"]
    for path in files:
        path.write_bytes(b"x" * 3_000_000)
    (install / "lib" / "gone").symlink_to(tmp_path / "nowhere")  # a link to nothing
    monkeypatch.setattr(scheduled, "LINKED", ())  # the repository's plugin folders left out
    read: dict[str, int] = {}
    real_open = builtins.open

    class Counted:
        def __init__(self, name: str) -> None:
            self.file = real_open(name, "rb")
            self.name = name

        def __enter__(self) -> Counted:
            return self

        def __exit__(self, *_: Any) -> None:
            self.file.close()

        def read(self, size: int) -> bytes:
            chunk = self.file.read(size)
            read[self.name] = read.get(self.name, 0) + len(chunk)
            return chunk

    def counted_open(name: str, mode: str = "r", *args: Any, **kwargs: Any) -> Any:
        return Counted(name) if mode == "rb" else real_open(name, mode, *args, **kwargs)

    monkeypatch.setattr(builtins, "open", counted_open)
    scheduled.warm([install / "bin" / "tap-x"])
    assert read == {str(path): 3_000_000 for path in files}  # whole, each of them
