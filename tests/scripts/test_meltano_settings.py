"""scripts/meltano_settings.py: every plugin's settings of the project, resolved once each, are
what Meltano resolves without it; outside a task Meltano's own methods are back."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from tests.e2e.helpers import clean_environ

ROOT = Path(__file__).parents[2]

PROBE = """
import json, sys
sys.path.insert(0, sys.argv[1])
from meltano.core.plugin.settings_service import PluginSettingsService
from meltano.core.project import Project
from meltano.core.settings_service import SettingsService
from meltano_settings import resolved_once

METHODS = ("env", "config_with_metadata", "as_env", "find_setting")


def methods():
    found = {name: SettingsService.__dict__[name] for name in METHODS}
    return {name: getattr(m, "__qualname__", type(m).__name__) for name, m in found.items()}


def spoil(config):  # change what a caller got, as a caller may: the next must not see it
    for value in config.values():
        if isinstance(value, list):
            value.append("spoiled")
        elif isinstance(value, dict):
            value["spoiled"] = True


def resolve():
    project = Project.find()
    project.activate_environment(sys.argv[3])
    out = {"project": project.settings.as_env(), "methods": methods()}
    for plugin in project.plugins.plugins():
        settings = PluginSettingsService(project, plugin)
        names = [d.name for d in settings.definitions()]
        names += [a for d in settings.definitions() for a in d.aliases or ()]
        rounds = []
        for _ in range(2):  # again on the same service (after the runner's first was spoiled)
            got = {  # what Meltano's PluginInvoker.prepare asks, in its order, then more
                "config": settings.as_dict(extras=False),
                "processed": settings.as_dict(extras=False, process=True),
                "extras": settings.as_dict(extras=True),
                "env": settings.as_env(),
                "all": settings.as_dict(redacted=False, process=True),
                "redacted": settings.as_dict(redacted=True),
                "sources": {
                    name: str(meta["source"])
                    for name, meta in settings.config_with_metadata().items()
                },
                "found": {name: settings.find_setting(name).name for name in names},
                "absent": settings.find_setting("no_such_setting"),
            }
            rounds.append(json.dumps(got, default=str, sort_keys=True))
            if sys.argv[2] == "once":  # (Meltano's own results share its parsed meltano.yml)
                for config in ("config", "processed", "extras", "all"):
                    spoil(got[config])
        out[plugin.name] = rounds
    return out


if sys.argv[2] == "once":
    before = methods()
    with resolved_once({"PERSONIO_BASE_URL": "http://127.0.0.1:9401"}):
        out = resolve()
    out["after"], out["before"] = methods(), before
else:
    import os
    os.environ["PERSONIO_BASE_URL"] = "http://127.0.0.1:9401"
    out = resolve()
print(json.dumps(out, default=str, sort_keys=True))
"""


def resolve(project: Path, how: str, environment: str) -> dict[str, Any]:
    env = clean_environ() | {
        "MELTANO_DATABASE_URI": f"sqlite:///{project / 'meltano.db'}",
        "ABSENCE_SOURCE": "staffomatic",  # a variable meltano.yml expands in several plugins
        "TAP_STAFFOMATIC_USER_AGENT": "probe (probe@example.org)",  # a plugin's own variable
    }
    done = subprocess.run(
        [sys.executable, "-c", PROBE, str(ROOT / "scripts"), how, environment],
        cwd=project,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    result: dict[str, Any] = json.loads(done.stdout.splitlines()[-1])  # after Meltano's logs
    return result


@pytest.mark.parametrize("environment", ["sandbox", "prod"])
def test_settings_resolved_once_are_the_settings_meltano_resolves(
    tmp_path: Path, environment: str
) -> None:
    shutil.copy(ROOT / "meltano.yml", tmp_path / "meltano.yml")
    meltano = resolve(tmp_path, "meltano", environment)
    once = resolve(tmp_path, "once", environment)

    replaced = once.pop("methods")
    assert replaced["find_setting"] != meltano["methods"]["find_setting"]
    assert replaced["config_with_metadata"] != meltano["methods"]["config_with_metadata"]
    assert replaced["as_env"] != meltano["methods"]["as_env"]
    assert once.pop("before") == once.pop("after") == meltano.pop("methods")
    plugins = set(meltano) - {"project"}
    assert {"tap-personio--employees", "target-staffomatic", "sync-events"} <= plugins
    for name in sorted(meltano):
        assert once[name] == meltano[name], name
        if name != "project":
            assert meltano[name][0] == meltano[name][1], name
    # the variables reached the settings both ways (the runner's through resolved_once)
    config = {name: json.loads(got[0])["all"] for name, got in meltano.items() if name != "project"}
    assert config["tap-personio"]["base_url"] == "http://127.0.0.1:9401"
    assert config["target-staffomatic"]["absence_source"] == "staffomatic"
    assert config["tap-staffomatic"]["user_agent"] == "probe (probe@example.org)"
    assert isinstance(config["tap-personio--employees"]["_select"], list)  # one spoil() changes
