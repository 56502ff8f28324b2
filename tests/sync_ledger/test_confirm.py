"""The confirmation step of the engine: planned deletes of vanished records become deletes only
on evidence, otherwise skips that keep the link; the applier refuses unconfirmed ones."""

from __future__ import annotations

from typing import Any

from sync_ledger.engine import Applier, Evidence, Op, Plan, confirmed
from sync_ledger.engine.confirm import read_failed


def vanished(sid: str = "s1") -> Plan:
    plan = Plan("absence", sid, reason="vanished", drop_link=True, confirm=True)
    plan.ops.append(Op("delete", "DELETE", "/absences/{id}"))
    plan.dest_id = 42
    return plan


def test_gone_keeps_the_deletes_and_adds_the_evidence_to_the_reason() -> None:
    [plan] = confirmed([vanished()], lambda p: Evidence(True, "confirmed: 404"), "missing")
    assert plan.writes
    assert not plan.confirm
    assert plan.drop_link
    assert plan.reason == "vanished; confirmed: 404"


def test_anything_else_becomes_a_skip_that_keeps_the_link_and_the_destination_id() -> None:
    asked: list[str] = []

    def check(plan: Plan) -> Evidence:
        asked.append(plan.source_id)
        return read_failed("absence s1", "HTTP 503")

    [plan] = confirmed([vanished()], check, "missing")
    assert asked == ["s1"]  # one read per deletion
    assert (plan.outcome, plan.writes, plan.drop_link, plan.dest_id) == ("skip", False, False, 42)
    assert plan.reason.startswith("not deleted: the confirmation read of absence s1 failed")


def test_without_a_check_the_reason_names_the_settings_and_nothing_is_read() -> None:
    [plan] = confirmed([vanished()], None, "not deleted: set source_x")
    assert (plan.outcome, plan.reason) == ("skip", "not deleted: set source_x")


def test_plans_without_confirmation_or_writes_pass_unread() -> None:
    plain = Plan("absence", "s2", ops=[Op("delete", "DELETE", "/x")])
    nothing = Plan("absence", "s3", outcome="unchanged", drop_link=True, confirm=True)

    def never(plan: Plan) -> Evidence:
        raise AssertionError("no read expected")

    out = confirmed([plain, nothing], never, "missing")
    assert out[0] is plain
    assert (out[1].outcome, out[1].confirm, out[1].drop_link) == ("unchanged", False, True)


class _Nowhere:
    refusals: tuple[type[Exception], ...] = ()
    stops: tuple[type[Exception], ...] = ()
    sent: list[str] = []

    def send(self, op: Op, path: str) -> Any:
        self.sent.append(path)


def test_the_applier_refuses_a_plan_that_still_asks_for_confirmation() -> None:
    destination = _Nowhere()
    applier = Applier(destination, workers=1)  # type: ignore[arg-type]
    [result] = applier.apply([vanished()])
    applier.close()
    assert destination.sent == []
    assert result.error is not None
    assert "not confirmed" in str(result.error)
