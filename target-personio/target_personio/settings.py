"""The target's settings, declared once: the JSON schema (types, defaults, ranges) and the typed
:class:`Settings` built from the config the SDK validated against it.

The SDK fills in the schema's defaults when it validates the config; :meth:`Settings.from_config`
takes a value left null from the schema too, so no default is written anywhere else. What the
schema cannot judge alone (the absence source, the base URL, the credentials) is checked by
:meth:`Settings.check`, which stops the run with one sentence.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, fields
from datetime import date
from typing import Any

from singer_sdk import typing as th
from sync_ledger.targets import (
    LOCK_WAIT_SETTING,
    absence_source_problem,
    base_url_problem,
    settings_values,
)
from vendor_http import staffomatic
from vendor_http.personio import DEFAULT_BASE_URL, PersonioProblem
from vendor_http.personio_auth import credentials
from vendor_http.settings import (
    ABSENCE_WINDOW_FUTURE_SETTING,
    ABSENCE_WINDOW_PAST_SETTING,
    RATE_LIMIT_WAIT_SETTING,
)
from vendor_http.timeutil import date_of

from target_personio.client import RunStopped
from target_personio.mapping import OVERNIGHT_FORMS, SPLIT

CONFIG_SCHEMA: dict[str, Any] = th.PropertiesList(
    th.Property("client_id", th.StringType, secret=True, description="Personio API client id."),
    th.Property(
        "client_secret", th.StringType, secret=True, description="Personio API client secret."
    ),
    th.Property(
        "credentials_file",
        th.StringType,
        description="Instead of client_id/client_secret: a JSON file with both keys.",
    ),
    th.Property(
        "base_url",
        th.StringType,
        default=DEFAULT_BASE_URL,
        description="Personio API root; https is required unless it is a loopback address.",
    ),
    th.Property(
        "app_id",
        th.StringType,
        default="TARGET_PERSONIO",
        description="Sent as X-Personio-App-ID on every request (UPPER_SNAKE_CASE).",
    ),
    th.Property(
        "ledger_url",
        th.StringType,
        description="SQLAlchemy URL of the sync ledger (default: sync-ledger.db in the "
        "Meltano project); postgresql+psycopg://... in production.",
        secret=True,  # a PostgreSQL URL holds a password
    ),
    th.Property(
        "dry_run",
        th.BooleanType,
        default=False,
        description="Compute and record the plan, print the summary, write nothing.",
    ),
    th.Property(
        "absence_source",
        th.StringType,
        default="personio",
        description="Which system owns absences: personio (this target ignores absences) "
        "or staffomatic (this target writes them to Personio).",
    ),
    th.Property(
        "only_verified_timers",
        th.BooleanType,
        default=True,
        description="Send only timers a manager verified in Staffomatic.",
    ),
    th.Property(
        "settle_minutes",
        th.IntegerType(minimum=0),
        default=60,
        description="A timer is sent once it has been stopped this long.",
    ),
    th.Property(
        "retry_days",
        th.IntegerType(minimum=0),
        default=7,
        description="Nothing older is written; rejected records are retried this long.",
    ),
    th.Property(
        "only_approved_absences",
        th.BooleanType,
        default=True,
        description="Send only approved absences; false: new ones are sent pending too.",
    ),
    th.Property(
        "absence_type_map",
        th.ObjectType(additional_properties=th.StringType),
        description="Staffomatic absence type name (or id) to Personio absence type name "
        "(or id), for types whose names differ.",
    ),
    ABSENCE_WINDOW_PAST_SETTING,
    ABSENCE_WINDOW_FUTURE_SETTING,
    th.Property(
        "time_zone",
        th.StringType,
        description="Company time zone (IANA name); default: the Staffomatic account's.",
    ),
    th.Property(
        "skip_approval",
        th.BooleanType,
        default=True,
        description="Create periods approved in Personio (the data was approved in "
        "Staffomatic); false leaves them for approval in Personio.",
    ),
    th.Property(
        "overnight_periods",
        th.StringType,
        default=SPLIT,
        description="split: attendance periods are cut at local midnight (valid for every "
        "Personio account); whole: a night shift is sent as one period (only for accounts with "
        "overnight time tracking turned on).",
    ),
    LOCK_WAIT_SETTING,
    RATE_LIMIT_WAIT_SETTING,
    th.Property(
        "max_parallel_writes",
        th.IntegerType(minimum=1),
        default=1,
        description="Write requests in flight at once, for different people (always within "
        "the rate limits).",
    ),
    th.Property(
        "start_date",
        th.DateTimeType,
        description="Nothing that starts before this date is written.",
    ),
    th.Property(
        "source_account",
        th.StringType,
        description="Staffomatic account, only to confirm by one read that a timer or absence "
        "which vanished (or is no longer eligible) really is before its Personio periods are "
        "deleted; without it and a credential nothing is deleted for such a record.",
    ),
    th.Property("source_email", th.EmailType, description="E-mail of that Staffomatic API user."),
    th.Property("source_password", th.StringType, secret=True, description="Its password."),
    th.Property(
        "source_api_token",
        th.StringType,
        secret=True,
        description="Staffomatic token (Bearer), instead of source_email and source_password.",
    ),
    th.Property(
        "source_base_url",
        th.StringType,
        default=staffomatic.DEFAULT_BASE_URL,
        description="Staffomatic API root ending in /v3 for those reads; https except on loopback.",
    ),
).to_dict()


@dataclass(frozen=True)
class Settings:
    """Every setting of the target, typed (see :data:`CONFIG_SCHEMA` for what each means)."""

    client_id: str | None
    client_secret: str | None
    credentials_file: str | None
    base_url: str
    app_id: str
    ledger_url: str | None
    dry_run: bool
    absence_source: str
    only_verified_timers: bool
    settle_minutes: int
    retry_days: int
    only_approved_absences: bool
    absence_type_map: Mapping[str, str]
    absence_window_past_days: int
    absence_window_future_days: int
    time_zone: str | None
    skip_approval: bool
    overnight_periods: str
    max_parallel_writes: int
    lock_wait_seconds: int
    rate_limit_wait_seconds: int
    start_date: date | None
    source_account: str | None
    source_email: str | None
    source_password: str | None
    source_api_token: str | None
    source_base_url: str

    @classmethod
    def from_config(cls, config: Mapping[str, Any]) -> Settings:
        """The settings of a config the SDK validated (a null value takes the schema's default)."""
        names = [item.name for item in fields(cls)]
        return cls(**settings_values(names, CONFIG_SCHEMA, config, _typed))

    @property
    def syncs_absences(self) -> bool:
        """Whether Staffomatic is the master of absences (this target writes them)."""
        return self.absence_source == "staffomatic"

    def check(self) -> None:
        """Stop at once, with one sentence, on a setting that cannot work."""
        problem = absence_source_problem({"absence_source": self.absence_source})
        problem = problem or base_url_problem(self.base_url, DEFAULT_BASE_URL)
        problem = problem or overnight_problem(self.overnight_periods)
        problem = problem or base_url_problem(
            self.source_base_url, staffomatic.DEFAULT_BASE_URL, "source_base_url"
        )
        if problem:
            raise RunStopped(problem)
        self.credentials()

    def credentials(self) -> tuple[str, str]:
        """client_id and client_secret from the settings or from ``credentials_file``."""
        try:
            found = credentials(self.client_id, self.client_secret, self.credentials_file)
        except PersonioProblem as exc:
            raise RunStopped(str(exc)) from None
        if found is None:
            raise RunStopped(
                "Personio credentials are missing: set client_id and client_secret, or "
                "credentials_file pointing at a JSON file holding both."
            )
        return found

    @property
    def has_source(self) -> bool:
        """Whether a Staffomatic account and credential are set for confirmation reads."""
        return bool(
            self.source_account
            and (self.source_api_token or (self.source_email and self.source_password))
        )


def overnight_problem(value: str) -> str | None:
    """The sentence for a wrong ``overnight_periods``, or None when it is right."""
    if value in OVERNIGHT_FORMS:
        return None
    return (
        f"overnight_periods is {value!r}; set it to split (periods cut at midnight, valid for "
        "every Personio account) or whole (only with overnight time tracking turned on)."
    )


def _typed(name: str, value: Any) -> Any:
    if name == "absence_type_map":
        return {str(k): str(v) for k, v in (value or {}).items()}
    if name == "start_date":
        return date_of(value)
    if name in ("base_url", "app_id", "absence_source", "overnight_periods", "source_base_url"):
        return str(value)
    return value
