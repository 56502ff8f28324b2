"""Both taps into a SQL warehouse: meltanolabs-target-postgres, installed by meltano.yml.

One database at 127.0.0.1:5432, one schema per extractor (``$MELTANO_EXTRACT__LOAD_SCHEMA``),
as the README's "Using the taps with a warehouse" describes.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from datetime import datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import create_engine, text

from tests.e2e.helpers import ZONE, Sync, ok, state
from tests.pg import throwaway_database

pytestmark = [pytest.mark.slow, pytest.mark.postgres]


@pytest.fixture
def warehouse(sync: Sync) -> Iterator[str]:
    """A throw-away database that target-postgres loads into, dropped afterwards."""
    with throwaway_database(f"e2e_warehouse_{os.getpid()}") as url:
        sync.env["TARGET_POSTGRES_SQLALCHEMY_URL"] = url
        yield url


def query(url: str, sql: str, **params: Any) -> list[Any]:
    engine = create_engine(url)
    try:
        with engine.connect() as conn:
            return list(conn.execute(text(sql), params))
    finally:
        engine.dispose()


def count(url: str, table: str, where: str = "true", **params: Any) -> int:
    """Rows of ``table`` (a name of this test) matching ``where`` (SQL of this test)."""
    sql = f"SELECT count(*) FROM {table} WHERE {where}"  # noqa: S608
    return int(query(url, sql, **params)[0][0])


def ids(url: str, table: str, where: str, **params: Any) -> set[Any]:
    sql = f"SELECT id FROM {table} WHERE {where}"  # noqa: S608
    return {row[0] for row in query(url, sql, **params)}


def test_both_taps_side_by_side_with_their_keys_types_and_no_sensitive_column(
    sync: Sync, warehouse: str
) -> None:
    ok(sync.meltano("run", "tap-personio", "target-postgres", "tap-staffomatic", "target-postgres"))

    staffomatic = state(sync.staffomatic)
    assert count(warehouse, "tap_personio.employees") == 22
    assert count(warehouse, "tap_personio.absence_types") == 4
    assert count(warehouse, "tap_personio.absences") == 14
    assert count(warehouse, "tap_staffomatic.users") == len(staffomatic["users"])
    assert count(warehouse, "tap_staffomatic.absence_types") == len(staffomatic["absence_types"])
    loaded = {row[0] for row in query(warehouse, "SELECT id FROM tap_staffomatic.absences")}
    assert loaded
    assert loaded <= {a["id"] for a in staffomatic["absences"]}

    columns = {
        (schema, table, column): kind
        for schema, table, column, kind in query(
            warehouse,
            "SELECT table_schema, table_name, column_name, data_type"
            " FROM information_schema.columns WHERE table_schema LIKE 'tap_%'",
        )
    }
    # the same stream names, with differently typed ids, each in its extractor's schema
    for table in ("absences", "absence_types"):
        assert columns[("tap_personio", table, "id")] == "text"
        assert columns[("tap_staffomatic", table, "id")] == "bigint"
    assert columns[("tap_personio", "employees", "id")] == "bigint"
    assert columns[("tap_personio", "employees", "weekly_working_hours")] == "numeric"
    assert ("tap_personio", "employees", "email") in columns
    assert ("tap_personio", "employees", "fix_salary") not in columns  # the seed has salaries
    keys = query(
        warehouse,
        "SELECT tc.table_schema, tc.table_name, k.column_name"
        " FROM information_schema.table_constraints tc JOIN information_schema.key_column_usage k"
        " USING (constraint_schema, constraint_name)"
        " WHERE tc.constraint_type = 'PRIMARY KEY' AND tc.table_schema LIKE 'tap_%'",
    )
    assert ("tap_personio", "absences", "id") in keys
    assert ("tap_staffomatic", "absences", "id") in keys


def test_a_full_refresh_after_the_window_moved_marks_nothing_deleted(
    sync: Sync, warehouse: str
) -> None:
    ok(sync.meltano("run", "tap-personio", "target-postgres"))
    table = "tap_personio.absences"
    cutoff = (datetime.now(ZONE).date() - timedelta(days=5)).isoformat()
    aged = count(warehouse, table, "ends_at < :cutoff", cutoff=cutoff)
    assert aged > 0  # absences that end before the narrower window below

    # The window moves on (here: narrowed to 5 days back); the daily full refresh reads it.
    narrower = {"ABSENCE_WINDOW_PAST_DAYS": "5"}
    ok(sync.meltano("run", "--full-refresh", "tap-personio", "target-postgres", **narrower))
    assert count(warehouse, table, "ends_at < :cutoff", cutoff=cutoff) == aged
    assert count(warehouse, table, "_sdc_deleted_at IS NOT NULL") == 0
    assert count(warehouse, "tap_personio.attendances", "_sdc_deleted_at IS NOT NULL") == 0

    # Why the taps send no ACTIVATE_VERSION by default: with it, the loader takes the window for
    # the whole table and marks every absence that only aged out of it as deleted.
    framed = narrower | {"TAP_PERSONIO_WINDOW_ACTIVATE_VERSION": "true"}
    ok(sync.meltano("run", "--full-refresh", "tap-personio", "target-postgres", **framed))
    deleted = ids(warehouse, table, "_sdc_deleted_at IS NOT NULL")
    assert ids(warehouse, table, "ends_at < :cutoff", cutoff=cutoff) <= deleted
    day_after = (datetime.now(ZONE).date() - timedelta(days=4)).isoformat()
    assert deleted <= ids(warehouse, table, "ends_at < :day", day=day_after)
