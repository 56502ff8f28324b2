"""The target's Personio client: the period endpoints on :class:`vendor_http.personio_client.
PersonioClient` (authentication, tokens, pacing, retries and the errors live there).

A create whose answer was lost (the connection broke, or a gateway answered 500, 502 or 504
after Personio may have done it) is never sent again blindly: :meth:`PersonioClient.create`
reads the periods of that person at that time and returns the id of the one it finds; only when
the read proves there is none is it sent again. A second lost answer ends as
:class:`AnswerLost`, a rejection: the record fails this run and the next run links it.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from typing import Any

import httpx
from vendor_http import personio_client
from vendor_http.personio import error_text
from vendor_http.personio_client import AnswerLost, Rejected, RunStopped

LOGGER = logging.getLogger("target_personio.client")

ATTENDANCE = "attendance-periods"
ABSENCE = "absence-periods"

__all__ = ["ABSENCE", "ATTENDANCE", "AnswerLost", "PersonioClient", "Rejected", "RunStopped"]


class PersonioClient(personio_client.PersonioClient):
    """Talks to one Personio company with one API credential: periods and absence types."""

    def absence_types(self) -> Iterator[dict[str, Any]]:
        return self.list_v2("/v2/absence-types")

    def periods(self, kind: str, params: dict[str, Any]) -> Iterator[dict[str, Any]]:
        """Attendance or absence periods matching the filters (local times, no offset)."""
        return self.list_v2(f"/v2/{kind}", params)

    def period_pages(self, kind: str, params: dict[str, Any]) -> Iterator[list[dict[str, Any]]]:
        """The same, a page (one request) at a time."""
        return self.pages_v2(f"/v2/{kind}", params)

    # ---- writing -------------------------------------------------------------------------------

    def create(self, kind: str, body: dict[str, Any], *, skip_approval: bool) -> str:
        """Create a period and return its id; a lost answer is settled by reading first."""
        params = {"skip_approval": _flag(skip_approval)}
        try:
            response = self.request("POST", f"/v2/{kind}", params=params, json=body)
        except AnswerLost as lost:
            found = self._created(kind, body)
            if found is not None:
                LOGGER.info("%s: the lost write had been done; linked %s", lost, found)
                return found
            LOGGER.info("%s: Personio has no such period; sending it again", lost)
            response = self.request("POST", f"/v2/{kind}", params=params, json=body)
        self._raise_for_write(response)
        data = response.json()
        item = data.get("_data", data) if isinstance(data, dict) else {}
        if isinstance(item, list):
            item = item[0] if item else {}
        new_id = item.get("id") if isinstance(item, dict) else None
        if not new_id:
            raise Rejected(response.status_code, "Personio answered without the new id")
        return str(new_id)

    def update(
        self, kind: str, period_id: str, body: dict[str, Any], *, skip_approval: bool | None
    ) -> None:
        """PATCH a period; ``skip_approval`` None sends no such parameter (Personio documents
        it on the PATCH of attendance periods, not of absence periods)."""
        params = {} if skip_approval is None else {"skip_approval": _flag(skip_approval)}
        response = self.request(
            "PATCH",
            f"/v2/{kind}/{period_id}",
            params=params,
            json=body,
            idempotent=True,  # the body sets absolute values: sending it twice does no harm
        )
        self._raise_for_write(response)

    def delete(self, kind: str, period_id: str) -> None:
        """Delete a period; one that is already gone counts as deleted."""
        response = self.request("DELETE", f"/v2/{kind}/{period_id}")
        if response.status_code == 404:
            return
        self._raise_for_write(response)

    @staticmethod
    def _raise_for_write(response: httpx.Response) -> None:
        if response.status_code >= 400:
            raise Rejected(response.status_code, error_text(response))

    def _created(self, kind: str, body: dict[str, Any]) -> str | None:
        """The id of a period in Personio exactly like ``body``, or None when there is none."""
        for item in self.periods(kind, _lookup(kind, body)):
            if _same(body, item) and item.get("id"):
                return str(item["id"])
        return None


def _flag(value: bool) -> str:
    return "true" if value else "false"


def _lookup(kind: str, body: dict[str, Any]) -> dict[str, Any]:
    """Filters that find the period ``body`` describes: its person, at its time."""
    person = str((body.get("person") or {}).get("id") or "")
    if kind == ATTENDANCE:
        start = str((body.get("start") or {}).get("date_time") or "")[:19]
        return {"person.id": person, "start.date_time.gte": start, "start.date_time.lte": start}
    start = str((body.get("starts_from") or {}).get("date_time") or "")[:19]
    end = str((body.get("ends_at") or {}).get("date_time") or "")[:19]
    return {"person.id": person, "ends_at.date_time.gte": start, "starts_from.date_time.lte": end}


def _same(body: Any, item: Any) -> bool:
    """Whether ``item`` (read from Personio) has every value of ``body`` (sent to it).

    Times are compared to the second, without an offset Personio may add.
    """
    if isinstance(body, dict):
        return isinstance(item, dict) and all(_same(v, item.get(k)) for k, v in body.items())
    if isinstance(body, str) and len(body) >= 19 and body[10:11] == "T":
        return isinstance(item, str) and item[:19] == body[:19]
    return str(body) == str(item)
