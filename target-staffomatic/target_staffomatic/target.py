"""target-staffomatic: settings, one sink per tap-personio stream, and the run's lifecycle."""

from __future__ import annotations

from typing import Any, ClassVar
from zoneinfo import ZoneInfo

from singer_sdk import typing as th
from singer_sdk.exceptions import MissingKeyPropertiesError
from singer_sdk.helpers.capabilities import (
    CapabilitiesEnum,
    PluginCapabilities,
    TargetCapabilities,
)
from singer_sdk.sinks import Sink
from sync_ledger import Ledger, LedgerError, default_url
from sync_ledger.targets import (
    SentenceTarget,
    UnreadableRecord,
    absence_source_problem,
    base_url_problem,
)
from typing_extensions import override

from target_staffomatic.client import StaffomaticClient, StaffomaticError
from target_staffomatic.rules import ABSENCE, DEPARTMENT_SOURCES, EMPLOYEE, SYNC_FIELDS
from target_staffomatic.session import Session, StopRun
from target_staffomatic.sinks import (
    NO_KEY,
    AbsencesSink,
    AbsenceTypesSink,
    EmployeesSink,
    IgnoredSink,
)

SYNCED_STREAMS = {"employees": EMPLOYEE, "absences": ABSENCE}
DEFAULT_BASE_URL = "https://api.staffomaticapp.com/v3"
MAP = th.ObjectType(additional_properties=th.CustomType({"type": ["integer", "string"]}))


def _setting(name: str, kind: Any, description: str, **kwargs: Any) -> th.Property[Any]:
    return th.Property(name, kind, description=description, **kwargs)


class TargetStaffomatic(SentenceTarget):
    """Personio employees and absences (from tap-personio) into Staffomatic users and absences."""

    name = "target-staffomatic"
    stop_errors = (StopRun,)

    capabilities: ClassVar[list[CapabilitiesEnum]] = [
        PluginCapabilities.ABOUT,
        PluginCapabilities.STREAM_MAPS,
        PluginCapabilities.FLATTENING,
        PluginCapabilities.STRUCTURED_LOGGING,
        PluginCapabilities.ACTIVATE_VERSION,
        TargetCapabilities.VALIDATE_RECORDS,
    ]

    config_jsonschema = th.PropertiesList(
        _setting("account", th.StringType, "Staffomatic account subdomain.", required=True),
        _setting("email", th.StringType, "E-mail of the Staffomatic API user (Basic auth)."),
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
        _setting(
            "invite_users", th.BooleanType, "Invite users when they are created.", default=False
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
        ),
        _setting(
            "sync_fields",
            th.ArrayType(th.StringType),
            "Optional owned fields: max_vacation_days, max_hours_per_month, departments.",
            default=list(SYNC_FIELDS),
        ),
        _setting(
            "absence_type_map", MAP, "Personio absence type name -> Staffomatic type name or id."
        ),
        _setting(
            "create_missing_absence_types",
            th.BooleanType,
            "Create missing absence types instead of holding their absences back.",
            default=False,
        ),
        _setting("time_zone", th.StringType, "IANA time zone; default: the Staffomatic account's."),
        _setting(
            "absence_window_past_days",
            th.IntegerType,
            "Days before today in the absence window (as in tap-personio).",
            default=60,
        ),
        _setting(
            "absence_window_future_days",
            th.IntegerType,
            "Days after today in the absence window (as in tap-personio).",
            default=365,
        ),
        _setting(
            "retry_days",
            th.IntegerType,
            "Days a rejected record is retried before giving up.",
            default=7,
        ),
        _setting(
            "max_parallel_writes", th.IntegerType, "Write requests in flight at once.", default=4
        ),
    ).to_dict()

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.max_parallelism = 1  # sinks share one session, client and ledger
        self._session: Session | None = None
        check_settings(self.config)

    @override
    def get_sink_class(self, stream_name: str) -> type[Sink]:
        return {
            "employees": EmployeesSink,
            "absences": AbsencesSink,
            "absence_types": AbsenceTypesSink,
        }.get(stream_name, IgnoredSink)

    @property
    def session(self) -> Session:
        """The run's session, opened on first use: ledger, Staffomatic client, look-ups."""
        if self._session is None:
            self._session = open_session(self.config)
        return self._session

    # Every place that may write is guarded so that the ledger run is closed as failed.

    @override
    def _process_record_message(self, message_dict: dict[str, Any]) -> None:
        self._guard(self._read_record, message_dict)

    def _read_record(self, message_dict: dict[str, Any]) -> None:
        """One RECORD; one the SDK cannot read is skipped with its reason, the run goes on."""
        try:
            super()._process_record_message(message_dict)
        except (MissingKeyPropertiesError, UnreadableRecord) as exc:
            entity = SYNCED_STREAMS.get(str(message_dict.get("stream")))
            record = message_dict.get("record")
            reason = str(exc) if isinstance(exc, UnreadableRecord) else NO_KEY
            if entity is None or not isinstance(record, dict):
                raise  # a stream this target does not sync: the SDK's own behaviour
            self.session.skip_unreadable(entity, record, reason)

    @override
    def _process_activate_version_message(self, message_dict: dict[str, Any]) -> None:
        self._guard(super()._process_activate_version_message, message_dict)

    @override
    def process_endofpipe(self) -> None:
        self._guard(super().process_endofpipe)
        if self._session is not None:
            session, self._session = self._session, None
            session.finish("success")

    def _guard(self, call: Any, *args: Any) -> None:
        try:
            call(*args)
        except BaseException:
            if self._session is not None:
                session, self._session = self._session, None
                try:
                    session.finish("failed")
                except Exception:
                    self.logger.warning("Could not close the ledger run after the failure.")
            raise


