"""tap-personio: settings, the start-up checks, and the list of streams."""

from __future__ import annotations

import json
from datetime import timedelta
from functools import cached_property
from pathlib import Path
from typing import Any

import requests
from singer_sdk import Stream, Tap
from singer_sdk import typing as th
from typing_extensions import override
from vendor_http.budget import DEFAULT_RATE_LIMIT_WAIT, RATE_LIMIT_SETTING, RateLimitBudget
from vendor_http.pacing import Clocked
from vendor_http.personio import RETRY, VENDOR, PersonioPacing
from vendor_http.personio_auth import Tokens
from vendor_http.settings import (
    ABSENCE_WINDOW_FUTURE_SETTING,
    ABSENCE_WINDOW_PAST_SETTING,
    RATE_LIMIT_WAIT_SETTING,
)
from vendor_http.timeutil import day_window, parse_timestamp, utcnow
from vendor_http.urls import base_url_fault

from tap_personio import by_id, streams
from tap_personio.auth import PersonioAuthenticator
from tap_personio.client import Personio, Window
from tap_personio.employees import columns_for
from tap_personio.errors import PersonioError, guarded

DEFAULT_BASE_URL = "https://api.personio.de"
DEFAULT_APP_ID = "PERSONIO_STAFFOMATIC_SYNC"
REQUIRED_ATTRIBUTES = [
    "email",
    "first_name",
    "last_name",
    "status",
    "hire_date",
    "last_working_day",
    "department",
    "office",
    "subcompany",
    "team",
    "weekly_working_hours",
    "absence_entitlement",
]
ATTRIBUTES_HELP = (
    "allow {it} for the API credential in Personio (Settings > Integrations > API credentials "
    "> your credential > Readable employee attributes) or remove {it} from required_attributes"
)


ID_LIST = th.ArrayType(th.CustomType({"type": ["string", "integer"]}))


