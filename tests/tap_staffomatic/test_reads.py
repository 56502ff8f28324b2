"""The tap reads only what the selected streams and fields need, each look-up once per run."""

from __future__ import annotations

import contextlib
import io
import json
from datetime import UTC, datetime, timedelta
from typing import Any

from sandbox.admin import Admin
from tap_staffomatic.tap import TapStaffomatic

from tests.tap_staffomatic.conftest import Run

Selection = dict[str, tuple[str, ...] | None]
"""Stream -> its selected fields (None: all of them)."""

TIMERS_PIPELINE: Selection = {  # meltano.yml's tap-staffomatic--timers
    "account": ("id", "time_zone"),
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
    config: dict[str, Any],
    staffomatic: Admin,
    selection: Selection,
    state: dict[str, Any] | None = None,
) -> tuple[Run, dict[str, int]]:
    """One run with that selection: its messages and the requests it sent, by endpoint."""
    tap = TapStaffomatic(
        config=dict(config),
        catalog=catalog_of(config, selection),
        state=state,
        parse_env_config=False,
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
    assert requests["GET /v3/{account}/users.json"] == 1  # the list once, for every timer
    users = {user["id"]: user for user in staffomatic.state()["users"]}
    timers = run.records("work_timers")
    assert timers
    for timer in timers:
        user = users[timer["user_id"]]
        assert (timer["user_custom_id"], timer["user_email"]) == (user["custom_id"], user["email"])
    assert not run.records("users")


def test_identity_fields_left_out_read_no_user(config: dict[str, Any], staffomatic: Admin) -> None:
    run, requests = sync_with(config, staffomatic, {"work_timers": ("id", "user_id")})

    assert "/users.json" not in paths(requests)
    timers = run.records("work_timers")
    assert timers
    assert not any({"user_custom_id", "user_email"} & timer.keys() for timer in timers)


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


def stamp(document: dict[str, Any], timer: dict[str, Any], moment: datetime) -> None:
    """``timer`` and its breaks last changed at ``moment``."""
    breaks = [b for b in document["break_timers"] if b["work_timer_id"] == timer["id"]]
    for item in (timer, *breaks):
        item["updated_at"] = moment.isoformat()


def partial_timers_run(
    config: dict[str, Any], staffomatic: Admin, employees: int
) -> tuple[Run, dict[str, int]]:
    """The scale seed with four timers: a full read of the timers pipeline, then three timers of
    users at the end of the user list change; the incremental run's messages and requests."""
    staffomatic.reset("scale", employees=employees, absences_per_employee=0, timers_per_week=1)
    document = staffomatic.state()
    timers = sorted(document["work_timers"], key=lambda t: t["user_id"])
    kept = [timers[0], *timers[-3:]]
    document["work_timers"] = kept
    ids = {t["id"] for t in kept}
    document["break_timers"] = [b for b in document["break_timers"] if b["work_timer_id"] in ids]
    now = datetime.now(UTC)
    stamp(document, kept[0], now - timedelta(days=2))
    for timer in kept[1:]:
        stamp(document, timer, now - timedelta(days=3))
    staffomatic.load(document)
    full, _ = sync_with(config, staffomatic, TIMERS_PIPELINE)

    document = staffomatic.state()
    for timer in document["work_timers"][1:]:
        stamp(document, timer, now)
    staffomatic.load(document)
    return sync_with(config, staffomatic, TIMERS_PIPELINE, state=full.state)


def test_a_batch_of_changed_timers_reads_only_its_users_whatever_the_company_size(
    config: dict[str, Any], staffomatic: Admin
) -> None:
    smaller, smaller_requests = partial_timers_run(config, staffomatic, employees=1000)
    larger, larger_requests = partial_timers_run(config, staffomatic, employees=2000)

    assert smaller_requests == larger_requests
    # The first page of the list (it names the first timer's user and the number of pages),
    # then the three users at the end of it by id.
    assert larger_requests["GET /v3/{account}/users.json"] == 1
    assert larger_requests["GET /v3/{account}/users/{id}.json"] == 3
    users = {user["id"]: user for user in staffomatic.state()["users"]}
    timers = larger.records("work_timers")
    assert len(timers) == 4  # three changes, and the first timer within the look-back
    for timer in timers:
        user = users[timer["user_id"]]
        assert (timer["user_custom_id"], timer["user_email"]) == (user["custom_id"], user["email"])
    assert len(smaller.records("work_timers")) == 4


def test_a_changed_timer_of_a_deleted_user_has_no_identity(
    config: dict[str, Any], staffomatic: Admin
) -> None:
    run, _ = partial_timers_run(config, staffomatic, employees=1000)
    document = staffomatic.state()
    gone = document["work_timers"][-1]["user_id"]
    document["users"] = [user for user in document["users"] if user["id"] != gone]
    staffomatic.load(document)

    again, requests = sync_with(config, staffomatic, TIMERS_PIPELINE, state=run.state)

    timer = next(t for t in again.records("work_timers") if t["user_id"] == gone)
    assert (timer["user_custom_id"], timer["user_email"]) == (None, None)
    assert requests["GET /v3/{account}/users/{id}.json"] == 3


def test_users_that_outnumber_the_rest_of_the_list_are_read_with_it(
    config: dict[str, Any], staffomatic: Admin
) -> None:
    # 201 users: three pages; three users not on the first one take more reads than its rest.
    run, requests = partial_timers_run(config, staffomatic, employees=400)

    assert requests["GET /v3/{account}/users.json"] == 3
    assert "GET /v3/{account}/users/{id}.json" not in requests
    assert all(timer["user_email"] for timer in run.records("work_timers"))
