"""Staffomatic records as the look-ups keep them: cut to the fields the rules use.

A run keeps every user and every absence of the window it reads (at 10,000 employees about
10,000 users and 20,000 absences), so the shape of one kept record decides much of a run's
memory. Users and absences are kept in slots (:class:`KeptUser`, :class:`KeptAbsence`), a few
dozen bytes each where a dict of the same fields takes several hundred; values that repeat
across absences (a state, the start and end of a day) are shared. Both read like the dict they
replace: ``get``, ``[]``, ``in``, iteration over the fields the record had, equality with a dict.
Locations, departments and absence types are few and stay dicts (they are kept in the ledger as
JSON, :mod:`target_staffomatic.kept`).
"""

from __future__ import annotations

import sys
from collections.abc import Iterator, Mapping
from typing import Any, ClassVar

from target_staffomatic.rules.user_fields import USER_FIELDS

KEPT: dict[str, frozenset[str]] = {
    "users": frozenset(
        (
            "id",
            "custom_id",
            "email",
            "first_name",
            "last_name",
            "department_ids",
            "locked_at",
            *(f.name for f in USER_FIELDS),
        )
    ),
    "absences": frozenset(
        ("id", "applicant_id", "absence_type_id", "starts_at", "ends_at", "state", "location_id")
    ),
    "locations": frozenset(("id", "name", "user_ids")),
    "departments": frozenset(("id", "name", "location_id", "user_ids")),
    "absence_types": frozenset(("id", "name", "location_id")),
}
"""The fields of each Staffomatic record the rules read; the rest is not kept."""


def cut(kind: str, record: Mapping[str, Any]) -> dict[str, Any]:
    """``record`` with only the fields of :data:`KEPT` ``[kind]``."""
    kept = KEPT[kind]
    return {key: value for key, value in record.items() if key in kept}


class Kept(Mapping[str, Any]):
    """A record cut to ``FIELDS``, read-only; a field the record did not have is not set."""

    __slots__ = ()
    FIELDS: ClassVar[frozenset[str]] = frozenset()
    SHARED: ClassVar[frozenset[str]] = frozenset()
    """Fields whose text repeats across records: one copy is kept (``sys.intern``)."""

    def __init__(self, record: Mapping[str, Any]) -> None:
        for key, value in record.items():
            if key in self.FIELDS:
                shared = key in self.SHARED and type(value) is str
                setattr(self, key, sys.intern(value) if shared else value)

    def __getitem__(self, key: str) -> Any:
        if key not in self.FIELDS:
            raise KeyError(key)
        try:
            return getattr(self, key)
        except AttributeError:
            raise KeyError(key) from None

    def __iter__(self) -> Iterator[str]:
        fields: tuple[str, ...] = self.__slots__
        return (key for key in fields if hasattr(self, key))

    def __len__(self) -> int:
        return sum(1 for _ in self)

    def __repr__(self) -> str:
        return f"{type(self).__name__}({dict(self)!r})"


class KeptUser(Kept):
    __slots__ = tuple(sorted(KEPT["users"]))
    FIELDS = KEPT["users"]


class KeptAbsence(Kept):
    __slots__ = tuple(sorted(KEPT["absences"]))
    FIELDS = KEPT["absences"]
    SHARED = frozenset(("starts_at", "ends_at", "state"))
