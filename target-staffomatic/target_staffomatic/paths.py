"""Every Staffomatic endpoint the target calls, in one place (relative to ``{base_url}/{account}``).

A path holding ``{id}`` names the destination record of a plan; the applier fills it in (see
:mod:`sync_ledger.engine.plan`).
"""

from __future__ import annotations

from sync_ledger.engine import DEST

ID = "{" + DEST + "}"

ACCOUNT = "/account.json"
LOCATIONS = "/locations.json"
USERS = "/users.json"
ABSENCES = "/absences.json"


def departments(location_id: int) -> str:
    return f"/locations/{location_id}/departments.json"


def absence_types(location_id: int) -> str:
    """The absence types of a location (read, and where a missing type is created)."""
    return f"/locations/{location_id}/absence_types.json"


def users_of(location_id: int) -> str:
    """Where a user is created in a location."""
    return f"/locations/{location_id}/users.json"


def user(location_id: int | None) -> str:
    """The plan's user, under its location when it has one."""
    return f"/locations/{location_id}/users/{ID}.json" if location_id else f"/users/{ID}.json"


def absences_of(location_id: int) -> str:
    """Where an absence is created in a location."""
    return f"/locations/{location_id}/absences.json"


def absence(location_id: int | None) -> str:
    """The plan's absence, under its location when it has one."""
    if location_id:
        return f"/locations/{location_id}/absences/{ID}.json"
    return f"/absences/{ID}.json"


def absence_by_id(absence_id: str | int) -> str:
    """One absence read by its id (a linked one outside the loaded window)."""
    return f"/absences/{absence_id}.json"


def user_by_id(user_id: str | int) -> str:
    """One user read by its id (a linked one, in a run that reads only what its records need)."""
    return f"/users/{user_id}.json"
