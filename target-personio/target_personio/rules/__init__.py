"""target-personio's rules: a Staffomatic record, the look-ups and its ledger link in, a plan out.

Pure: no I/O. The sinks collect records and look-ups, these modules decide, the shared engine
(:mod:`sync_ledger.engine`) applies the plans and records them.
"""

from target_personio.rules.absences import AbsenceLookups, plan_absence, plan_vanished_absences
from target_personio.rules.eligibility import OUT_OF_WINDOW, TimerRules, timer_problem
from target_personio.rules.people import AbsenceTypes, People
from target_personio.rules.periods import Move, Reconciliation, reconcile
from target_personio.rules.timers import TimerLookups, plan_timer, plan_vanished_timers

__all__ = [
    "OUT_OF_WINDOW",
    "AbsenceLookups",
    "AbsenceTypes",
    "Move",
    "People",
    "Reconciliation",
    "TimerLookups",
    "TimerRules",
    "plan_absence",
    "plan_timer",
    "plan_vanished_absences",
    "plan_vanished_timers",
    "reconcile",
    "timer_problem",
]
