"""Which events the sync needs, and the run each area's events drive.

An event names one record by id; the run reads exactly those records again (tap-personio's
``only_ids``), so the event's order or a duplicate does not matter: the run syncs what Personio
holds now.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Area:
    name: str
    events: tuple[str, ...]
    only_ids_key: str  # tap-personio's only_ids key
    extractor: str
    loader: str = "target-staffomatic"

    def record_id(self, event_name: str, payload: dict[str, Any]) -> str | None:
        """The id of the record an event of this area names (person events: the person)."""
        value: Any = payload.get("id")
        if event_name.startswith("employment."):
            value = (payload.get("person") or {}).get("id")
        if isinstance(value, bool) or value is None or not str(value).strip():
            return None
        text = str(value).strip()
        return text if len(text) <= 255 else None


EMPLOYEES = Area(
    "employees",
    (
        "person.created",
        "person.updated",
        "person.deleted",
        "employment.created",
        "employment.updated",
        "employment.deleted",
    ),
    "employees",
    "tap-personio--employees",
)
ABSENCES = Area(
    "absences",
    (
        "absence-period.created",
        "absence-period.updated.timerange",
        "absence-period.updated.status",
        "absence-period.deleted",
    ),
    "absences",
    "tap-personio--absences",
)
AREAS = {area.name: area for area in (EMPLOYEES, ABSENCES)}
EVENTS = [name for area in AREAS.values() for name in area.events]
"""The events the webhook subscribes to (attendances flow from Staffomatic to Personio)."""


def area_of(event_name: str) -> Area | None:
    return next((a for a in AREAS.values() if event_name in a.events), None)
