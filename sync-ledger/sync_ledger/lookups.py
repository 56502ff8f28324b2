"""Look-ups kept across runs in the ledger (table ``ledger_lookups``): a destination's rarely
changing lists (locations, departments, absence types), each page with the ``ETag`` the vendor
sent so the next run revalidates it with ``If-None-Match`` instead of reading it again, and
numbers a run estimates its reads by (how many pages a list had).

Only what is not personal data is kept here: a caller stores look-ups cut to the fields its rules
use, never users. A key is a hash of the destination and the request; ``what`` names the request
(path and page, no query values) for a person reading the table.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select

from sync_ledger.db import upsert
from sync_ledger.ledger import Ledger
from sync_ledger.schema import lookups


@dataclass(frozen=True)
class Kept:
    """One kept look-up: the vendor's validator (None for a remembered number) and the body."""

    etag: str | None
    body: Any


class LookupStore:
    """The kept look-ups of one destination (``scope``, e.g. the target and its account)."""

    def __init__(self, ledger: Ledger, scope: str) -> None:
        self.ledger = ledger
        self.scope = scope

    def _key(self, what: str) -> str:
        return hashlib.sha256(f"{self.scope}\n{what}".encode()).hexdigest()

    def get(self, what: str) -> Kept | None:
        """The kept look-up ``what``; None when there is none."""
        query = select(lookups.c.etag, lookups.c.body).where(lookups.c.key == self._key(what))
        with self.ledger.engine.connect() as conn:
            row = conn.execute(query).first()
        return None if row is None else Kept(row.etag, row.body)

    def put(self, what: str, etag: str | None, body: Any) -> None:
        values = {
            "key": self._key(what),
            "what": what[:255],
            "etag": etag,
            "body": body,
            "updated_at": self.ledger.clock(),
        }
        with self.ledger.engine.begin() as conn:
            upsert(conn, lookups, values)

    def number(self, what: str) -> int | None:
        """A remembered number (e.g. the pages of a list), None when none is kept."""
        kept = self.get(what)
        value = kept.body if kept is not None else None
        return value if isinstance(value, int) and not isinstance(value, bool) else None

    def remember(self, what: str, number: int) -> None:
        if self.number(what) != number:
            self.put(what, None, number)
