"""Personio, read to confirm a deletion: one absence period by id before its Staffomatic copy
is deleted because the period vanished from a complete window read.

The read goes through THE Personio policy (:mod:`vendor_http.personio_client`) with the
``source_*`` settings. It proves the period gone (404 or 410) or removed (rejected, cancelled,
...): the delete goes out. Anything else holds the delete back with the reason: the period is
still there and valid (the window read missed it), the read failed, or no credential is set.
"""

from __future__ import annotations

from urllib.parse import quote

from sync_ledger.engine import Plan
from sync_ledger.engine.confirm import Evidence, gone, read_failed, still_there
from vendor_http.personio_client import PersonioClient, Rejected, RunStopped

from target_staffomatic.rules import norm
from target_staffomatic.rules.absences import REMOVED_STATUSES
from target_staffomatic.settings import Settings

APP_ID = "TARGET_STAFFOMATIC"
"""Sent as X-Personio-App-ID with the confirmation reads."""
NO_CREDENTIALS = (
    "not deleted: the absence vanished from the Personio read, and no Personio credential is "
    "set to confirm it is gone; set source_client_id and source_client_secret (or "
    "source_credentials_file) and the next run deletes it once Personio confirms"
)


class PersonioSource:
    """Reads single Personio absence periods; the client is opened at the first read."""

    def __init__(self, settings: Settings, credential: tuple[str, str]) -> None:
        self.settings = settings
        self.credential = credential
        self._client: PersonioClient | None = None

    @classmethod
    def of(cls, settings: Settings) -> PersonioSource | None:
        """The source of these settings; None when no Personio credential is set."""
        credential = settings.source_credentials()
        return None if credential is None else cls(settings, credential)

    @property
    def client(self) -> PersonioClient:
        if self._client is None:
            self._client = PersonioClient(self.settings.source_base_url, *self.credential, APP_ID)
        return self._client

    def check(self, plan: Plan) -> Evidence:
        what = f"Personio absence period {plan.source_id}"
        try:
            period = self.client.get_one(f"/v2/absence-periods/{quote(plan.source_id, safe='')}")
        except (RunStopped, Rejected) as exc:
            return read_failed(what, exc)
        if period is None:
            return gone(f"confirmed: Personio no longer has {what}")
        approval = period.get("approval")
        status = norm(
            (approval.get("status") if isinstance(approval, dict) else None)
            or period.get("status")
            or ""
        )
        if status in REMOVED_STATUSES:
            return gone(f"confirmed: Personio shows {what} {status}")
        return still_there(what, f"status {status or 'unknown'}")

    def close(self) -> None:
        if self._client is not None:
            self._client.close()
