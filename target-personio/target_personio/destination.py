"""Personio as the shared applier's destination: sends a plan's ops through the client, and
reads Personio to settle a write whose answer was lost (never sending it again blindly)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from sync_ledger.engine import AnswerLost, DestId, Op, Plan
from sync_ledger.engine.apply import ABSENT, Applied, Found, Verdict
from typing_extensions import override

from target_personio import mapping
from target_personio.client import ATTENDANCE, PersonioClient, Rejected, RunStopped

PREFIX = "/v2/"


def _kind_and_id(path: str) -> tuple[str, str]:
    """``/v2/attendance-periods/abc`` -> (``attendance-periods``, ``abc``)."""
    kind, _, period_id = path.removeprefix(PREFIX).partition("/")
    return kind, period_id


class PersonioDestination:
    """The :class:`sync_ledger.engine.apply.Destination` of target-personio."""

    refusals: tuple[type[Exception], ...] = (Rejected, RunStopped)
    stops: tuple[type[Exception], ...] = (RunStopped,)

    def __init__(self, client: PersonioClient) -> None:
        self.client = client

    def send(self, op: Op, path: str) -> Any:
        kind, period_id = _kind_and_id(path)
        flag = (op.params or {}).get("skip_approval")
        skip_approval = None if flag is None else flag == "true"
        try:
            if op.method == "POST":
                return self.client.create(kind, op.body, skip_approval=bool(skip_approval))
            if op.method == "PATCH":
                self.client.update(kind, period_id, op.body, skip_approval=skip_approval)
            elif op.method == "DELETE":
                self.client.delete(kind, period_id)
            else:
                raise ValueError(f"target-personio does not send {op.method} requests")
        except Rejected as exc:
            if exc.status == 0:  # no HTTP status: the request left, its answer never came
                raise AnswerLost(str(exc)) from exc
            raise
        return None

    def created_id(self, op: Op, answer: Any) -> DestId | None:
        return str(answer) if answer else None

    def status(self, error: Exception) -> int | None:
        return error.status if isinstance(error, Rejected) else None

    def find(self, plan: Plan, op: Op, path: str, ids: Mapping[str, DestId]) -> Verdict:
        """Whether a lost write happened: a create is looked up by its match key; a PATCH or
        DELETE is safe to send again (the same change; a second DELETE finds 404)."""
        if op.method != "POST":
            return ABSENT
        kind, _ = _kind_and_id(path)
        body = op.body or {}
        person = str((body.get("person") or {}).get("id"))
        if kind == ATTENDANCE:
            start = body["start"]["date_time"]
            params = {"person.id": person, "start.date_time.gte": start}
            params["start.date_time.lte"] = start
            want: tuple[str, ...] = mapping.personio_attendance_key(body)
        else:
            params = {"person.id": person, "starts_from.date_time.gte": _day(body)}
            want = mapping.absence_key(body)
        try:
            for item in self.client.periods(kind, params):
                key = (
                    mapping.personio_attendance_key(item)
                    if kind == ATTENDANCE
                    else mapping.absence_key(item)
                )
                if key == want:
                    return Found(record_id=str(item.get("id")), record=item)
        except (Rejected, RunStopped):
            return None
        return ABSENT

    def pretend(self, plan: Plan, op: Op, ids: Mapping[str, DestId], new_id: DestId | None) -> Any:
        return None


def _day(body: Mapping[str, Any]) -> str:
    return str((body.get("starts_from") or {}).get("date_time", ""))[:10] + "T00:00:00"


@dataclass
class InPersonioWords(Applied):
    """A plan's result whose failure names Personio's refusal as the run log always has."""

    @property
    @override
    def failure(self) -> str:
        if isinstance(self.error, Rejected) and self.error.status:
            return f"Personio refused it: {self.error}"
        return super().failure


def in_personio_words(result: Applied) -> Applied:
    return InPersonioWords(**vars(result))
