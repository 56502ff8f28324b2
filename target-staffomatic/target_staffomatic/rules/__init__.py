"""The sync rules as pure functions: Personio records and Staffomatic look-ups in, plans out.

Nothing here does I/O. :class:`Lookups` holds what was read from Staffomatic once per run (kept
up to date as writes land); :func:`plan_employee` and :func:`plan_absence` turn one record into a
:class:`~sync_ledger.engine.Plan`: the writes to send, what to record in the ledger and why. The
same plan serves the real run, the dry run and the run log.

- :mod:`.user_fields`: the synced user fields, in one table;
- :mod:`.employees`: employees -> users (match, create, update, lock);
- :mod:`.absences`: absence periods -> absences (and missing absence types);
- :mod:`.lookups`: the Staffomatic look-ups and their indexes.
"""

from target_staffomatic.rules.absences import (
    AbsenceIn,
    absence_times,
    plan_absence,
    plan_gone,
    plan_missing_types,
    plan_vanished,
    read_absence,
    resolve_absence_type,
    vanished,
)
from target_staffomatic.rules.base import (
    ABSENCE,
    ABSENCE_TYPE,
    DEPARTMENT_SOURCES,
    EMPLOYEE,
    SYSTEM,
    Rules,
    norm,
)
from target_staffomatic.rules.employees import desired_lock, lifecycle, plan_employee
from target_staffomatic.rules.lookups import Lookups, absence_key, learn
from target_staffomatic.rules.user_fields import (
    EMPLOYEE_TEXT,
    SYNC_FIELDS,
    USER_FIELDS,
    monthly_hours,
    vacation_days,
)

__all__ = [
    "ABSENCE",
    "ABSENCE_TYPE",
    "DEPARTMENT_SOURCES",
    "EMPLOYEE",
    "EMPLOYEE_TEXT",
    "SYNC_FIELDS",
    "SYSTEM",
    "USER_FIELDS",
    "AbsenceIn",
    "Lookups",
    "Rules",
    "absence_key",
    "absence_times",
    "desired_lock",
    "learn",
    "lifecycle",
    "monthly_hours",
    "norm",
    "plan_absence",
    "plan_employee",
    "plan_gone",
    "plan_missing_types",
    "plan_vanished",
    "read_absence",
    "resolve_absence_type",
    "vacation_days",
    "vanished",
]