class TapPersonio(Clocked, Tap):
    """Reads employees, absence types, absences and attendances from Personio."""

    name = "tap-personio"
    package_name = "tap-personio"

    config_jsonschema = th.PropertiesList(
        th.Property(
            "client_id",
            th.StringType,
            secret=True,  # as in target-personio: half of the credential
            description="Client ID of the Personio API credential.",
        ),
        th.Property(
            "client_secret",
            th.StringType,
            secret=True,
            description="Client secret of the Personio API credential.",
        ),
        th.Property(
            "credentials_file",
            th.StringType,
            description=(
                "Path to a JSON file holding client_id and client_secret, instead of the two "
                "settings."
            ),
        ),
        th.Property(
            "base_url",
            th.StringType,
            default=DEFAULT_BASE_URL,
            description="Personio API address; must be https except on loopback addresses.",
        ),
        th.Property(
            "app_id",
            th.StringType,
            default=DEFAULT_APP_ID,
            description="Sent as X-Personio-App-ID on every request (UPPER_SNAKE_CASE).",
        ),
        th.Property(
            "start_date",
            th.DateTimeType,
            description="Nothing older is read: absences and attendances ending before it are "
            "outside the window.",
        ),
        ABSENCE_WINDOW_PAST_SETTING,
        ABSENCE_WINDOW_FUTURE_SETTING,
        th.Property(
            "lookback_minutes",
            th.IntegerType,
            default=240,
            description="Incremental runs re-read this many minutes before the bookmark.",
        ),
        th.Property(
            "required_attributes",
            th.ArrayType(th.StringType),
            default=REQUIRED_ATTRIBUTES,
            description="Employee attributes the credential must be allowed to read; the tap "
            "stops at start, naming each one missing.",
        ),
        th.Property(
            "window_activate_version",
            th.BooleanType,
            default=False,
            description="On a full read of absences and attendances, send ACTIVATE_VERSION "
            "before the first and after the last record of the window (for targets that remove "
            "what the window no longer holds; SQL loaders would take the window for the whole "
            "table and mark older rows deleted).",
        ),
        th.Property(
            by_id.SETTING,
            th.ObjectType(
                th.Property("employees", ID_LIST),
                th.Property("absences", ID_LIST),
                th.Property("attendances", ID_LIST),
            ),
            description="Read just these records: employee ids, absence period ids and "
            "attendance period ids, each by its own request; streams without ids emit nothing "
            "(absence_types is still read whole). No ACTIVATE_VERSION, no bookmark; a named "
            "record Personio no longer has is sent with _sdc_deleted_at.",
        ),
        RATE_LIMIT_WAIT_SETTING,
    ).to_dict()

    # ---- settings ---------------------------------------------------------------------------

    @cached_property
    def base_url(self) -> str:
        """The validated ``base_url`` without a trailing slash."""
        raw = str(self.config.get("base_url") or DEFAULT_BASE_URL).rstrip("/")
        fault = base_url_fault(raw)
        if fault == "not a URL":
            raise PersonioError(
                f"base_url {raw!r} is not a web address: set it to https://api.personio.de "
                "or leave it out."
            )
        if fault == "plain http":
            raise PersonioError(
                f"base_url {raw!r} uses plain http: use https (plain http is only allowed "
                "for loopback addresses such as http://127.0.0.1)."
            )
        return raw

    @cached_property
    def credentials(self) -> tuple[str, str]:
        """``(client_id, client_secret)`` from the settings or from ``credentials_file``."""
        client_id, secret = self.config.get("client_id"), self.config.get("client_secret")
        path = self.config.get("credentials_file")
        if (not client_id or not secret) and path:
            try:
                document = json.loads(Path(path).expanduser().read_text(encoding="utf-8"))
                client_id, secret = document["client_id"], document["client_secret"]
            except OSError:
                raise PersonioError(
                    f"credentials_file {path} cannot be read: check the path and permissions."
                ) from None
            except (ValueError, KeyError, TypeError):
                raise PersonioError(
                    f"credentials_file {path} is not a JSON object with client_id and "
                    "client_secret: fix the file's content."
                ) from None
        if not client_id or not secret:
            raise PersonioError(
                "No Personio credential is set: set client_id and client_secret (or "
                "credentials_file) to an API credential from Personio's Settings > "
                "Integrations > API credentials."
            )
        return str(client_id), str(secret)

    @cached_property
    def window(self) -> Window:
        """The absence window: whole days from ``past`` days ago to ``future`` days ahead."""
        start_date = parse_timestamp(self.config.get("start_date"))
        start, end = day_window(
            utcnow().date(),
            int(self.config.get("absence_window_past_days", 60)),
            int(self.config.get("absence_window_future_days", 365)),
            not_before=start_date.date() if start_date else None,
        )
        lookback = timedelta(minutes=int(self.config.get("lookback_minutes", 240)))
        return Window(start, end, lookback)

    @cached_property
    def only_ids(self) -> by_id.OnlyIds | None:
        """The records of a "just these records" run; None for a normal run."""
        return by_id.OnlyIds.of(self.config.get(by_id.SETTING))

    # ---- what the streams share -------------------------------------------------------------

    @cached_property
    def personio(self) -> Personio:
        """The Personio policy of this run: pacing, retries, the 429 budget, one token cache."""
        client_id, secret = self.credentials
        pacing = PersonioPacing(clock=self.clock, sleep=self.sleep)
        seconds = self.config.get(RATE_LIMIT_SETTING, DEFAULT_RATE_LIMIT_WAIT)
        budget = RateLimitBudget(seconds, vendor=VENDOR, clock=self.clock)
        tokens = Tokens(
            base_url=self.base_url,
            client_id=client_id,
            client_secret=secret,
            app_id=str(self.config.get("app_id") or DEFAULT_APP_ID),
            post=requests.Session().post,
            pacing=pacing,
            budget=budget,
            retry=RETRY,
        )
        return Personio(
            base_url=self.base_url,
            pacing=pacing,
            retry=RETRY,
            budget=budget,
            authenticators={api: PersonioAuthenticator(tokens, api) for api in ("v1", "v2")},
        )

    @cached_property
    def absence_type_names(self) -> streams.AbsenceTypeNames:
        """Filled by the ``absence_types`` stream when it ran, else read on first use."""
        types_stream = streams.AbsenceTypesStream(self, self.personio)
        return streams.AbsenceTypeNames(
            lambda: guarded(lambda: list(types_stream.request_records(None)))
        )

    # ---- streams ----------------------------------------------------------------------------

    @cached_property
    def readable_attributes(self) -> list[dict[str, Any]]:
        """``/company/employees/attributes``: what the credential may read, custom ones included."""
        stream = streams.EmployeeAttributesStream(self, self.personio)
        return guarded(lambda: list(stream.request_records(context=None)))

    @cached_property
    def employee_sample(self) -> list[dict[str, Any]]:
        """The first page of employees, to tell the types of ``standard`` custom attributes."""
        stream = streams.EmployeeSampleStream(self, self.personio)
        return guarded(lambda: list(stream.request_records(context=None)))

    def check_required_attributes(self) -> None:
        readable: set[str] = set()
        for attribute in self.readable_attributes:
            readable.update(str(attribute[k]) for k in ("key", "universal_id") if attribute.get(k))
        required = self.config.get("required_attributes", REQUIRED_ATTRIBUTES)
        missing = [name for name in required if name not in readable]
        if len(missing) == 1:
            raise PersonioError(
                f"The Personio API credential cannot read the employee attribute {missing[0]}: "
                f"{ATTRIBUTES_HELP.format(it='it')}."
            )
        if missing:
            raise PersonioError(
                "The Personio API credential cannot read the employee attributes "
                f"{', '.join(missing)}: {ATTRIBUTES_HELP.format(it='them')}."
            )

    @override
    def discover_streams(self) -> list[Stream]:
        only = self.only_ids  # a wrong setting stops the tap before any request
        self.check_required_attributes()
        attributes = self.readable_attributes
        untyped = any(
            a.get("type") == "standard" and str(a.get("key")).startswith("dynamic_")
            for a in attributes
        )
        columns = columns_for(attributes, self.employee_sample if untyped else [])
        personio, window, names = self.personio, self.window, self.absence_type_names
        if only is not None:
            employees = by_id.EmployeesById(self, personio, columns, window.lookback)
            absences = by_id.AbsencesById(self, personio, window, names)
            attendances = by_id.AttendancesById(self, personio, window)
            employees.ids, absences.ids = only.employees, only.absences
            attendances.ids = only.attendances
            return [
                employees,
                streams.AbsenceTypesStream(self, personio, names),
                absences,
                attendances,
            ]
        return [
            streams.EmployeesStream(self, personio, columns, window.lookback),
            streams.AbsenceTypesStream(self, personio, names),
            streams.AbsencesStream(self, personio, window, names),
            streams.AttendancesStream(self, personio, window),
        ]

    @override
    def run_discovery(self) -> str:
        try:
            return super().run_discovery()
        except PersonioError as exc:
            self.logger.error("%s", exc)
            raise SystemExit(1) from None
