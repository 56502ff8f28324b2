"""Each plugin's definition file says what the plugin is: the same settings (name, kind, whether
sensitive) and capabilities as its ``--about``, and the same as the repository's ``meltano.yml``.
"""

from __future__ import annotations

import subprocess

import pytest

from tests.dropin.definitions import (
    BIN,
    PLUGINS,
    about,
    definition,
    meltano_kinds,
    project_plugin,
    shape,
)

PRESENTATION: tuple[str, ...] = (
    "name",
    "namespace",
    "label",
    "description",
    "docs",
    "repo",
    "pip_url",
)
PRESENTATION += ("executable",)


@pytest.mark.parametrize("plugin", [*PLUGINS, "sync-ledger"])
def test_a_definition_names_label_docs_repository_and_a_git_subdirectory_pip_url(
    plugin: str,
) -> None:
    found = definition(plugin)
    assert all(found.get(key) for key in PRESENTATION), [k for k in PRESENTATION if k not in found]
    assert (found["name"], found["executable"]) == (plugin, plugin)
    assert found["namespace"] == plugin.replace("-", "_")
    assert found["pip_url"] == f"git+{found['repo']}.git#subdirectory={plugin}"
    assert found["docs"].endswith(f"/{plugin}/README.md")
    assert "variant" not in found  # a variant makes `meltano install` ask Meltano Hub
    for setting in found["settings"]:
        assert setting.get("label"), setting["name"]
        assert setting.get("description"), setting["name"]


@pytest.mark.parametrize("plugin", PLUGINS)
def test_a_definition_declares_every_setting_of_the_plugin_and_no_other(plugin: str) -> None:
    properties = about(plugin)["settings"]["properties"]
    declared = shape(definition(plugin)["settings"])
    assert set(declared) == set(properties)
    for name, (kind, sensitive) in declared.items():
        assert kind in meltano_kinds(properties[name]), name
        assert sensitive == bool(properties[name].get("secret")), name


@pytest.mark.parametrize("plugin", PLUGINS)
def test_a_definition_declares_the_capabilities_of_the_plugin(plugin: str) -> None:
    capabilities = definition(plugin)["capabilities"]
    assert sorted(capabilities) == sorted(about(plugin)["capabilities"])
    assert "structured-logging" in capabilities  # error sentences reach Meltano's log as errors


@pytest.mark.parametrize("plugin", PLUGINS)
def test_options_settings_offer_the_values_the_plugin_accepts(plugin: str) -> None:
    properties = about(plugin)["settings"]["properties"]
    for setting in definition(plugin)["settings"]:
        if setting["kind"] == "options":
            schema = properties[setting["name"]]
            offered = [option["value"] for option in setting["options"]]
            if "enum" in schema:
                assert offered == schema["enum"], setting["name"]
            else:  # the plugin checks the value itself: at least its default is offered
                assert schema["default"] in offered, setting["name"]


@pytest.mark.parametrize(
    ("plugin", "groups"),
    [
        ("tap-personio", [["client_id", "client_secret"], ["credentials_file"]]),
        ("target-personio", [["client_id", "client_secret"], ["credentials_file"]]),
        ("tap-staffomatic", [["account", "email", "password"], ["account", "api_token"]]),
        ("target-staffomatic", [["account", "email", "password"], ["account", "api_token"]]),
    ],
)
def test_each_credential_alternative_is_a_settings_group_with_every_required_setting(
    plugin: str, groups: list[list[str]]
) -> None:
    assert definition(plugin)["settings_group_validation"] == groups
    required = set(about(plugin)["settings"].get("required") or [])
    assert all(required <= set(group) for group in groups)


@pytest.mark.parametrize("plugin", [*PLUGINS, "sync-ledger"])
def test_meltano_yml_declares_what_the_definition_declares(plugin: str) -> None:
    found, declared = definition(plugin), project_plugin(plugin)
    assert shape(declared["settings"]) == shape(found["settings"])
    assert sorted(declared.get("capabilities", [])) == sorted(found.get("capabilities", []))
    assert declared.get("settings_group_validation") == found.get("settings_group_validation")
    assert (declared["namespace"], declared["executable"]) == (found["namespace"], plugin)


def test_the_ledger_command_reads_the_variable_its_definition_sets(tmp_path: object) -> None:
    (setting,) = definition("sync-ledger")["settings"]
    assert (setting["name"], setting["env"], setting["sensitive"]) == (
        "ledger_url",
        "SYNC_LEDGER_URL",
        True,
    )
    url = f"sqlite:///{tmp_path}/nowhere/sync-ledger.db"
    done = subprocess.run(
        [str(BIN / "sync-ledger"), "report"],
        env={setting["env"]: url},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 1
    assert f"There is no sync ledger at {url}" in done.stderr
