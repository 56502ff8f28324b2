"""v2 list pages that cost what the page holds, not what the collection holds.

A v2 list is filtered and sorted once, when its first page is asked for; the cursor of each
``next`` link names that listing (and the offset in it), so later pages are slices of it. A
period deleted between two pages is left out of the later ones; one added after the first page
is not listed (as with a database cursor; Personio does not document which it does, see
sandbox/README.md). A cursor whose listing is no longer kept (or one without a listing number)
lists the collection again and takes the offset in that.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Hashable
from dataclasses import dataclass
from typing import Any

KEPT = 64
"""Listings kept at once; the oldest is forgotten first."""


@dataclass(frozen=True)
class _Listing:
    source: list[dict[str, Any]]  # the state collection it was taken from
    query: Hashable  # the query (without cursor) it answers
    items: list[dict[str, Any]]
    size: int  # of the source when the listing was made


class Listings:
    """The listings of recent first pages, by number."""

    def __init__(self, kept: int = KEPT) -> None:
        self._kept: OrderedDict[int, _Listing] = OrderedDict()
        self._limit = kept
        self._last = 0

    def clear(self) -> None:
        self._kept.clear()

    def keep(
        self, source: list[dict[str, Any]], query: Hashable, items: list[dict[str, Any]]
    ) -> int:
        """Keep the ``items`` a query found in ``source``; returns the listing's number."""
        self._last += 1
        self._kept[self._last] = _Listing(source, query, items, len(source))
        while len(self._kept) > self._limit:
            self._kept.popitem(last=False)
        return self._last

    def page(
        self, number: int | None, source: list[dict[str, Any]], query: Hashable, at: slice
    ) -> tuple[list[dict[str, Any]], int] | None:
        """The items at ``at`` of listing ``number`` still in ``source``, and the length of the
        listing; None when it is not kept (or was made for another collection or query)."""
        listing = self._kept.get(number) if number is not None else None
        if listing is None or listing.source is not source or listing.query != query:
            return None
        items = listing.items[at]
        if len(source) != listing.size:  # something was added or deleted since the first page
            alive = set(map(id, source))
            items = [item for item in items if id(item) in alive]
        return items, len(listing.items)
