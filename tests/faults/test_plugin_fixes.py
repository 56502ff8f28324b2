"""The fixes this suite led to in the targets, each proved on its own (fast, no process).

- Text that is not valid UTF-8 (bytes a tap could not decode, arriving as lone surrogates) or
  too long to send skips the one record with a reason instead of stopping the run.
- A record the SDK cannot read (no key, not matching its schema) is skipped with a reason that
  names the field, never its value, and without the SDK's traceback holding the record.
- An absence ending before it starts and a timer without start are per-record skips.
- httpcore never logs at DEBUG: its DEBUG lines print headers, and Personio sends tokens there.
- target-staffomatic does not repeat a create answered 5xx (it may have been applied).
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from sync_ledger import targets
from sync_ledger.targets import text_problem
from target_personio import mapping
from target_personio.rules import eligibility
from target_staffomatic import rules

SCHEMA = {"type": "object", "properties": {"id": {"type": "integer"}}, "required": ["id"]}


def test_text_that_is_not_utf8_is_named_by_its_field() -> None:
    record = {"id": 1, "name": {"last": "Ko\udcffch"}}
    reason = text_problem(record, source="Staffomatic")
    assert reason is not None
    assert "name.last" in reason
    assert "UTF-8" in reason
    assert "\udcff" not in reason
    assert reason.endswith("correct it in Staffomatic")


def test_only_text_that_is_sent_is_refused_for_its_length() -> None:
    record = {"id": 1, "last_name": "L" * 256, "position": "P" * 5000}
    reason = text_problem(record, ("last_name",))
    assert reason is not None
    assert reason.startswith("last_name is longer than 255 characters (256)")
    assert text_problem(record) is None
    assert text_problem({"id": 1, "last_name": "Müller"}, ("last_name",)) is None


def test_target_staffomatic_refuses_an_absence_that_ends_before_it_starts() -> None:
    record = {
        "id": "a1",
        "person_id": "1001",
        "starts_from": "2030-05-10T00:00:00",
        "ends_at": "2030-05-03T00:00:00",
    }
    with pytest.raises(ValueError, match="ends before it starts"):
        rules.read_absence(record, {}, datetime(2031, 1, 1).date())


def test_target_personio_skips_a_timer_without_start_instead_of_ignoring_it() -> None:
    now = datetime.now(UTC)
    rules = eligibility.TimerRules(
        now=now, settle=timedelta(hours=1), window_start=now - timedelta(days=7), only_verified=True
    )
    with pytest.raises(mapping.Unmappable, match="no start"):
        eligibility.timer_problem({"id": 1, "ends_at": now.isoformat()}, rules)
    zone = ZoneInfo("Europe/Berlin")
    late = (now - timedelta(days=30)).astimezone(zone).isoformat()
    assert (
        eligibility.timer_problem({"id": 2, "starts_at": late}, rules) == eligibility.OUT_OF_WINDOW
    )


def test_an_unreadable_record_is_reported_by_field_without_its_values() -> None:
    from singer_sdk.sinks.core import JSONSchemaValidator

    validator = targets.QuietValidator(SCHEMA, JSONSchemaValidator(SCHEMA))
    validator.validate({"id": 3})
    with pytest.raises(targets.UnreadableRecord) as missing:
        validator.validate({"email": "secret.person@example.com"})
    assert str(missing.value) == "the record lacks a required field ('id' is a required property)"
    with pytest.raises(targets.UnreadableRecord) as wrong:
        validator.validate({"id": "secret.person@example.com"})
    assert str(wrong.value) == "id does not match the stream's schema (type)"
    assert missing.value.__cause__ is None


def test_httpcore_never_logs_headers_at_debug_level() -> None:
    import target_personio.client  # noqa: F401
    import target_staffomatic.client  # noqa: F401

    assert logging.getLogger("httpcore").getEffectiveLevel() > logging.DEBUG


def test_target_staffomatic_does_not_repeat_a_create_answered_5xx_but_repeats_the_rest() -> None:
    import httpx
    from target_staffomatic.client import RejectedError, StaffomaticClient

    calls: list[str] = []
    answers = {"POST": [502], "PUT": [502, 200], "GET": [429, 200]}

    def handle(request: httpx.Request) -> httpx.Response:
        calls.append(request.method)
        status = answers[request.method].pop(0)
        return httpx.Response(status, json={"id": 1} if status == 200 else {"error": "x"})

    api = StaffomaticClient(
        "https://api.example/v3",
        "demo",
        api_token="t0ken-for-tests",
        transport=httpx.MockTransport(handle),
        sleep=lambda _: None,
    )
    with api:
        with pytest.raises(RejectedError, match="may or may not have been applied"):
            api.request("POST", "/locations/1/absences.json", json={})
        assert api.request("PUT", "/absences/1.json", json={"do": "approve"}) == {"id": 1}
        assert api.get("/account.json") == {"id": 1}
    assert calls == ["POST", "PUT", "PUT", "GET", "GET"]
