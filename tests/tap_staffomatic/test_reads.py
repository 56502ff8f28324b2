"""The tap reads only what the selected streams and fields need, each look-up once per run."""

from __future__ import annotations

import contextlib
import io
import json
from typing import Any

from sandbox.admin import Admin
from tap_staffomatic.tap import TapStaffomatic

from tests.tap_staffomatic.conftest import Run

Selection = dict[str, tuple[str, ...] | None]
"""Stream -> its selected fields (None: all of them)."""

TIMERS_PIPELINE: Selection = {  # meltano.yml's tap-staffomatic--timers
    "account": ("id", "time_zone"),
    "users": ("id", "custom_id", "email"),
    "work_timers": None,
}
ABSENCES_PIPELINE: Selection = {  # meltano.yml's tap-staffomatic--absences
    "account": ("id", "time_zone"),
    "users": ("id", "custom_id", "email"),
    "absence_types": None,
    "absences": None,
}


def catalog_of(config: dict[str, Any], selection: Selection) -> dict:
    """The tap's catalog with the streams (all fields, or the named ones) selected, as Meltano
    writes it from a ``select:`` list."""
    catalog = TapStaffomatic(config=dict(config), parse_env_config=False).catalog_dict
    for stream in catalog["streams"]:
        fields = selection.get(stream["tap_stream_id"], ())
        for entry in stream["metadata"]:
            if not entry["breadcrumb"]:
                entry["metadata"]["selected"] = stream["tap_stream_id"] in selection
            elif fields is not None:
                entry["metadata"]["selected"] = entry["breadcrumb"][-1] in fields
    return catalog


def sync_with(
    config: dict[str, Any], staffomatic: Admin, selection: Selection
) -> tuple[Run, dict[str, int]]:
    """One run with that selection: its messages and the requests it sent, by endpoint."""
    tap = TapStaffomatic(
        config=dict(config), catalog=catalog_of(config, selection), parse_env_config=False
    )
    staffomatic.restart_counts()
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        tap.sync_all()
    run = Run([json.loads(line) for line in out.getvalue().splitlines() if line.strip()])
    return run, staffomatic.counts()


def paths(requests: dict[str, int]) -> set[str]:
    return {key.split()[1].removeprefix("/v3/{account}") for key in requests}


def test_the_timers_pipeline_reads_no_location_department_or_absence(
    config: dict[str, Any], staffomatic: Admin
) -> None:
    run, requests = sync_with(config, staffomatic, TIMERS_PIPELINE)

    assert paths(requests) == {
        "/account.json",
        "/users.json",
        "/work_timers.json",
        "/break_timers.json",
    }
    assert run.records("work_timers")
    assert all(set(user) == {"id", "custom_id", "email"} for user in run.records("users"))


def test_the_absences_pipeline_reads_locations_and_types_once(
    config: dict[str, Any], staffomatic: Admin
) -> None:
    _, once = sync_with(config, staffomatic, {"locations": None, "absence_types": None})
    run, requests = sync_with(config, staffomatic, ABSENCES_PIPELINE)

    assert paths(requests) == {
        "/account.json",
        "/users.json",
        "/locations.json",
        "/locations/{location_id}/absence_types.json",
        "/absences.json",
    }
    for key, count in once.items():
        assert requests[key] == count  # the stream and the type names share one read
    names = {t["id"]: t["name"] for t in staffomatic.state()["absence_types"]}
    absences = run.records("absences")
    assert absences
    assert all(a["absence_type_name"] == names[a["absence_type_id"]] for a in absences)


def test_user_locations_are_read_only_when_the_field_is_selected(
    config: dict[str, Any], staffomatic: Admin
) -> None:
    with_locations, requests = sync_with(config, staffomatic, {"users": None})

    assert "/locations.json" in paths(requests)
    assert any(user["location_ids"] for user in with_locations.records("users"))
