"""Look-ups kept across runs: read once, then revalidated with ``If-None-Match``.

Staffomatic documents HTTP caching (an ``ETag`` on each answer, ``304 Not Modified`` to a request
that sends it back). The look-ups that rarely change (locations, departments, absence types, the
account's time zone) are kept in the ledger (:class:`sync_ledger.lookups.LookupStore`), each page
with its ``ETag`` and cut to the fields the rules use; a run sends the same requests as before,
but an unchanged page answers 304 without a body and the kept copy is used. The fields kept are
part of the key, so a release that keeps other fields reads the page afresh. Users are never kept
here (they are personal data).
"""

from __future__ import annotations

from collections.abc import Callable
from functools import partial
from typing import Any

from sync_ledger.lookups import LookupStore
from vendor_http.staffomatic import PAGE_SIZE
from vendor_http.staffomatic_client import Revalidated

from target_staffomatic import paths
from target_staffomatic.client import AuthError, RejectedError, StaffomaticClient
from target_staffomatic.reading import read
from target_staffomatic.rules import Lookups
from target_staffomatic.rules.records import KEPT, cut


def _fresh(
    store: LookupStore,
    what: str,
    ask: Callable[[str | None], Revalidated],
    keep: Callable[[Any], Any],
) -> Any:
    """The kept body of ``what`` when the vendor says it is current, else the new one (kept)."""
    kept = store.get(what)
    answer = read(partial(ask, kept.etag if kept is not None else None))
    if answer.not_modified and kept is not None:
        return kept.body
    body = keep(answer.body)
    if answer.etag:
        store.put(what, answer.etag, body)
    return body


def kept_list(
    client: StaffomaticClient, store: LookupStore, path: str, kind: str
) -> list[dict[str, Any]]:
    """Every record of the list at ``path`` (``kind`` as in :data:`~rules.lookups.KEPT`)."""
    found: list[dict[str, Any]] = []
    page = 1
    while True:
        batch = _fresh(
            store,
            f"GET {path} page {page} keeping {','.join(sorted(KEPT[kind]))}",
            partial(client.revalidate_page, path, page, None),
            lambda records: [cut(kind, r) for r in records],
        )
        found += batch
        if len(batch) < PAGE_SIZE:
            return found
        page += 1


def lookups(client: StaffomaticClient, store: LookupStore) -> Lookups:
    """Locations, their departments and absence types; users and absences are read as the
    records need them (:mod:`target_staffomatic.on_demand`)."""
    locations = kept_list(client, store, paths.LOCATIONS, "locations")
    departments: list[dict[str, Any]] = []
    types: list[dict[str, Any]] = []
    for loc in locations:
        lid = int(loc["id"])
        departments += kept_list(client, store, paths.departments(lid), "departments")
        types += kept_list(client, store, paths.absence_types(lid), "absence_types")
    return Lookups((), locations, departments, types)


def time_zone(client: StaffomaticClient, store: LookupStore) -> str | None:
    """The account's time zone; an unknown account (404) is named with the setting to fix."""

    def ask(etag: str | None) -> Revalidated:
        try:
            return client.revalidate(paths.ACCOUNT, None, etag)
        except RejectedError as exc:
            if exc.status != 404:
                raise
            raise AuthError(
                f"Staffomatic has no account '{client.account}' (HTTP 404): set the account "
                "setting to your Staffomatic subdomain, e.g. acme for acme.staffomaticapp.com."
            ) from None

    keep = ("time_zone",)
    what = f"GET {paths.ACCOUNT} keeping {','.join(keep)}"
    account = _fresh(store, what, ask, lambda r: _only(r, keep))
    zone = account.get("time_zone") if isinstance(account, dict) else None
    return str(zone) if zone else None


def _only(record: Any, fields: tuple[str, ...]) -> dict[str, Any]:
    return {k: v for k, v in (record or {}).items() if k in fields}
