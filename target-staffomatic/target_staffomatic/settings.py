"""The target's settings, declared once: the JSON schema (types, defaults, enums and ranges)
and the typed :class:`Settings` built from the config the SDK validated against it.

The SDK fills in the schema's defaults when it validates the config; :meth:`Settings.from_config`
takes a value left null from the schema too, so no default is written anywhere else.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, fields
from datetime import date
from typing import Any
from zoneinfo import ZoneInfo

from singer_sdk import typing as th
from sync_ledger.targets import (
    LOCK_WAIT_SETTING,
    absence_source_problem,
    base_url_problem,
    settings_values,
)
from vendor_http import personio
from vendor_http.personio_auth import credentials
from vendor_http.settings import (
    ABSENCE_WINDOW_FUTURE_SETTING,
    ABSENCE_WINDOW_PAST_SETTING,
    RATE_LIMIT_WAIT_SETTING,
)

from target_staffomatic.rules import DEPARTMENT_SOURCES, SYNC_FIELDS, Rules

DEFAULT_BASE_URL = "https://api.staffomaticapp.com/v3"
MAP = th.ObjectType(additional_properties=th.CustomType({"type": ["integer", "string"]}))


class StopRun(Exception):
    """A problem a person must fix (settings, credentials, Staffomatic unreachable)."""


def _setting(name: str, kind: Any, description: str, **kwargs: Any) -> th.Property[Any]:
    return th.Property(name, kind, description=description, **kwargs)


CONFIG_SCHEMA: dict[str, Any] = th.PropertiesList(
    _setting("account", th.StringType, "Staffomatic account subdomain.", required=True),
    _setting("email", th.EmailType, "E-mail of the Staffomatic API user (Basic auth)."),
    _setting("password", th.StringType, "Password of that user.", secret=True),
    _setting(
        "api_token",
        th.StringType,
        "Staffomatic token (Bearer), instead of e-mail and password.",
        secret=True,
    ),
    _setting(
        "base_url",
        th.StringType,
        "API root ending in /v3; https except on loopback.",
        default=DEFAULT_BASE_URL,
    ),
    _setting(
        "user_agent",
        th.StringType,
        "'AppName (contact e-mail)'; default: target-staffomatic (<email>).",
    ),
    _setting(
        "ledger_url",
        th.StringType,
        "SQLAlchemy URL of the sync ledger; default: sync-ledger.db in the Meltano project.",
        secret=True,  # a PostgreSQL URL holds a password
    ),
    _setting(
        "dry_run", th.BooleanType, "Plan and record everything, write nothing.", default=False
    ),
    _setting(
        "absence_source",
        th.StringType,
        "Master of absences: personio (synced here) or staffomatic (ignored here).",
        default="personio",
    ),
    _setting("invite_users", th.BooleanType, "Invite users when they are created.", default=False),
    _setting(
        "create_users_without_email",
        th.BooleanType,
        "Create users for employees without e-mail (linked by custom_id, never invited).",
        default=False,
    ),
    _setting(
        "lock_before_hire_date",
        th.BooleanType,
        "Keep users locked until their hire date.",
        default=True,
    ),
    _setting(
        "lock_after_last_day",
        th.BooleanType,
        "Lock users after their last working day or when inactive.",
        default=True,
    ),
    _setting(
        "mirror_absence_approval",
        th.BooleanType,
        "Approve absences approved in Personio (else they stay new).",
        default=True,
    ),
    _setting("location_map", MAP, "Personio office name -> Staffomatic location id or name."),
    _setting("default_location_id", th.IntegerType, "Location for offices that match none."),
    _setting("department_map", MAP, "Personio department/team name -> department id or name."),
    _setting(
        "department_source",
        th.StringType,
        "User department from: department or team.",
        default="department",
        allowed_values=list(DEPARTMENT_SOURCES),
    ),
    _setting(
        "sync_fields",
        th.ArrayType(th.StringType(allowed_values=list(SYNC_FIELDS))),
        "Optional owned fields: max_vacation_days, max_hours_per_month, departments.",
        default=list(SYNC_FIELDS),
    ),
    _setting("absence_type_map", MAP, "Personio absence type name -> Staffomatic type name or id."),
    _setting(
        "create_missing_absence_types",
        th.BooleanType,
        "Create missing absence types instead of holding their absences back.",
        default=False,
    ),
    _setting("time_zone", th.StringType, "IANA time zone; default: the Staffomatic account's."),
    ABSENCE_WINDOW_PAST_SETTING,
    ABSENCE_WINDOW_FUTURE_SETTING,
    _setting(
        "retry_days",
        th.IntegerType(minimum=0),
        "Days a rejected record is retried before giving up.",
        default=7,
    ),
    LOCK_WAIT_SETTING,
    RATE_LIMIT_WAIT_SETTING,
    _setting(
        "max_parallel_writes",
        th.IntegerType(minimum=1),
        "Write requests in flight at once.",
        default=4,
    ),
    _setting(
        "source_client_id",
        th.StringType,
        "Personio API client id, only to confirm by one read that an absence which vanished "
        "from Personio is gone before its Staffomatic copy is deleted; without it nothing is "
        "deleted for a vanished absence.",
    ),
    _setting("source_client_secret", th.StringType, "Its Personio client secret.", secret=True),
    _setting(
        "source_credentials_file",
        th.StringType,
        "Instead of the two: a JSON file with client_id and client_secret.",
    ),
    _setting(
        "source_base_url",
        th.StringType,
        "Personio API root for those reads; https except on loopback.",
        default=personio.DEFAULT_BASE_URL,
    ),
).to_dict()


@dataclass(frozen=True)
class Settings:
    """Every setting of the target, typed (see :data:`CONFIG_SCHEMA` for what each means)."""

    account: str
    email: str | None
    password: str | None
    api_token: str | None
    base_url: str
    user_agent: str | None
    ledger_url: str | None
    dry_run: bool
    absence_source: str
    invite_users: bool
    create_users_without_email: bool
    lock_before_hire_date: bool
    lock_after_last_day: bool
    mirror_absence_approval: bool
    location_map: Mapping[str, int | str]
    default_location_id: int | None
    department_map: Mapping[str, int | str]
    department_source: str
    sync_fields: frozenset[str]
    absence_type_map: Mapping[str, int | str]
    create_missing_absence_types: bool
    time_zone: str | None
    absence_window_past_days: int
    absence_window_future_days: int
    retry_days: int
    max_parallel_writes: int
    lock_wait_seconds: int
    rate_limit_wait_seconds: int
    source_client_id: str | None
    source_client_secret: str | None
    source_credentials_file: str | None
    source_base_url: str

    @classmethod
    def from_config(cls, config: Mapping[str, Any]) -> Settings:
        """The settings of a config the SDK validated (a null value takes the schema's default)."""
        names = [item.name for item in fields(cls)]
        return cls(**settings_values(names, CONFIG_SCHEMA, config, _typed))

    def check(self) -> None:
        """Stop with one sentence for a setting the schema cannot judge alone."""
        problem = absence_source_problem({"absence_source": self.absence_source})
        if problem:
            raise StopRun(problem)
        if not self.api_token and not (self.email and self.password):
            raise StopRun(
                "Staffomatic credentials are missing: set api_token, or email and password, of "
                "the Staffomatic API user."
            )
        problem = base_url_problem(self.base_url, DEFAULT_BASE_URL) or base_url_problem(
            self.source_base_url, personio.DEFAULT_BASE_URL, "source_base_url"
        )
        if problem:
            raise StopRun(problem)
        self.source_credentials()
        if self.time_zone:
            self.zone(self.time_zone)

    def source_credentials(self) -> tuple[str, str] | None:
        """The Personio credential for confirmation reads, or None when none is set."""
        try:
            return credentials(
                self.source_client_id,
                self.source_client_secret,
                self.source_credentials_file,
                setting="source_credentials_file",
            )
        except personio.PersonioProblem as exc:
            raise StopRun(str(exc)) from None

    @staticmethod
    def zone(name: str) -> ZoneInfo:
        try:
            return ZoneInfo(name)
        except (ValueError, KeyError):
            raise StopRun(
                f"time_zone '{name}' is not a known IANA time zone: use e.g. Europe/Berlin."
            ) from None

    @property
    def agent(self) -> str:
        """The User-Agent header (Staffomatic asks for a name and a contact)."""
        if self.user_agent:
            return self.user_agent
        return f"target-staffomatic ({self.email})" if self.email else "target-staffomatic"

    def rules(self, zone: ZoneInfo, today: date) -> Rules:
        """What the sync rules need of these settings: each field of :class:`Rules` of the same
        name, plus the company time zone and today's date."""
        given: dict[str, Any] = {"time_zone": zone, "today": today}
        named = {f.name: getattr(self, f.name) for f in fields(Rules) if f.name not in given}
        return Rules(**given, **named)


def _typed(name: str, value: Any) -> Any:
    if name == "sync_fields":
        return frozenset(value or ())
    if name.endswith("_map"):
        return dict(value or {})
    if name in ("account", "base_url", "absence_source", "department_source", "source_base_url"):
        return str(value)
    if name == "default_location_id":
        return None if value is None else int(value)
    return value
