"""target-personio under every value of ``token_generations`` (real HTTP, the session's sandbox).

Personio documents two token endpoints; the sandbox either refuses a token on the other
generation's endpoints (the default) or lets one token serve both. The target reads employees
through v1 and writes absences and attendances through v2, so a mixed-up token would fail here.
The ledger backend plays no part, so this runs on SQLite only.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.target_personio.helpers import (
    ANNA,
    KATHARINA,
    Harness,
    absence,
    singer_input,
    sqlite_url,
    timer,
)

SHIFT = timer(
    1, ANNA, "2024-10-29 06:00", "2024-10-29 14:00", ("2024-10-29 10:00", "2024-10-29 10:30")
)
VACATION = absence(1, KATHARINA, 71, "2024-11-04 00:00", "2024-11-06 23:59", "approved")


@pytest.fixture
def ledger_url(tmp_path: Path) -> str:
    return sqlite_url(tmp_path)


@pytest.mark.parametrize("token_generations", ["separate", "shared"])
def test_timers_and_absences_are_written_with_one_token_per_generation(
    harness: Harness, token_generations: str
) -> None:
    harness.admin.variants(token_generations=token_generations)
    state = harness.state()
    state["absence_periods"] = []
    harness.load(state)

    harness.run(singer_input([SHIFT], [VACATION]), absence_source="staffomatic")

    assert [kind for kind, _, _ in harness.attendances("1001")] == ["WORK", "BREAK", "WORK"]
    [vacation] = harness.absences("1011")
    assert vacation["approval"]["status"] == "APPROVED"
    counts = harness.requests()["by_endpoint"]
    assert counts["GET /v1/company/employees"] == 1
    assert counts["POST /v1/auth"] == counts["POST /v2/auth/token"] == 1  # never renewed
    assert harness.writes() == 4

    harness.run(singer_input([SHIFT], [VACATION]), absence_source="staffomatic")
    assert harness.writes() == 4  # nothing more: the re-run found everything it wrote
