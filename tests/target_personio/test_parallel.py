"""Several people's timers written at once (max_parallel_writes) end as when written in turn."""

from __future__ import annotations

from tests.target_personio.helpers import ANNA, Harness, singer_input, timer
from tests.target_personio.test_timers import DST, MIDNIGHT, TWO_BREAKS


def test_timers_of_different_people_are_written_at_once_and_one_person_s_in_turn(
    harness: Harness,
) -> None:
    h = harness
    later = timer(4, ANNA, "2024-10-29 15:00", "2024-10-29 18:00")
    text = singer_input([TWO_BREAKS, MIDNIGHT, DST, later])
    h.run(text, max_parallel_writes=4)
    assert len(h.attendances("1001")) == 6
    assert h.attendances("1011") == [("WORK", "2024-10-28T22:00:00", "2024-10-29T06:00:00")]
    assert h.attendances("1017") == [("WORK", "2024-10-26T22:00:00", "2024-10-27T06:00:00")]
    ledger = h.ledger()
    assert ledger.runs()[0].counts == {"work_timers": {"create": 4}}
    h.reset_counts()
    h.run(text, max_parallel_writes=4)
    assert h.writes() == 0
