"""The plugin definition files (``<plugin>/plugin.yml``) and what the drop-in tests share."""

from __future__ import annotations

import json
import subprocess
import sys
from functools import cache
from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent
PLUGINS = ("tap-personio", "tap-staffomatic", "target-staffomatic", "target-personio")
# The shared distributions (on no index) a plugin's install brings along, by folder.
SHARED = {
    "tap-personio": ("vendor-http",),
    "tap-staffomatic": ("vendor-http",),
    "target-staffomatic": ("vendor-http", "sync-ledger"),
    "target-personio": ("vendor-http", "sync-ledger"),
    "sync-ledger": ("sync-ledger",),  # itself: its `targets` extra alone needs vendor-http
}
PLUGIN_TYPE = {"tap": "extractor", "target": "loader", "sync": "utility"}
PLURAL = {"extractor": "extractors", "loader": "loaders", "utility": "utilities"}
_FORMAT_KINDS = {"date-time": "date_iso8601", "date": "date_iso8601", "email": "email"}
_TYPE_KINDS = {"integer": "integer", "boolean": "boolean", "number": "decimal"}
_TYPE_KINDS |= {"array": "array", "object": "object"}


def definition(plugin: str) -> dict[str, Any]:
    loaded: dict[str, Any] = yaml.safe_load((ROOT / plugin / "plugin.yml").read_text())
    return loaded


def plugin_type(plugin: str) -> str:
    return PLUGIN_TYPE[plugin.split("-")[0]]


@cache
def about(plugin: str) -> dict[str, Any]:
    """``<plugin> --about --format=json`` of the installed plugin."""
    done = subprocess.run(
        [str(BIN / plugin), "--about", "--format=json"],
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    result: dict[str, Any] = json.loads(done.stdout)
    return result


def meltano_kinds(schema: dict[str, Any]) -> set[str]:
    """The Meltano setting kinds that say what a JSON-schema setting holds.

    A free text setting may be offered as ``options`` too: the plugin checks its values itself
    and answers a wrong one with a sentence of its own (``absence_source``, ``overnight_periods``).
    """
    if schema.get("enum"):
        return {"options"}
    types = schema["type"] if isinstance(schema["type"], list) else [schema["type"]]
    (kind,) = [t for t in types if t != "null"]
    if kind == "string" and schema.get("format") in _FORMAT_KINDS:
        return {_FORMAT_KINDS[schema["format"]]}
    return {"string", "options"} if kind == "string" else {_TYPE_KINDS[kind]}


def shape(settings: list[dict[str, Any]]) -> dict[str, tuple[str, bool]]:
    """Each setting's name with its kind and whether it is sensitive."""
    return {s["name"]: (s.get("kind", "string"), bool(s.get("sensitive"))) for s in settings}


def project_plugin(plugin: str) -> dict[str, Any]:
    """The plugin as the repository's ``meltano.yml`` declares it."""
    project = yaml.safe_load((ROOT / "meltano.yml").read_text())
    declared: dict[str, Any] = next(
        p for p in project["plugins"][PLURAL[plugin_type(plugin)]] if p["name"] == plugin
    )
    return declared
