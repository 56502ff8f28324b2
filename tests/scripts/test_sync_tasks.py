"""scripts/sync_tasks.py and meltano_facts.py: tasks left out, kept catalogs and their key."""

from __future__ import annotations

import importlib.util
import json
import sys
from pathlib import Path
from types import ModuleType

import pytest

SCRIPTS = Path(__file__).parents[2] / "scripts"

SYNC_ALL = [
    "tap-personio--employees target-staffomatic",
    "tap-personio--absences target-staffomatic",
    "tap-staffomatic--absences target-personio",
    "tap-staffomatic--timers target-personio",
]


def load(name: str) -> ModuleType:
    spec = importlib.util.spec_from_file_location(name, SCRIPTS / f"{name}.py")
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module


tasks = load("sync_tasks")


@pytest.mark.parametrize(
    ("leading", "left_out"),
    [
        ("personio", "tap-staffomatic--absences target-personio"),
        ("staffomatic", "tap-personio--absences target-staffomatic"),
    ],
)
def test_the_absences_task_into_the_leading_system_is_left_out_saying_why(
    leading: str, left_out: str, capsys: pytest.CaptureFixture[str]
) -> None:
    source = {"target-personio": leading, "target-staffomatic": leading}
    kept = [task for task in SYNC_ALL if not tasks.skipped("sync-all", task, source)]
    assert kept == [task for task in SYNC_ALL if task != left_out]
    lines = capsys.readouterr().out.splitlines()
    assert lines == [
        f"-- sync-all: skipped {left_out}: {leading.capitalize()} leads absences "
        f"(absence_source); {left_out.split()[1]} ignores them"
    ]


@pytest.mark.parametrize(
    "source",
    [
        {"target-personio": "personio", "target-staffomatic": "staffomatic"},  # they disagree
        {},  # not known
    ],
)
def test_no_task_is_left_out_unless_both_targets_name_the_leading_system(
    source: dict[str, str],
) -> None:
    assert [task for task in SYNC_ALL if not tasks.skipped("sync-all", task, source)] == SYNC_ALL


def test_other_loaders_and_areas_are_never_left_out() -> None:
    source = {"target-personio": "personio", "target-staffomatic": "personio"}
    for task in ("tap-staffomatic--absences target-jsonl", "tap-staffomatic target-personio"):
        assert tasks.not_leading(task, source) is None


class FakeDiscovery:
    """Stands in for ``meltano invoke --dump=catalog``: writes a catalog, counts its calls."""

    def __init__(self, exit_code: int = 0, text: str = '{"streams": []}') -> None:
        self.calls: list[list[str]] = []
        self.exit_code, self.text = exit_code, text

    def __call__(self, command: list[str], env: dict[str, str], out: Path) -> int:
        self.calls.append(command)
        out.write_text(self.text)
        return self.exit_code


def test_a_kept_catalog_is_used_until_its_key_changes(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    discover = FakeDiscovery()
    first = tasks.catalog_for(["meltano"], "tap-x--a", "key-1", False, discover)
    assert first is not None
    assert discover.calls == [["meltano", "invoke", "--dump=catalog", "tap-x--a"]]
    assert json.loads(first.read_text()) == {"streams": []}
    assert tasks.catalog_for(["meltano"], "tap-x--a", "key-1", False, discover) == first
    assert len(discover.calls) == 1  # kept: no discovery
    tasks.catalog_for(["meltano"], "tap-x--a", "key-2", False, discover)
    assert len(discover.calls) == 2  # settings, rules or code changed
    tasks.catalog_for(["meltano"], "tap-x--a", "key-2", True, discover)
    assert len(discover.calls) == 3  # --refresh-catalog


@pytest.mark.parametrize(("exit_code", "text"), [(1, ""), (0, "not json"), (0, '{"x": 1}')])
def test_a_failed_discovery_keeps_no_catalog_and_leaves_discovery_to_meltano(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, exit_code: int, text: str
) -> None:
    monkeypatch.chdir(tmp_path)
    discover = FakeDiscovery(exit_code, text)
    assert tasks.catalog_for(["meltano"], "tap-x", "key", False, discover) is None
    assert tasks.catalog_for(["meltano"], "tap-x", "key", False, discover) is None
    assert len(discover.calls) == 2  # tried again next time
    assert not list((tmp_path / ".meltano" / "sync-catalogs").glob("tap-x.*"))


def test_the_code_fingerprint_follows_the_editable_folders_and_the_installed_distributions(
    tmp_path: Path,
) -> None:
    facts = load("meltano_facts")
    plugin = tmp_path / "tap-x"
    (plugin / "tap_x").mkdir(parents=True)
    (plugin / "tap_x" / "streams.py").write_text("COLUMNS = ['id']\n")
    venv = tmp_path / ".meltano" / "extractors" / "tap-x"
    site = venv / "venv" / "lib" / "python3.11" / "site-packages"
    (site / "singer_sdk-0.54.0.dist-info").mkdir(parents=True)

    def fingerprint() -> str:
        return str(facts.code_fingerprint(tmp_path, "-e ./tap-x", venv))

    first = fingerprint()
    (plugin / "tap_x" / "__pycache__").mkdir()
    (plugin / "tap_x" / "__pycache__" / "streams.cpython-311.pyc").write_bytes(b"\0")
    assert fingerprint() == first  # compiled files are not code
    (plugin / "tap_x" / "streams.py").write_text("COLUMNS = ['id', 'email']\n")
    second = fingerprint()
    assert second != first  # the tap changed
    (site / "singer_sdk-0.54.0.dist-info").rename(site / "singer_sdk-0.55.0.dist-info")
    assert fingerprint() != second  # a new SDK
