"""Meltano's settings, each resolved once where Meltano 4.4 resolves it again and again, while the
runner (``meltano_runner.py``) prepares and runs one task.

Preparing one task, Meltano resolves the plugins' settings some 7,000 times, and most of it
repeats what it has just resolved, with nothing changed in between:

- ``SettingsService.env`` copies ``os.environ`` for every look-up of every setting. Nothing
  changes the environment during a task (the plugins are processes of their own): one copy.
- ``config_with_metadata`` resolves, for each extra of a plugin (``_select``, ``_catalog``,
  ``_metadata``, ... about fifteen), every other setting of the plugin again (``as_env``), to
  expand variables in that extra: once per resolution.
- ``find_setting`` scans the plugin's setting definitions (through ``Canonical.__getattr__``) for
  every look-up of a setting by name: an index of them, made again whenever Meltano makes the
  list of definitions again (after a setting is written).
- Every plugin settings service Meltano creates (about ten a task) resolves the project's own
  settings (about a hundred) as environment variables: once per task.

Each replacement returns what the method it replaces returns
(``tests/scripts/test_meltano_settings.py`` compares them on the project's plugins), and is in
place only inside :func:`resolved_once`. Where a method is not there in the form expected
(another Meltano version), it is left alone and Meltano resolves as it always does.
"""

from __future__ import annotations

import contextlib
import inspect
import os
from collections.abc import Callable, Iterator
from typing import Any

_MISSING = object()
_within: list[dict[tuple[Any, ...], tuple[Any, dict[str, str]]]] = []
"""The ``as_env`` results of the outermost ``config_with_metadata`` call running (if one is)."""


def _env(copy: dict[str, str]) -> property:
    return property(lambda service: {**copy, **service.env_override})


def _config_with_metadata(original: Callable[..., Any]) -> Callable[..., Any]:
    def config_with_metadata(self: Any, *args: Any, **kwargs: Any) -> Any:
        outermost = not _within
        if outermost:
            _within.append({})
        try:
            return original(self, *args, **kwargs)
        finally:
            if outermost:
                _within.clear()

    return config_with_metadata


def _as_env(original: Callable[..., Any]) -> Callable[..., Any]:
    def as_env(self: Any, *args: Any, **kwargs: Any) -> dict[str, str]:
        if not _within or args:
            return original(self, *args, **kwargs)
        resolution = _within[0]
        # the arguments (a source manager among them) are kept alive with the result, so their
        # ids stay theirs for as long as the key is used
        key = (id(self), *((name, id(value)) for name, value in sorted(kwargs.items())))
        if key not in resolution:
            resolution[key] = ((self, kwargs), original(self, **kwargs))
        return dict(resolution[key][1])

    return as_env


def _find_setting() -> Callable[..., Any]:
    indexes: dict[int, tuple[Any, list[Any], dict[str, Any]]] = {}

    def find_setting(self: Any, name: str) -> Any:
        definitions = self.definitions()
        known = indexes.get(id(self))
        if known is None or known[0] is not self or known[1] is not definitions:
            index: dict[str, Any] = {}
            for setting in definitions:  # the first definition named or aliased so, as Meltano
                index.setdefault(setting.name, setting)
                for alias in setting.aliases or ():
                    index.setdefault(alias, setting)
            known = indexes[id(self)] = (self, definitions, index)
        return known[2].get(name)

    return find_setting


def _project_as_env(original: Callable[..., Any]) -> Callable[..., Any]:
    resolved: dict[int, tuple[Any, dict[str, str]]] = {}

    def as_env(self: Any, *args: Any, **kwargs: Any) -> dict[str, str]:
        if args or kwargs:
            return original(self, *args, **kwargs)
        if id(self) not in resolved or resolved[id(self)][0] is not self:
            resolved[id(self)] = (self, original(self))
        return dict(resolved[id(self)][1])

    return as_env


def _expected(owner: type, name: str, parameters: list[str]) -> bool:
    """Whether ``owner`` defines method ``name`` itself with these first parameters."""
    found = owner.__dict__.get(name)
    if not inspect.isfunction(found):
        return False
    return list(inspect.signature(found).parameters)[: len(parameters)] == parameters


@contextlib.contextmanager
def resolved_once(extra: dict[str, str]) -> Iterator[None]:
    """``os.environ`` with ``extra`` (Meltano reads it as ``meltano run`` would), and Meltano's
    settings resolved once each, for one task."""
    from meltano.core.project_settings_service import ProjectSettingsService
    from meltano.core.settings_service import SettingsService

    saved = dict(os.environ)
    os.environ.update(extra)
    replaced: list[tuple[type, str, Any]] = []

    def replace(owner: type, name: str, replacement: Any) -> None:
        replaced.append((owner, name, owner.__dict__.get(name, _MISSING)))
        setattr(owner, name, replacement)

    if isinstance(SettingsService.__dict__.get("env"), property):
        replace(SettingsService, "env", _env(dict(os.environ)))
    if _expected(SettingsService, "config_with_metadata", ["self"]) and _expected(
        SettingsService, "as_env", ["self", "args", "kwargs"]
    ):
        replace(
            SettingsService,
            "config_with_metadata",
            _config_with_metadata(SettingsService.config_with_metadata),
        )
        replace(SettingsService, "as_env", _as_env(SettingsService.as_env))
    if _expected(SettingsService, "find_setting", ["self", "name"]) and _expected(
        SettingsService, "definitions", ["self"]
    ):
        replace(SettingsService, "find_setting", _find_setting())
    if "as_env" not in ProjectSettingsService.__dict__ and any(
        owner is SettingsService for owner, name, _ in replaced if name == "as_env"
    ):
        # project settings: what SettingsService.as_env (above) gives, once per service
        replace(ProjectSettingsService, "as_env", _project_as_env(SettingsService.as_env))
    try:
        yield
    finally:
        for owner, name, original in reversed(replaced):
            if original is _MISSING:
                delattr(owner, name)
            else:
                setattr(owner, name, original)
        os.environ.clear()
        os.environ.update(saved)
