"""The ledger's schema is versioned: Alembic migrations, applied when a ledger is opened."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
import sync_ledger.migrations
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import create_engine, inspect, text
from sync_ledger import Ledger
from sync_ledger.migrate import HEAD, VERSION_TABLE, current, head, run_migrations
from sync_ledger.schema import metadata

VERSIONS = Path(sync_ledger.migrations.__file__).parent / "versions"


def _revision(url: str) -> str | None:
    engine = create_engine(url)
    try:
        with engine.connect() as conn:
            return current(conn)
    finally:
        engine.dispose()


def test_a_new_ledger_is_created_at_the_newest_revision(ledger_url: str) -> None:
    Ledger(ledger_url).close()
    newest = max(p.name.split("_")[0] for p in VERSIONS.glob("[0-9]*.py"))
    assert _revision(ledger_url) == head() == newest


def _schema_differences(url: str) -> list[tuple[object, ...]]:
    engine = create_engine(url)
    try:
        with engine.connect() as conn:
            differences = compare_metadata(
                MigrationContext.configure(conn, opts={"version_table": VERSION_TABLE}), metadata
            )
    finally:
        engine.dispose()
    # SQLite cannot name a foreign key's ON DELETE in reflection the way PostgreSQL does; the
    # comparison covers tables, columns, types, nullability and indexes.
    return [d for d in differences if d[0] not in ("remove_fk", "add_fk")]


def test_the_migrations_build_exactly_the_schema_the_code_uses(ledger_url: str) -> None:
    engine = create_engine(ledger_url)
    with engine.begin() as conn:  # every revision in turn, from an empty database
        run_migrations(conn)
    engine.dispose()
    assert _revision(ledger_url) == HEAD
    assert _schema_differences(ledger_url) == []


def test_a_new_ledger_has_exactly_the_schema_the_migrations_build(ledger_url: str) -> None:
    Ledger(ledger_url).close()  # from the table definitions, stamped at the newest revision
    assert _schema_differences(ledger_url) == []


def test_the_ledger_keeps_its_version_apart_from_meltanos_own(ledger_url: str) -> None:
    engine = create_engine(ledger_url)
    with engine.begin() as conn:  # Meltano's system database, which the prod ledger shares
        conn.execute(text("CREATE TABLE alembic_version (version_num VARCHAR(32) NOT NULL)"))
        conn.execute(text("INSERT INTO alembic_version VALUES ('meltano-rev')"))
    try:
        Ledger(ledger_url).close()
        with engine.connect() as conn:
            assert conn.execute(text("SELECT version_num FROM alembic_version")).all() == [
                ("meltano-rev",)
            ]
            assert VERSION_TABLE in inspect(conn).get_table_names()
    finally:
        with engine.begin() as conn:
            conn.execute(text("DROP TABLE alembic_version"))
        engine.dispose()


def test_a_ledger_of_the_first_release_is_stamped_and_upgraded_keeping_its_rows(
    ledger_url: str,
) -> None:
    with Ledger(ledger_url) as ledger:
        ledger.save_link("personio", "employee", "1", "10", "fp")
        ledger.start_run("target-staffomatic").finish()
    engine = create_engine(ledger_url)
    with engine.begin() as conn:  # the first release: no version table, no later columns
        for column in ("pid", "host", "meltano_run_id", "meltano_job", "meltano_environment"):
            conn.execute(text(f"ALTER TABLE ledger_runs DROP COLUMN {column}"))
        conn.execute(text("DROP TABLE ledger_locks"))
        conn.execute(text("DROP TABLE ledger_intents"))
        conn.execute(text("DROP TABLE ledger_events"))
        conn.execute(text("DROP TABLE ledger_lookups"))
        conn.execute(text(f"DROP TABLE {VERSION_TABLE}"))
    engine.dispose()
    with Ledger(ledger_url) as ledger:
        assert ledger.links("personio", "employee")["1"].dest_id == "10"
        assert [r.status for r in ledger.runs()] == ["success"]
    assert _revision(ledger_url) == head()


def test_each_run_stores_the_meltano_run_job_and_environment_that_started_it(
    ledger_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("MELTANO_RUN_ID", "1b7f3c9e-5d2a-4c55-9a53-0e8d8d1e2f10")
    monkeypatch.setenv("SYNC_JOB", "daily-full-sync")
    monkeypatch.setenv("MELTANO_ENVIRONMENT", "prod")
    with Ledger(ledger_url) as ledger:
        ledger.start_run("target-personio").finish()
        monkeypatch.delenv("MELTANO_RUN_ID")
        monkeypatch.delenv("SYNC_JOB")
        monkeypatch.delenv("MELTANO_ENVIRONMENT")
        ledger.start_run("target-personio").finish()
        plain, started = ledger.runs()
    assert (started.meltano_run_id, started.meltano_job, started.meltano_environment) == (
        "1b7f3c9e-5d2a-4c55-9a53-0e8d8d1e2f10",
        "daily-full-sync",
        "prod",
    )
    assert (plain.meltano_run_id, plain.meltano_job, plain.meltano_environment) == (None,) * 3


def test_the_head_the_code_knows_is_the_newest_migration() -> None:
    assert head() == HEAD


OPEN_CURRENT = """
import sys
from sync_ledger import Ledger
Ledger(sys.argv[1]).close()
print("alembic" in sys.modules)
"""


@pytest.mark.parametrize("existing", [False, True], ids=["new", "current"])
def test_a_new_or_current_ledger_opens_without_loading_alembic(
    ledger_url: str, existing: bool
) -> None:
    if existing:
        Ledger(ledger_url).close()
    done = subprocess.run(
        [sys.executable, "-c", OPEN_CURRENT, ledger_url],
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    )
    assert done.stdout.strip() == "False"
    assert _revision(ledger_url) == HEAD
