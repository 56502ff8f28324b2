"""Personio as the applier's destination: ops go through the client's public methods; a write
whose answer was lost is read for, linked when found, sent again only when proven absent."""

from __future__ import annotations

from typing import Any, cast

import pytest
from sync_ledger.engine import Op, Plan
from sync_ledger.engine.apply import ABSENT, Applier, Found
from target_personio.client import PersonioClient, Rejected, RunStopped
from target_personio.destination import PersonioDestination, in_personio_words

BODY = {
    "person": {"id": "1001"},
    "type": "WORK",
    "start": {"date_time": "2024-10-29T08:00:00"},
    "end": {"date_time": "2024-10-29T12:00:00"},
}
CREATE = Op("create", "POST", "/v2/attendance-periods", BODY, {"skip_approval": "true"})


class FakeClient:
    """The client's public methods, answering from a script."""

    def __init__(self, *answers: Any, periods: list[dict[str, Any]] | None = None) -> None:
        self.answers = list(answers)
        self.calls: list[tuple[Any, ...]] = []
        self.listed = periods or []

    def _answer(self) -> Any:
        answer = self.answers.pop(0)
        if isinstance(answer, Exception):
            raise answer
        return answer

    def create(self, kind: str, body: dict[str, Any], *, skip_approval: bool) -> str:
        self.calls.append(("create", kind, skip_approval))
        return str(self._answer())

    def update(self, kind: str, pid: str, body: dict[str, Any], *, skip_approval: bool) -> None:
        self.calls.append(("update", kind, pid, skip_approval))
        self._answer()

    def delete(self, kind: str, pid: str) -> None:
        self.calls.append(("delete", kind, pid))
        self._answer()

    def periods(self, kind: str, params: dict[str, Any]) -> list[dict[str, Any]]:
        self.calls.append(("periods", kind, params))
        return self.listed


def destination(client: FakeClient) -> PersonioDestination:
    return PersonioDestination(cast(PersonioClient, client))


def test_ops_are_sent_through_the_clients_methods() -> None:
    client = FakeClient("p-1", None, None)
    dest = destination(client)
    assert dest.created_id(CREATE, dest.send(CREATE, "/v2/attendance-periods")) == "p-1"
    patch = Op("update", "PATCH", "/v2/attendance-periods/{id}", {}, {"skip_approval": "false"})
    dest.send(patch, "/v2/attendance-periods/p-1")
    dest.send(Op("delete", "DELETE", "/v2/absence-periods/{id}"), "/v2/absence-periods/a-9")
    assert client.calls == [
        ("create", "attendance-periods", True),
        ("update", "attendance-periods", "p-1", False),
        ("delete", "absence-periods", "a-9"),
    ]


def test_a_lost_create_found_in_personio_is_linked_and_not_sent_again() -> None:
    found = {**BODY, "id": "p-7"}
    client = FakeClient(Rejected(0, "the connection broke"), periods=[found])
    result = Applier(destination(client), workers=1).run(Plan("work_timers", "1", ops=[CREATE]))
    assert result.error is None
    [(op, _)] = result.done
    assert (op.action, op.sends) == ("link", False)
    assert result.ids == {"id": "p-7"}
    assert [call[0] for call in client.calls] == ["create", "periods"]
    assert client.calls[1][2] == {
        "person.id": "1001",
        "start.date_time.gte": "2024-10-29T08:00:00",
        "start.date_time.lte": "2024-10-29T08:00:00",
    }


def test_a_lost_create_proven_absent_is_sent_once_more() -> None:
    client = FakeClient(Rejected(0, "the connection broke"), "p-8", periods=[])
    result = Applier(destination(client), workers=1).run(Plan("work_timers", "1", ops=[CREATE]))
    assert result.error is None
    assert result.ids == {"id": "p-8"}
    assert [call[0] for call in client.calls] == ["create", "periods", "create"]


def test_a_lost_absence_create_is_read_by_its_person_and_day() -> None:
    body = {
        "person": {"id": "1001"},
        "absence_type": {"id": "t"},
        "starts_from": {"date_time": "2024-11-04T00:00:00", "type": "FIRST_HALF"},
        "ends_at": {"date_time": "2024-11-06T00:00:00", "type": "SECOND_HALF"},
    }
    client = FakeClient(periods=[{**body, "id": "a-1"}])
    op = Op("create", "POST", "/v2/absence-periods", body)
    verdict = destination(client).find(Plan("absences", "1"), op, "/v2/absence-periods", {})
    assert verdict == Found(record_id="a-1", record={**body, "id": "a-1"})
    assert client.calls[0][2] == {
        "person.id": "1001",
        "starts_from.date_time.gte": "2024-11-04T00:00:00",
    }


def test_a_lost_patch_or_delete_is_safe_to_send_again() -> None:
    dest = destination(FakeClient())
    patch = Op("update", "PATCH", "/v2/attendance-periods/{id}", {})
    assert dest.find(Plan("work_timers", "1"), patch, "/v2/attendance-periods/p", {}) is ABSENT


def test_a_refusal_is_recorded_in_personios_words_and_a_stop_stops() -> None:
    client = FakeClient(Rejected(409, "overlaps attendance period x"))
    applier = Applier(destination(client), workers=1)
    result = in_personio_words(applier.run(Plan("work_timers", "1", ops=[CREATE])))
    assert result.failure == "Personio refused it: HTTP 409: overlaps attendance period x"
    assert not result.stops_run
    stopped = FakeClient(RunStopped("Personio could not be reached"))
    result = in_personio_words(
        Applier(destination(stopped), workers=1).run(Plan("work_timers", "1", ops=[CREATE]))
    )
    assert result.stops_run
    assert result.failure == "create failed: Personio could not be reached"


def test_an_unknown_method_is_a_bug_not_a_request() -> None:
    with pytest.raises(ValueError, match="does not send PUT"):
        destination(FakeClient()).send(Op("update", "PUT", "/v2/x/1"), "/v2/x/1")
