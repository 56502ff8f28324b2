"""Staffomatic as the engine's destination: send one op, read a lost write back, pretend.

The applier (:mod:`sync_ledger.engine.apply`) calls this; nothing here decides what to write.
A POST whose answer was lost (the connection broke after it was sent, or a gateway answered 5xx)
may have been applied: it is read back (users by ``custom_id``, absences by user, type and exact
times, absence types by name) and linked if found, sent again only if the read proves it absent.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sync_ledger.engine import AnswerLost, DestId, Op, Plan
from sync_ledger.engine.apply import ABSENT, Found, Verdict

from target_staffomatic import paths
from target_staffomatic.client import (
    AuthError,
    RejectedError,
    StaffomaticClient,
    StaffomaticError,
    UnreachableError,
)
from target_staffomatic.rules import ABSENCE, ABSENCE_TYPE, EMPLOYEE, Lookups, absence_key, norm


class StaffomaticDestination:
    """The engine's :class:`~sync_ledger.engine.apply.Destination` for Staffomatic."""

    refusals: tuple[type[Exception], ...] = (RejectedError, AuthError, UnreachableError)
    stops: tuple[type[Exception], ...] = (AuthError, UnreachableError)

    def __init__(self, client: StaffomaticClient, lookups: Lookups) -> None:
        self.client = client
        self.lookups = lookups

    def send(self, op: Op, path: str) -> Any:
        try:
            return self.client.request(op.method, path, params=_params(op), json=op.body)
        except RejectedError as exc:
            if op.method == "POST" and (exc.status == 0 or exc.status >= 500):
                raise AnswerLost(str(exc)) from None
            raise

    def created_id(self, op: Op, answer: Any) -> DestId | None:
        if isinstance(answer, dict) and answer.get("id") is not None:
            return int(answer["id"])
        return None

    def status(self, error: Exception) -> int | None:
        return error.status if isinstance(error, RejectedError) else None

    def find(self, plan: Plan, op: Op, path: str, ids: Mapping[str, DestId]) -> Verdict:
        """Read back a create whose answer was lost; None when the read cannot tell."""
        if not op.creates or not isinstance(op.body, dict):
            return None
        try:
            candidates, same = self._candidates(plan.entity, path, op.body)
        except StaffomaticError:
            return None
        if candidates is None:
            return None
        found = [c for c in candidates if isinstance(c, dict) and same(c)]
        if len(found) > 1:
            return None
        return Found(int(found[0]["id"]), found[0]) if found else ABSENT

    def _candidates(self, entity: str, path: str, body: dict[str, Any]) -> tuple[Any, Any]:
        get_all = self.client.get_all
        if entity == EMPLOYEE and body.get("custom_id"):
            custom_id = str(body["custom_id"])
            users = get_all(paths.USERS, {"state": "all"})
            return users, lambda u: str(u.get("custom_id") or "") == custom_id
        if entity == ABSENCE:
            window = {"from": body["starts_at"], "until": body["ends_at"]}
            key = absence_key(body)
            return get_all(paths.ABSENCES, window), lambda a: absence_key(a) == key
        if entity == ABSENCE_TYPE and body.get("name"):
            name = norm(body["name"])
            return get_all(path), lambda t: norm(t.get("name")) == name
        return None, None

    def pretend(self, plan: Plan, op: Op, ids: Mapping[str, DestId], new_id: DestId | None) -> Any:
        """A dry run's answer: a created record echoes its body; a user change shows on the
        user as the look-ups know it (so later plans of the run see it)."""
        body = dict(op.body or {})
        if new_id is not None:
            body.pop("do", None)
            return {**body, "id": new_id}
        dest = ids.get("id")
        if op.method != "PUT" or plan.entity != EMPLOYEE or dest is None:
            return None
        current = self.lookups.users.get(int(dest), {"id": dest})
        answer = {**current, **body}
        if body.get("do") in ("lock", "unlock"):
            answer.pop("do", None)
            answer["locked_at"] = "dry-run" if body == {"do": "lock"} else None
        return answer


def _params(op: Op) -> dict[str, Any] | None:
    return dict(op.params) if op.params is not None else None
