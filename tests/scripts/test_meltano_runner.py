"""scripts/meltano_runner.py: before the interpreter ends, Meltano's system-database connections
are closed and the process's objects are left to the end of the process."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

SCRIPTS = Path(__file__).parents[2] / "scripts"

PROBE = """
import gc, sys
sys.path.insert(0, sys.argv[1])
from sqlalchemy import create_engine, text
from meltano.core import db
import meltano_runner

engine = create_engine(f"sqlite:///{sys.argv[2]}")
with engine.connect() as connection:
    connection.execute(text("select 1"))
db._engines["a project"] = (engine, None)
before = engine.pool.checkedin()
meltano_runner.let_go()
print(before, engine.pool.checkedin(), gc.get_freeze_count() > 0)
"""


def test_let_go_closes_the_system_database_and_freezes_the_objects(tmp_path: Path) -> None:
    done = subprocess.run(
        [sys.executable, "-c", PROBE, str(SCRIPTS), str(tmp_path / "meltano.db")],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    # one pooled connection before; none left open after; the objects frozen
    assert done.stdout.split() == ["1", "0", "True"]
