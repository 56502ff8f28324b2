"""Several people's timers written at once (max_parallel_writes) end as when written in turn."""

from __future__ import annotations

from tests.target_personio.helpers import ANNA, Harness, singer_input, timer
from tests.target_personio.test_timers import (
    DST,
    DST_SPLIT,
    MIDNIGHT,
    MIDNIGHT_SPLIT,
    TWO_BREAKS,
)


def test_timers_of_different_people_are_written_at_once_and_one_person_s_in_turn(
    harness: Harness,
) -> None:
    h = harness
    later = timer(4, ANNA, "2024-10-29 15:00", "2024-10-29 18:00")
    text = singer_input([TWO_BREAKS, MIDNIGHT, DST, later])
    h.run(text, max_parallel_writes=4)
    assert len(h.attendances("1001")) == 6
    assert h.attendances("1011") == MIDNIGHT_SPLIT
    assert h.attendances("1017") == DST_SPLIT
    ledger = h.ledger()
    assert ledger.runs()[0].counts == {"work_timers": {"create": 4}}
    h.reset_counts()
    h.run(text, max_parallel_writes=4)
    assert h.writes() == 0
