"""The worker: coalescing per area, one run per burst, done only after a run succeeded."""

from __future__ import annotations

import sync_ledger.events as stored
from sync_events.areas import Area
from sync_events.settings import Settings
from sync_events.worker import Outcome, Worker
from sync_ledger import Ledger

from tests.sync_events.conftest import Clock


class Runs:
    """A runner that records its calls and answers from a script (success when used up)."""

    def __init__(self, *answers: Outcome) -> None:
        self.calls: list[tuple[str, list[str]]] = []
        self.answers = list(answers)

    def __call__(self, area: Area, ids: list[str]) -> Outcome:
        self.calls.append((area.name, ids))
        return self.answers.pop(0) if self.answers else Outcome(True)


def statuses(ledger: Ledger) -> dict[str, int]:
    data = stored.summary(ledger)
    return {k: data[k] for k in ("pending", "done", "failed")}


def test_a_burst_of_events_for_one_area_runs_once_after_it_is_quiet(
    settings: Settings, ledger: Ledger, clock: Clock
) -> None:
    runs = Runs()
    worker = Worker(settings, ledger, runs)
    stored.store(ledger, "absence-period.created", "absences", "abs-2")
    clock.advance(1)
    stored.store(ledger, "absence-period.updated.status", "absences", "abs-2")
    stored.store(ledger, "absence-period.created", "absences", "abs-1")
    stored.store(ledger, "absence-period.created", "absences", "abs-1")  # a duplicate
    clock.advance(settings.coalesce_seconds - 0.5)
    assert worker.once() == 0  # still coming in: wait
    clock.advance(0.5)
    assert worker.once() == 1
    assert runs.calls == [("absences", ["abs-1", "abs-2"])]
    assert statuses(ledger) == {"pending": 0, "done": 4, "failed": 0}
    assert worker.once() == 0  # nothing runs twice


def test_a_steady_stream_of_events_still_runs_after_ten_quiet_periods(
    settings: Settings, ledger: Ledger, clock: Clock
) -> None:
    runs = Runs()
    worker = Worker(settings, ledger, runs)
    for n in range(11):
        stored.store(ledger, "absence-period.created", "absences", f"abs-{n}")
        assert worker.once() == 0 or n == 10
        clock.advance(settings.coalesce_seconds)
    assert len(runs.calls) == 1


def test_employees_run_before_absences_each_with_only_its_ids(
    settings: Settings, ledger: Ledger, clock: Clock
) -> None:
    runs = Runs()
    stored.store(ledger, "absence-period.created", "absences", "abs-1")
    stored.store(ledger, "person.created", "employees", "1099")
    clock.advance(settings.coalesce_seconds)
    Worker(settings, ledger, runs).once()
    assert runs.calls == [("employees", ["1099"]), ("absences", ["abs-1"])]


def test_a_failed_run_keeps_its_events_and_is_retried_after_the_wait(
    settings: Settings, ledger: Ledger, clock: Clock
) -> None:
    runs = Runs(Outcome(False, "meltano exited 1: Staffomatic unreachable"))
    worker = Worker(settings, ledger, runs)
    stored.store(ledger, "absence-period.deleted", "absences", "abs-1")
    clock.advance(settings.coalesce_seconds)
    worker.once()
    assert statuses(ledger) == {"pending": 1, "done": 0, "failed": 0}
    [event] = stored.pending(ledger)
    assert event.attempts == 1
    clock.advance(settings.retry_seconds - 1)
    assert worker.once() == 0
    clock.advance(1)
    assert worker.once() == 1
    assert statuses(ledger) == {"pending": 0, "done": 1, "failed": 0}
    assert len(runs.calls) == 2


def test_events_whose_runs_keep_failing_end_failed_with_the_reason(
    settings: Settings, ledger: Ledger, clock: Clock
) -> None:
    reason = "meltano exited 1: Personio refused the credential"
    runs = Runs(*[Outcome(False, reason)] * settings.max_attempts)
    worker = Worker(settings, ledger, runs)
    stored.store(ledger, "person.updated", "employees", "1011")
    for _ in range(settings.max_attempts):
        clock.advance(settings.retry_seconds * settings.max_attempts)
        worker.once()
    summary = stored.summary(ledger)
    assert (summary["pending"], summary["failed"]) == (0, 1)
    assert summary["last_failed"][0]["reason"] == reason


def test_an_event_stored_during_a_run_waits_for_the_next_run(
    settings: Settings, ledger: Ledger, clock: Clock
) -> None:
    def arriving(area: Area, ids: list[str]) -> Outcome:
        stored.store(ledger, "absence-period.updated.timerange", "absences", "abs-1")
        return Outcome(True)

    stored.store(ledger, "absence-period.created", "absences", "abs-1")
    clock.advance(settings.coalesce_seconds)
    Worker(settings, ledger, arriving).once()
    [waiting] = stored.pending(ledger)
    assert waiting.event_name == "absence-period.updated.timerange"


def test_stored_events_survive_a_new_ledger_connection(
    settings: Settings, ledger: Ledger, clock: Clock
) -> None:
    """What a restart sees: the events of the file, not of the process."""
    stored.store(ledger, "absence-period.created", "absences", "abs-1")
    runs = Runs()
    with Ledger(str(ledger.engine.url), clock=clock) as reopened:
        clock.advance(settings.coalesce_seconds)
        Worker(settings, reopened, runs).once()
    assert runs.calls == [("absences", ["abs-1"])]
