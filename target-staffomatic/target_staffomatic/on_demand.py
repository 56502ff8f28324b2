"""What a run reads of Staffomatic's users and absences: only what its records need.

A run that is not a complete window read (a partial sync from bookmarks, or tap-personio's
``only_ids``) reads the destination records of its batch, not the whole lists:

- a **linked** record (the ledger knows its Staffomatic id) is read by id
  (``GET /users/{id}.json``, ``GET /absences/{id}.json``), unless reading the list is cheaper:
  when the reads by id of the run would pass the pages the list had the last time it was read
  (kept in the ledger, else estimated from the number of links), the list is read once instead;
- an **unlinked** employee (a new hire, a lost ledger) is looked for in the user list, read once
  per run when the first one comes (Staffomatic documents no search by ``custom_id`` or e-mail);
  a linked user that is gone (404) is looked for the same way;
- an **unlinked** absence is looked for among the absences of its user around its dates, one read
  filtered by ``user_ids[]`` and ``from``/``until`` (both documented) for the batch.

A complete window read (ACTIVATE_VERSION around the absences) reads the whole window, as it must
to see what vanished; verify-before-destroy is unchanged.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, timedelta
from functools import partial
from typing import Any
from zoneinfo import ZoneInfo

from sync_ledger.lookups import LookupStore
from vendor_http.staffomatic import PAGE_SIZE

from target_staffomatic import paths, reading
from target_staffomatic.client import RejectedError, StaffomaticClient
from target_staffomatic.rules import Lookups

USER_PAGES = "pages GET /users.json?state=all"
WINDOW_PAGES = "pages GET /absences.json (window)"


def estimate(links: int) -> int:
    """The pages of a list holding about ``links`` records (when none was read yet)."""
    return links // PAGE_SIZE + 1


class UserReads:
    """Staffomatic users, read by id or as the whole list, as the run's records need them."""

    def __init__(
        self, client: StaffomaticClient, lk: Lookups, store: LookupStore, links: int
    ) -> None:
        self.client = client
        self.lk = lk
        self.store = store
        self.listed = False
        """The whole list was read: every user is in the look-ups."""
        self.by_id = 0
        self.checked: set[int] = set()
        self.pages = store.number(USER_PAGES) or estimate(links)

    def need(self, ids: Iterable[int | None], *, unlinked: bool = False) -> None:
        """Make the users ``ids`` known; ``unlinked``: a record must be matched without a link
        (by ``custom_id``, e-mail or name), which only the whole list can do."""
        if self.listed:
            return
        wanted = sorted({i for i in ids if i is not None} - set(self.lk.users) - self.checked)
        if unlinked or self.by_id + len(wanted) > self.pages:
            self.read_list()
            return
        gone = False
        for uid in wanted:
            found = reading.read(partial(self.client.get_one, paths.user_by_id(uid)))
            self.by_id += 1
            self.checked.add(uid)
            if found is None:
                gone = True
            else:
                self.lk.put_user(found)
        if gone:  # its employee is matched again by custom_id or e-mail
            self.read_list()

    def read_list(self) -> None:
        """Every user (``state=all``), a page at a time, cut to the fields the rules use."""
        if self.listed:
            return
        pages = 0
        for page in reading.each_page(self.client, paths.USERS, {"state": "all"}):
            pages += 1
            for user in page:
                self.lk.put_user(user)
        self.listed = True
        self.store.remember(USER_PAGES, pages)


class AbsenceReads:
    """Staffomatic absences: the whole window for a complete window read, else by id, or the
    window when that is cheaper, and the absences of unlinked ones' users around their dates."""

    def __init__(
        self,
        client: StaffomaticClient,
        lk: Lookups,
        store: LookupStore,
        window: tuple[date, date],
        zone: ZoneInfo,
        links: int,
    ) -> None:
        self.client = client
        self.lk = lk
        self.store = store
        self.window = window
        self.zone = zone
        self.by_id = 0
        self.checked: set[int] = set()
        self.pages = store.number(WINDOW_PAGES) or estimate(links)

    @property
    def window_loaded(self) -> bool:
        return self.lk.absence_window is not None

    def read_window(self) -> None:
        """Every absence of the window (once), merged into what was read by id."""
        if self.window_loaded:
            return
        first, last = self.window
        pages = 0
        if self.lk.absences is None:
            self.lk.absences = {}
        for page in reading.absence_pages(self.client, first, last + timedelta(days=1), self.zone):
            pages += 1
            for absence in page:
                self.lk.put_absence(absence)
        self.lk.absence_window = self.window
        self.store.remember(WINDOW_PAGES, pages)

    def need(self, linked: Iterable[int], unlinked: Iterable[tuple[int, date, date]]) -> None:
        """Make the absences ``linked`` known (absent: Staffomatic no longer has them) and the
        absences of the users of ``unlinked`` (user, first day, last day) around those days."""
        if self.lk.absences is None:
            self.lk.absences = {}  # what is read by id is all there is to know of them
        if self.window_loaded:
            return
        known = set(self.lk.absences)
        wanted = sorted(set(linked) - known - self.checked)
        if self.by_id + len(wanted) > self.pages:
            self.read_window()
            return
        for aid in wanted:
            found = reading.read(partial(self._one, aid))
            self.by_id += 1
            self.checked.add(aid)
            if found:
                self.lk.put_absence(found)
        self._of_users(list(unlinked))

    def _one(self, aid: int) -> dict[str, Any] | None:
        """One absence by id; None when Staffomatic no longer has it or refuses the read (4xx:
        left out, as one it no longer has)."""
        try:
            return self.client.get_one(paths.absence_by_id(aid))
        except RejectedError:
            return None

    def _of_users(self, unlinked: list[tuple[int, date, date]]) -> None:
        """One read of the absences of these users from the earliest first day to the day
        after the latest last day (starting or overlapping: every ``from``/``until`` reading
        finds an absence that starts on its first day). A user a dry run only pretended to
        create (a negative id) has none in Staffomatic and is left out."""
        unlinked = [absence for absence in unlinked if absence[0] > 0]
        if not unlinked:
            return
        users = sorted({user for user, _, _ in unlinked})
        first = min(start for _, start, _ in unlinked)
        until = max(end for _, _, end in unlinked) + timedelta(days=1)
        for page in reading.absence_pages(
            self.client, first, until, self.zone, {"user_ids[]": users}
        ):
            for absence in page:
                self.lk.put_absence(absence)
