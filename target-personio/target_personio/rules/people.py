"""Look-ups the rules match on: Staffomatic users to Personio people, absence types by name.

Built once per run from what was read (the ``users`` and ``absence_types`` streams, Personio's
employees and absence types); pure: no I/O, only dictionaries.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any


def norm(value: Any) -> str:
    """Trimmed and lower-cased, for matching e-mails and names."""
    return str(value or "").strip().lower()


class People:
    """Staffomatic users and Personio employees, matched by ``custom_id``, else by e-mail."""

    def __init__(
        self, users: Mapping[str, tuple[str, str]], employees: Iterable[Mapping[str, Any]]
    ) -> None:
        self.users = users
        """Staffomatic user id -> (custom_id, e-mail), as the users stream sent them."""
        self.ids: set[str] = set()
        self.by_email: dict[str, list[str]] = {}
        for employee in employees:
            pid = str(employee.get("id") or "").strip()
            if not pid:
                continue
            self.ids.add(pid)
            email = norm(employee.get("email"))
            if email:
                self.by_email.setdefault(email, []).append(pid)

    def person_for(self, user_id: Any) -> tuple[str | None, str]:
        """The Personio person id of a Staffomatic user, or None and why not (ids only)."""
        user = self.users.get(str(user_id))
        if user is None:
            return None, f"user {user_id} is not in the users stream"
        custom_id, email = user
        if custom_id and custom_id in self.ids:
            return custom_id, ""
        matches = self.by_email.get(email, []) if email else []
        if len(matches) == 1:
            return matches[0], ""
        if len(matches) > 1:
            return None, f"user {user_id} matches {len(matches)} Personio employees by e-mail"
        return None, f"user {user_id} has no Personio employee (custom_id or e-mail)"


class AbsenceTypes:
    """Personio absence types by id and by name, with ``absence_type_map`` for names that differ."""

    def __init__(
        self,
        personio_types: Iterable[Mapping[str, Any]],
        staffomatic_names: Mapping[str, str],
        type_map: Mapping[str, Any] | None = None,
    ) -> None:
        self.staffomatic_names = staffomatic_names
        """Staffomatic absence type id -> name, for absences that carry only the id."""
        self.personio: dict[str, str] = {}
        for item in personio_types:
            type_id = str(item.get("id"))
            self.personio[type_id] = type_id
            name = norm(item.get("name"))
            if name:
                self.personio.setdefault(name, type_id)
        self.table = {norm(k): str(v).strip() for k, v in (type_map or {}).items()}

    def type_for(self, absence: Mapping[str, Any]) -> tuple[str | None, str]:
        """The Personio absence type id for a Staffomatic absence, and the Staffomatic name."""
        type_id = str(absence.get("absence_type_id") or "")
        name = str(absence.get("absence_type_name") or self.staffomatic_names.get(type_id) or "")
        wanted = self.table.get(norm(name)) or self.table.get(type_id) or name
        found = self.personio.get(wanted) or self.personio.get(wanted.lower())
        return found, name.strip() or f"#{type_id}"