def check_settings(config: Any) -> None:
    """Stop with one sentence for a setting that cannot work."""
    problem = absence_source_problem(config)
    if problem:
        raise StopRun(problem)
    department_source = config.get("department_source", "department")
    if department_source not in DEPARTMENT_SOURCES:
        raise StopRun(
            f"department_source must be 'department' or 'team', not '{department_source}'."
        )
    unknown = sorted(set(config.get("sync_fields") or []) - set(SYNC_FIELDS))
    if unknown:
        raise StopRun(
            f"sync_fields has unknown field(s) {', '.join(unknown)}: use any of "
            f"{', '.join(SYNC_FIELDS)}."
        )
    if not config.get("api_token") and not (config.get("email") and config.get("password")):
        raise StopRun(
            "Staffomatic credentials are missing: set api_token, or email and password, of the "
            "Staffomatic API user."
        )
    problem = base_url_problem(str(config.get("base_url") or DEFAULT_BASE_URL), DEFAULT_BASE_URL)
    if problem:
        raise StopRun(problem)
    zone = config.get("time_zone")
    if zone:
        try:
            ZoneInfo(str(zone))
        except (ValueError, KeyError):
            raise StopRun(
                f"time_zone '{zone}' is not a known IANA time zone: use e.g. Europe/Berlin."
            ) from None
    for key in ("absence_window_past_days", "absence_window_future_days", "retry_days"):
        if int(config.get(key, 0)) < 0:
            raise StopRun(f"{key} must be 0 or more.")
    if int(config.get("max_parallel_writes", 4)) < 1:
        raise StopRun("max_parallel_writes must be at least 1.")


def open_session(config: Any) -> Session:
    """Connect to the ledger and to Staffomatic and load the look-ups; StopRun if that fails."""
    email = config.get("email")
    agent = config.get("user_agent") or (
        f"target-staffomatic ({email})" if email else "target-staffomatic"
    )
    try:
        ledger = Ledger(config.get("ledger_url") or default_url())
    except LedgerError as exc:
        raise StopRun(str(exc)) from None
    try:
        client = StaffomaticClient(
            str(config.get("base_url") or DEFAULT_BASE_URL),
            str(config["account"]),
            email=email,
            password=config.get("password"),
            api_token=config.get("api_token"),
            user_agent=agent,
        )
    except StaffomaticError as exc:
        ledger.close()
        raise StopRun(str(exc)) from None
    try:
        return Session(config, client, ledger)
    except BaseException:
        client.close()
        ledger.close()
        raise
