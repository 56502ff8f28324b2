"""What a run reads from Staffomatic: the account, the look-ups, the absences of the window.

Everything is read in pages, once per run (linked absences outside the window one by one). A
failed read stops the run with one sentence (:class:`StopRun`).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import date, datetime, timedelta
from functools import partial
from typing import Any, TypeVar
from zoneinfo import ZoneInfo

from sync_ledger import Link

from target_staffomatic import paths
from target_staffomatic.client import AuthError, RejectedError, StaffomaticClient, UnreachableError
from target_staffomatic.rules import Lookups
from target_staffomatic.settings import StopRun

T = TypeVar("T")


def read(call: Callable[[], T], *, refused: T | None = None) -> T:
    """``call()``, with the errors that stop the run turned into :class:`StopRun`; a refusal
    (4xx) returns ``refused`` instead when that is given."""
    try:
        return call()
    except AuthError as exc:
        raise StopRun(str(exc)) from None
    except RejectedError as exc:
        if refused is not None:
            return refused
        raise StopRun(f"Reading from Staffomatic failed: {exc}") from None
    except UnreachableError as exc:
        raise StopRun(f"Reading from Staffomatic failed: {exc}") from None


def account(client: StaffomaticClient) -> dict[str, Any]:
    """The account record; an unknown account (404) is named with the setting to fix."""

    def get() -> Any:
        try:
            return client.get(paths.ACCOUNT)
        except RejectedError as exc:
            if exc.status != 404:
                raise
            raise AuthError(
                f"Staffomatic has no account '{client.account}' (HTTP 404): set the account "
                "setting to your Staffomatic subdomain, e.g. acme for acme.staffomaticapp.com."
            ) from None

    return read(get) or {}


def lookups(client: StaffomaticClient) -> Lookups:
    """Locations, their departments and absence types, and every user."""
    locations = read(partial(client.get_all, paths.LOCATIONS))
    departments: list[dict[str, Any]] = []
    types: list[dict[str, Any]] = []
    for loc in locations:
        departments += read(partial(client.get_all, paths.departments(int(loc["id"]))))
        types += read(partial(client.get_all, paths.absence_types(int(loc["id"]))))
    users = read(partial(client.get_all, paths.USERS, {"state": "all"}))
    return Lookups(users, locations, departments, types)


def window_absences(
    client: StaffomaticClient, lk: Lookups, window: tuple[date, date], zone: ZoneInfo
) -> None:
    """Read the absences of the window once (for recovery when the ledger is lost)."""
    if lk.absences is not None:
        return
    lk.set_absences(_absences_between(client, window[0], window[1] + timedelta(days=1), zone))
    lk.absence_window = window


def absences_starting_before(
    client: StaffomaticClient, lk: Lookups, starts: Iterable[date], zone: ZoneInfo
) -> None:
    """The absences from the earliest of ``starts`` up to the days loaded already, when it lies
    before them: no document says whether ``from``/``until`` return the absences overlapping
    the range or only those starting inside it, so an unlinked absence that began before the
    window (a long one, after a lost ledger) is looked for from its own first day."""
    loaded = lk.absence_window
    first = min(starts, default=None)
    if loaded is None or first is None or first >= loaded[0]:
        return
    for absence in _absences_between(client, first, loaded[0], zone):
        lk.put_absence(absence)
    lk.absence_window = (first, loaded[1])


def _absences_between(
    client: StaffomaticClient, first: date, until: date, zone: ZoneInfo
) -> list[dict[str, Any]]:
    """Staffomatic's absences read with ``from`` at the start of ``first`` and ``until`` at
    the start of ``until`` (local midnights)."""
    params = {
        "from": datetime.combine(first, datetime.min.time(), zone).isoformat(),
        "until": datetime.combine(until, datetime.min.time(), zone).isoformat(),
    }
    return read(lambda: client.get_all(paths.ABSENCES, params))


def absences_outside_window(
    client: StaffomaticClient, lk: Lookups, links: Iterable[Link | None], window: tuple[date, date]
) -> None:
    """Linked absences whose period lies outside the loaded window, read one by one (one
    Staffomatic no longer has is left out)."""
    known = lk.absences or {}
    for link in links:
        if link is None or link.dest_id.startswith("-") or _int(link.dest_id) in known:
            continue
        start, end = link.data.get("start"), link.data.get("end")
        if (
            start
            and end
            and window[0] <= date.fromisoformat(start)
            and date.fromisoformat(end) <= window[1]
        ):
            continue
        found: Any = read(partial(client.get, paths.absence_by_id(link.dest_id)), refused={})
        if isinstance(found, dict) and found:
            lk.put_absence(found)


def _int(value: Any) -> int | None:
    try:
        return int(value)
    except (TypeError, ValueError):
        return None
