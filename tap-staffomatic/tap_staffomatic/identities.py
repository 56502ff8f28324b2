"""The identity of the users of work timers (``user_custom_id``, ``user_email``), read for
those users only.

A run that emits a whole window of timers reads the user list once (a whole window names most
users). A run that emits a batch of changes reads the first page of the list, which says how
many pages it has (``Link rel="last"``), and then each user not on it by id
(``GET /users/{id}.json``), or the rest of the list when that takes fewer requests. A user
Staffomatic no longer has (404) has no identity: its fields are empty.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from tap_staffomatic.client import StaffomaticStream

USERS = "/users.json"
ALL = {"state": "all"}  # locked and pending users too
FIELDS = {"user_custom_id": "custom_id", "user_email": "email"}
"""Field of a work timer -> the field of its user it carries."""


class Identities:
    """Staffomatic user id -> the user's ``custom_id`` and ``email``, read at most once each."""

    def __init__(self, stream: StaffomaticStream) -> None:
        self.stream = stream
        self.known: dict[int, dict[str, Any] | None] = {}
        self.complete = False
        """Whether the whole user list was read."""

    def read_all(self) -> None:
        """The whole user list (once per run)."""
        if not self.complete:
            self._keep(self.stream.read_all(USERS, ALL))
            self.complete = True

    def read_for(self, user_ids: Iterable[Any]) -> None:
        """These users: the first page of the list, then each one not on it by id, or the rest
        of the list when that is fewer requests."""
        wanted = {user_id for user_id in user_ids if isinstance(user_id, int)}
        if self.complete or not wanted - self.known.keys():
            return
        rows, pages = self.stream.read_page(USERS, ALL)
        self._keep(rows)
        missing = sorted(wanted - self.known.keys())
        if pages == 1:
            self.complete = True
        elif pages is not None and len(missing) >= pages - 1:
            self._keep(self.stream.read_all(USERS, ALL, first_page=2))
            self.complete = True
        else:
            for user_id in missing:
                found = self.stream.read_one(f"/users/{user_id}.json")
                self.known[user_id] = None if found is None else _identity(found)

    def fields_of(self, user_id: Any, selected: Iterable[str]) -> dict[str, Any]:
        """The selected identity fields of a timer of this user (read the list if need be)."""
        if user_id not in self.known and not self.complete:
            self.read_all()
        user = self.known.get(user_id) or {}
        return {name: _text(user.get(FIELDS[name])) for name in selected}

    def _keep(self, rows: Iterable[dict[str, Any]]) -> None:
        for row in rows:
            if isinstance(row.get("id"), int):
                self.known[row["id"]] = _identity(row)


def _identity(user: dict[str, Any]) -> dict[str, Any]:
    """Only what a timer carries: nothing else of the user is kept."""
    return {key: user.get(key) for key in FIELDS.values()}


def _text(value: Any) -> str | None:
    return None if value is None else str(value)
