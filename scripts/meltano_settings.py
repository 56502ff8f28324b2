"""Meltano's settings, each resolved once while the runner (``meltano_runner.py``) prepares and
runs one task, where Meltano 4.4 resolves them again and again.

Preparing one task, Meltano resolves the plugins' settings some 7,000 times, and most of it
repeats what it has just resolved, with nothing changed in between:

- ``SettingsService.env`` copies ``os.environ`` for every look-up of every setting. Nothing
  changes the environment during a task (the plugins are processes of their own): one copy.
- ``config_with_metadata`` resolves, for each extra of a plugin (``_select``, ``_catalog``,
  ``_metadata``, ... about fifteen), every other setting of the plugin again (``as_env``), to
  expand variables in that extra; and a task asks for each plugin's settings some six times
  (its block's environment, then ``PluginInvoker.prepare``: as a dict, processed, its extras,
  as environment variables), each time from scratch, as every plugin settings service asks for
  the project's own hundred settings. Here each service resolves each of the two once per set
  of arguments during the task, and every caller gets its own copy of the values.
- ``find_setting`` scans the plugin's setting definitions (through ``Canonical.__getattr__``) for
  every look-up of a setting by name: an index of them.

What was resolved is kept per settings service and per list of its definitions (Meltano makes
that list again after it writes a setting), so a service made anew, for other overrides or
another environment, resolves again. Each replacement returns what the method it replaces
returns (``tests/scripts/test_meltano_settings.py`` compares them on every plugin of the
project), and is in place only inside :func:`resolved_once`. Where a method is not there in the
form expected (another Meltano version), it is left alone and Meltano resolves as it always does.
"""

from __future__ import annotations

import contextlib
import inspect
import os
from collections.abc import Callable, Iterator
from typing import Any

_resolved: list[dict[tuple[Any, ...], tuple[Any, Any]]] = []
"""What the settings services resolved during the task (while :func:`resolved_once` runs)."""


def _env(copy: dict[str, str]) -> property:
    return property(lambda service: {**copy, **service.env_override})


def _memoized(original: Callable[..., Any], copy: Callable[[Any], Any]) -> Callable[..., Any]:
    """``original`` (a settings service's method, called with keywords) run once per service,
    its definitions and arguments, during the task; each caller gets its own ``copy``."""

    def method(self: Any, *args: Any, **kwargs: Any) -> Any:
        if not _resolved or args:
            return original(self, *args, **kwargs)
        definitions = self.definitions()  # a new list after Meltano wrote a setting
        # what the key names by id (the service, its definitions, the arguments: a source
        # manager among them) is kept with the result, so no id is another's meanwhile; not the
        # database session a setting stored in the system database is read with (no setting is
        # written there during a run, and each part of Meltano's run brings a session of its own)
        key: tuple[Any, ...] = (original, id(self), id(definitions))
        key += tuple((k, id(v)) for k, v in sorted(kwargs.items()) if k != "session")
        if key not in _resolved[0]:
            _resolved[0][key] = ((self, definitions, kwargs), original(self, **kwargs))
        return copy(_resolved[0][key][1])

    return method


def _copy(value: Any) -> Any:
    """A copy of a setting's value (text, numbers, and lists and objects of them) to change."""
    if isinstance(value, list):
        return [_copy(item) for item in value]
    if isinstance(value, dict):
        return {key: _copy(item) for key, item in value.items()}
    return value


def _metadata_copy(config: dict[str, dict[str, Any]]) -> dict[str, dict[str, Any]]:
    return {name: {**meta, "value": _copy(meta["value"])} for name, meta in config.items()}


def _find_setting() -> Callable[..., Any]:
    # each service is kept with its index, so its id names no other service meanwhile
    indexes: dict[int, tuple[Any, list[Any], dict[str, Any]]] = {}

    def find_setting(self: Any, name: str) -> Any:
        definitions = self.definitions()
        known = indexes.get(id(self))
        if known is None or known[1] is not definitions:
            index: dict[str, Any] = {}
            for setting in definitions:  # the first definition named or aliased so, as Meltano
                index.setdefault(setting.name, setting)
                for alias in setting.aliases or ():
                    index.setdefault(alias, setting)
            known = indexes[id(self)] = (self, definitions, index)
        return known[2].get(name)

    return find_setting


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
    from meltano.core.settings_service import SettingsService

    saved = dict(os.environ)
    os.environ.update(extra)
    replaced: list[tuple[str, Any]] = []

    def replace(name: str, replacement: Any) -> None:
        replaced.append((name, SettingsService.__dict__[name]))
        setattr(SettingsService, name, replacement)

    if isinstance(SettingsService.__dict__.get("env"), property):
        replace("env", _env(dict(os.environ)))
    if _expected(SettingsService, "definitions", ["self"]):
        if _expected(SettingsService, "config_with_metadata", ["self"]):
            original = SettingsService.config_with_metadata
            replace("config_with_metadata", _memoized(original, _metadata_copy))
        if _expected(SettingsService, "as_env", ["self", "args", "kwargs"]):
            replace("as_env", _memoized(SettingsService.as_env, dict))
        if _expected(SettingsService, "find_setting", ["self", "name"]):
            replace("find_setting", _find_setting())
    _resolved.append({})
    try:
        yield
    finally:
        _resolved.clear()
        for name, original in reversed(replaced):
            setattr(SettingsService, name, original)
        os.environ.clear()
        os.environ.update(saved)
