"""scripts/meltano_parsed.py: Meltano's parse of meltano.yml is kept on disk and read back
instead of parsing again, and only while the file, the entry and its owner are as written."""

from __future__ import annotations

import importlib
import io
import shutil
import stat
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest
from meltano.core import yaml as meltano_yaml

ROOT = Path(__file__).parents[2]


@pytest.fixture
def parsed(monkeypatch: pytest.MonkeyPatch) -> ModuleType:
    """The module, with Meltano's ``load`` and in-memory cache restored after the test."""
    monkeypatch.syspath_prepend(str(ROOT / "scripts"))
    monkeypatch.setattr(meltano_yaml, "load", meltano_yaml.load)
    monkeypatch.setattr(meltano_yaml, "cache", {})
    return importlib.import_module("meltano_parsed")


@pytest.fixture
def parses(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The files ruamel parsed (Meltano's parser, counted)."""
    seen: list[str] = []
    parse = meltano_yaml.yaml.load

    def counted(stream: Any) -> Any:
        seen.append(getattr(stream, "name", "?"))
        return parse(stream)

    monkeypatch.setattr(meltano_yaml.yaml, "load", counted)
    return seen


def dumped(data: Any) -> str:
    out = io.StringIO()
    meltano_yaml.yaml.dump(data, out)
    return out.getvalue()


def project(tmp_path: Path) -> Path:
    path = tmp_path / "meltano.yml"
    shutil.copy(ROOT / "meltano.yml", path)
    return path


def test_a_parse_is_kept_privately_and_read_back_without_parsing(
    parsed: ModuleType, parses: list[str], tmp_path: Path
) -> None:
    path, kept = project(tmp_path), tmp_path / "kept"
    parsed.keep_parsed(kept)
    parsed.keep_parsed(kept)  # twice: still one layer
    first = meltano_yaml.load(path)
    assert len(parses) == 1
    (entry,) = kept.iterdir()
    assert stat.S_IMODE(kept.stat().st_mode) == 0o700
    assert stat.S_IMODE(entry.stat().st_mode) == 0o600
    meltano_yaml.cache.clear()  # as in the next sync's process
    again = meltano_yaml.load(path)
    assert len(parses) == 1  # read back, not parsed
    assert again == first
    assert dumped(again) == dumped(first)  # comments and order as parsed
    assert again is meltano_yaml.load(path)  # Meltano's own cache holds it from then on


def test_a_changed_file_is_parsed_again_and_replaces_its_entry(
    parsed: ModuleType, parses: list[str], tmp_path: Path
) -> None:
    path, kept = project(tmp_path), tmp_path / "kept"
    parsed.keep_parsed(kept)
    meltano_yaml.load(path)
    other = tmp_path / "other.yml"  # another file's entry is left alone
    other.write_text("version: 1\n")
    meltano_yaml.load(other)
    path.write_text(path.read_text() + "# a change\n")
    meltano_yaml.cache.clear()
    changed = meltano_yaml.load(path)
    assert len(parses) == 3
    assert "# a change" in dumped(changed)
    assert len(list(kept.iterdir())) == 2  # the file's new entry and the other file's


@pytest.mark.parametrize("spoil", ["others can write it", "not a pickle", "written by hand"])
def test_an_entry_that_cannot_be_trusted_or_read_is_parsed_again_and_written_anew(
    parsed: ModuleType, parses: list[str], tmp_path: Path, spoil: str
) -> None:
    path, kept = project(tmp_path), tmp_path / "kept"
    parsed.keep_parsed(kept)
    first = meltano_yaml.load(path)
    (entry,) = kept.iterdir()
    if spoil == "others can write it":
        entry.chmod(0o666)
    elif spoil == "not a pickle":
        entry.write_bytes(b"half a pickle")
    else:  # a link in its place is not followed
        target = tmp_path / "elsewhere.pickle"
        entry.rename(target)
        entry.symlink_to(target)
    meltano_yaml.cache.clear()
    assert meltano_yaml.load(path) == first
    assert len(parses) == 2  # parsed again
    assert stat.S_IMODE(entry.lstat().st_mode) == 0o600  # and written anew, privately
    meltano_yaml.cache.clear()
    meltano_yaml.load(path)
    assert len(parses) == 2
