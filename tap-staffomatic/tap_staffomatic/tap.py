"""tap-staffomatic: its settings and streams."""

from __future__ import annotations

import sys
from collections.abc import Mapping
from typing import Any

from singer_sdk import Stream, Tap
from singer_sdk import typing as th
from singer_sdk.exceptions import ConfigValidationError
from typing_extensions import override
from vendor_http.budget import DEFAULT_RATE_LIMIT_WAIT, RATE_LIMIT_SETTING, RateLimitBudget
from vendor_http.pacing import Clocked
from vendor_http.settings import (
    ABSENCE_WINDOW_FUTURE_SETTING,
    ABSENCE_WINDOW_PAST_SETTING,
    RATE_LIMIT_WAIT_SETTING,
)
from vendor_http.staffomatic import DEFAULT_BASE_URL, VENDOR, StaffomaticPacer, names_contact
from vendor_http.urls import base_url_fault

from tap_staffomatic.client import StaffomaticError
from tap_staffomatic.run import RunServices
from tap_staffomatic.streams import STREAMS

DEFAULT_USER_AGENT = "tap-staffomatic (no contact address: please set user_agent)"


class TapStaffomatic(Clocked, Tap):
    """Reads users, locations, departments, absence types, absences and work timers."""

    name = "tap-staffomatic"

    config_jsonschema = th.PropertiesList(
        th.Property(
            "account",
            th.StringType,
            required=True,
            description="The account's subdomain: `acme` for acme.staffomaticapp.com",
        ),
        th.Property(
            "email",
            th.EmailType,
            description="E-mail of the Staffomatic user the tap signs in as (HTTP Basic)",
        ),
        th.Property("password", th.StringType, secret=True, description="Password of that user"),
        th.Property(
            "api_token",
            th.StringType,
            secret=True,
            description="An OAuth access token, sent as Bearer; used instead of email/password",
        ),
        th.Property(
            "base_url",
            th.StringType,
            default=DEFAULT_BASE_URL,
            description="The Staffomatic API up to /v3; must be https except on loopback",
        ),
        th.Property(
            "user_agent",
            th.StringType,
            default=DEFAULT_USER_AGENT,
            description="Sent as User-Agent: Staffomatic requires your app's name and a "
            "contact e-mail, e.g. 'Acme HR Sync (it@acme.example)'",
        ),
        th.Property(
            "start_date",
            th.DateTimeType,
            description="Nothing that starts earlier is read (absence and timer windows)",
        ),
        ABSENCE_WINDOW_PAST_SETTING,
        ABSENCE_WINDOW_FUTURE_SETTING,
        th.Property(
            "timer_window_days",
            th.IntegerType(minimum=0),
            default=7,
            description="Work timers of this many last days",
        ),
        th.Property(
            "lookback_minutes",
            th.IntegerType(minimum=0),
            default=240,
            description="Incremental runs re-emit records changed this long before the bookmark",
        ),
        th.Property(
            "window_activate_version",
            th.BooleanType,
            default=False,
            description="On a full read of absences and work timers, send ACTIVATE_VERSION "
            "before the first and after the last record of the window (for targets that remove "
            "what the window no longer holds; SQL loaders would take the window for the whole "
            "table and mark older rows deleted)",
        ),
        RATE_LIMIT_WAIT_SETTING,
    ).to_dict()

    @override
    def discover_streams(self) -> list[Stream]:
        """The streams, each handed what the streams of this run share."""
        pacer = StaffomaticPacer(clock=self.clock, sleep=self.sleep)
        seconds = self.config.get(RATE_LIMIT_SETTING, DEFAULT_RATE_LIMIT_WAIT)
        budget = RateLimitBudget(seconds, vendor=VENDOR, clock=self.clock)
        services = RunServices(self.config, pacer=pacer, budget=budget, sleep=self.sleep)
        return [stream_class(self, services) for stream_class in STREAMS]

    @override
    def _validate_config(self, *, raise_errors: bool = True) -> list[str]:
        problems = settings_problems(self.config)
        if problems and raise_errors:
            raise ConfigValidationError(problems[0], errors=problems)
        errors = super()._validate_config(raise_errors=raise_errors)
        agent = self.config.get("user_agent") or ""
        if raise_errors and not names_contact(agent):
            self.logger.warning(
                "The setting `user_agent` ('%s') has no contact e-mail address: Staffomatic "
                "asks for one, e.g. 'Acme HR Sync (it@acme.example)'.",
                agent,
            )
        return problems + errors

    @classmethod
    @override
    def invoke(cls, **kwargs: Any) -> None:
        """The command line: a failure a person must fix ends with its one sentence, exit 1."""
        try:
            super().invoke(**kwargs)
        except StaffomaticError as exc:
            cls.logger.error("%s", exc)
            sys.exit(1)


def settings_problems(config: Mapping[str, Any]) -> list[str]:
    """One sentence for each setting that is missing or wrong, saying how to fix it."""
    problems = []
    if not str(config.get("account") or "").strip():
        problems.append(
            "The setting `account` is missing: set it to your Staffomatic subdomain, "
            "e.g. `acme` for acme.staffomaticapp.com."
        )
    email, password = config.get("email"), config.get("password")
    if not config.get("api_token"):
        if not email and not password:
            problems.append(
                "No Staffomatic credentials are set: set `email` and `password` of the API "
                "user, or `api_token`."
            )
        elif not password:
            problems.append(
                "The setting `password` is missing: set it together with `email`, or set "
                "`api_token` instead."
            )
        elif not email:
            problems.append(
                "The setting `email` is missing: set it together with `password`, or set "
                "`api_token` instead."
            )
    base_url = config.get("base_url") or DEFAULT_BASE_URL
    fault = base_url_fault(base_url)
    if fault == "not a URL":
        problems.append(
            f"The setting `base_url` ('{base_url}') is not a URL: use "
            f"{DEFAULT_BASE_URL} or leave it unset."
        )
    elif fault == "plain http":
        problems.append(
            f"The setting `base_url` ('{base_url}') must use https: plain http is only "
            "allowed for loopback addresses such as 127.0.0.1."
        )
    return problems


if __name__ == "__main__":
    TapStaffomatic.cli()
