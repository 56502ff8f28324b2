"""Personio people for the Staffomatic users of a batch: the whole employee list, or just the
people those users name, whichever takes fewer requests.

A user is matched by ``custom_id`` (the Personio id), else by e-mail (:class:`~target_personio.
rules.people.People`). For a few users the people are read one by one, with the documented
filters of the v1 list: ``GET /v1/company/employees/{id}`` for a ``custom_id``, and
``GET /v1/company/employees?email=...`` (every employee with that address) when there is no
such person. The first page of the list (100 people) is read first: it says how many pages
the list has, and a company that fits on it, or users who outnumber the remaining pages, are
served by the whole list. The matches are the same either way: an id is found by id, and an
e-mail read returns every person with that address, as the list would. No document says whether
the e-mail filter ignores case as the matching does, so a user for whom the one-by-one reads
found nobody is looked for in the whole list (read once per run).

Only ids and e-mail addresses are kept, never the rest of an employee's record.
"""

from __future__ import annotations

import itertools
import logging
from collections.abc import Callable, Iterable, Mapping
from typing import Any

from vendor_http.personio_client import EMPLOYEES_PAGE, PersonioClient

from target_personio.rules import People
from target_personio.rules.people import norm

User = tuple[str, str]
"""A Staffomatic user's (custom_id, e-mail), as the users stream sent them."""


class PeopleReads:
    """The people read so far in one run, and what is left to read for more users."""

    def __init__(
        self,
        client: Callable[[], PersonioClient],
        users: Mapping[str, User],
        logger: logging.Logger,
    ) -> None:
        self._client = client
        self.users = users
        self.logger = logger
        self.complete: People | None = None
        """Every employee, once the whole list was read."""
        self.emails: dict[str, str] = {}
        """Personio id -> e-mail of every person read one by one (or on the first page)."""
        self.settled: set[str] = set()
        """Staffomatic user ids whose people have been read."""
        self.first_page: dict[str, str] = {}
        """Personio id -> e-mail of the people on the first page of the list."""
        self.last_page: int | None = None
        """The last page of the employee list (from 0), once its first page was read."""

    def whole(self) -> People:
        """Every employee of the list (read once; its first page is not read twice)."""
        if self.complete is None:
            if self.first_page:
                rest = self._client().employees(start=EMPLOYEES_PAGE)
                first = ({"id": k, "email": v} for k, v in self.first_page.items())
                self.complete = People(self.users, itertools.chain(first, rest))
            else:
                self.complete = People(self.users, self._client().employees())
            self.logger.info("Loaded %d Personio employees.", len(self.complete.ids))
        return self.complete

    def of(self, user_ids: Iterable[Any]) -> People:
        """People for these users (and those read before); the whole list when it is cheaper."""
        if self.complete is not None:
            return self.complete
        pending = {str(u) for u in user_ids} - self.settled
        pending &= self.users.keys()  # a user the stream did not send has no person anyway
        if not pending:
            return self._known()
        if self.last_page is None:
            self._first_page()
        if self.last_page is not None and self.last_page < 1:
            return self.whole()
        pending = {u for u in pending if self.users[u][0] not in self.emails}
        if self.last_page is not None and len(pending) >= self.last_page:
            return self.whole()
        for user_id in sorted(pending):
            self._read_for(*self.users[user_id])
        self.settled.update(pending)
        if any(not self._matched(*self.users[u]) for u in pending):
            # No document says whether the e-mail filter ignores case as the matching does:
            # a user the filter found nobody for is looked for in the whole list.
            return self.whole()
        return self._known()

    def _first_page(self) -> None:
        rows, self.last_page = self._client().employees_page(0)
        if self.last_page < 1 or len(rows) < EMPLOYEES_PAGE:
            self.last_page = 0
            self.complete = People(self.users, rows)
            self.logger.info("Loaded %d Personio employees.", len(self.complete.ids))
            return
        self._keep(rows)
        self.first_page = dict(self.emails)

    def _read_for(self, custom_id: str, email: str) -> None:
        """The person a user's ``custom_id`` names, else every person with the user's e-mail."""
        if custom_id in self.emails:
            return
        if custom_id.isdigit():
            found = self._client().employee(custom_id)
            if found is not None and str(found.get("id") or "").strip() == custom_id:
                self._keep([found])
                return
        if email:
            self._keep(self._by_email(email))

    def _by_email(self, email: str) -> list[dict[str, Any]]:
        rows, last_page = self._client().employees_page(0, {"email": email})
        for page in range(1, last_page + 1):
            rows += self._client().employees_page(page * EMPLOYEES_PAGE, {"email": email})[0]
        return rows

    def _matched(self, custom_id: str, email: str) -> bool:
        """Whether a person was read for the user, or the user names nobody to look for."""
        if not email or custom_id in self.emails:
            return True
        return any(norm(known) == email for known in self.emails.values())

    def _keep(self, rows: Iterable[Mapping[str, Any]]) -> None:
        for row in rows:
            pid = str(row.get("id") or "").strip()
            if pid:
                self.emails[pid] = str(row.get("email") or "")

    def _known(self) -> People:
        return People(self.users, ({"id": k, "email": v} for k, v in self.emails.items()))
