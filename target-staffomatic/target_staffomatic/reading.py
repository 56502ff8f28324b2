"""What a run reads from Staffomatic: the account, the look-ups, absences by date range.

Lists are read a page at a time, and each record is kept cut to the fields the rules use (see
:class:`~target_staffomatic.rules.Lookups`). Users and absences are read as the records need them
(:mod:`target_staffomatic.on_demand`). A failed read stops the run with one sentence
(:class:`StopRun`).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from datetime import date, datetime
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


def each_page(
    client: StaffomaticClient, path: str, params: dict[str, Any] | None = None
) -> Iterator[list[dict[str, Any]]]:
    """The pages of a list one at a time (a failed read stops the run, as :func:`read`)."""
    pages = client.pages(path, params)
    while True:
        page = read(lambda: next(pages, None))
        if page is None:
            return
        yield page


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
    for page in absence_pages(client, first, loaded[0], zone):
        for absence in page:
            lk.put_absence(absence)
    lk.absence_window = (first, loaded[1])


def absence_pages(
    client: StaffomaticClient,
    first: date,
    until: date,
    zone: ZoneInfo,
    params: dict[str, Any] | None = None,
) -> Iterator[list[dict[str, Any]]]:
    """Staffomatic's absences read with ``from`` at the start of ``first`` and ``until`` at
    the start of ``until`` (local midnights), a page at a time."""
    window = {
        "from": datetime.combine(first, datetime.min.time(), zone).isoformat(),
        "until": datetime.combine(until, datetime.min.time(), zone).isoformat(),
    }
    return each_page(client, paths.ABSENCES, {**window, **(params or {})})


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
