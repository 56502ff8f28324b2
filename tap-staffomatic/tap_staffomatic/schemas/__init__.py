"""The schemas of the streams, written after Staffomatic's v3 documentation and recorded responses.

Timestamps are kept exactly as Staffomatic sends them: ISO 8601 with the offset of the account's
time zone (``2024-03-31T01:30:00+01:00``). Durations are whole seconds.
"""

from __future__ import annotations

from singer_sdk import typing as th

_ID = th.IntegerType
_TIMESTAMPS = (
    th.Property("created_at", th.DateTimeType, description="When Staffomatic created the record"),
    th.Property("updated_at", th.DateTimeType, description="When the record last changed"),
)

ACCOUNT = th.PropertiesList(
    th.Property("id", _ID, required=True),
    th.Property("name", th.StringType),
    th.Property("subdomain", th.StringType, description="The `account` setting"),
    th.Property("domain", th.StringType),
    th.Property("url", th.StringType),
    th.Property(
        "time_zone",
        th.StringType,
        description="IANA time zone of the account; every timestamp carries its offset",
    ),
    th.Property("locale", th.StringType),
    th.Property("date_format", th.StringType),
    th.Property("format_24_hour_time", th.BooleanType),
    th.Property("first_day_of_week", th.IntegerType),
    th.Property("locations_count", th.IntegerType),
    th.Property("active_users_count", th.IntegerType),
    th.Property("account_owner_id", th.IntegerType),
    *_TIMESTAMPS,
)

LOCATIONS = th.PropertiesList(
    th.Property("id", _ID, required=True),
    th.Property("name", th.StringType),
    th.Property("logo", th.StringType),
    th.Property("first_day_of_week", th.IntegerType),
    th.Property("slot_minutes", th.IntegerType),
    th.Property("min_time", th.IntegerType),
    th.Property("max_time", th.IntegerType),
    th.Property("default_view", th.StringType),
    th.Property("default_event_minutes", th.IntegerType),
    th.Property("show_event_header", th.BooleanType),
    th.Property("applications_visible", th.BooleanType),
    th.Property("assignments_visible", th.BooleanType),
    th.Property("allow_self_assign", th.BooleanType),
    th.Property("swap_shifts", th.BooleanType),
    th.Property("notes_visible", th.BooleanType),
    th.Property("manners_address", th.StringType),
    th.Property("users_sort_by", th.StringType),
    th.Property("active_users_count", th.IntegerType),
    th.Property("department_count", th.IntegerType),
    th.Property("user_ids", th.ArrayType(th.IntegerType)),
    *_TIMESTAMPS,
)

DEPARTMENTS = th.PropertiesList(
    th.Property("id", _ID, required=True),
    th.Property("name", th.StringType),
    th.Property("color", th.StringType),
    th.Property("location_id", th.IntegerType, description="The location the department is in"),
    th.Property("position", th.IntegerType),
    th.Property("creator_id", th.IntegerType),
    th.Property("user_ids", th.ArrayType(th.IntegerType)),
    *_TIMESTAMPS,
)

USERS = th.PropertiesList(
    th.Property("id", _ID, required=True),
    th.Property("email", th.StringType, description="May be empty: Staffomatic users need none"),
    th.Property("first_name", th.StringType),
    th.Property("last_name", th.StringType),
    th.Property(
        "custom_id",
        th.StringType,
        description="Free external id; the sync keeps the Personio employee id here",
    ),
    th.Property("role", th.StringType, description="admin, manager or staff"),
    th.Property("locale", th.StringType),
    th.Property("image", th.StringType),
    th.Property("phone_number_mobile", th.StringType),
    th.Property("phone_number_office", th.StringType),
    th.Property("company", th.StringType),
    th.Property("street", th.StringType),
    th.Property("additional_street", th.StringType),
    th.Property("zip", th.StringType),
    th.Property("city", th.StringType),
    th.Property("country", th.StringType),
    th.Property("max_vacation_days", th.NumberType),
    th.Property("max_hours_per_month", th.NumberType),
    th.Property("approved_absences_hours", th.NumberType),
    th.Property("department_ids", th.ArrayType(th.IntegerType)),
    th.Property(
        "location_ids",
        th.ArrayType(th.IntegerType),
        description="Locations of the user's departments (and locations listing the user)",
    ),
    th.Property("locked_at", th.DateTimeType, description="Set while the user is locked"),
    th.Property("invited_by_id", th.IntegerType),
    th.Property("invitation_state", th.StringType),
    *_TIMESTAMPS,
)

ABSENCE_TYPES = th.PropertiesList(
    th.Property("id", _ID, required=True),
    th.Property("name", th.StringType),
    th.Property("color", th.StringType),
    th.Property("visibility", th.StringType, description="staff or schedulers"),
    th.Property("user_selectable", th.BooleanType),
    th.Property("include_weekends", th.BooleanType),
    th.Property("location_id", th.IntegerType, description="Absence types belong to a location"),
    *_TIMESTAMPS,
)

ABSENCES = th.PropertiesList(
    th.Property("id", _ID, required=True),
    th.Property("user_id", th.IntegerType, description="The absent user (Staffomatic's applicant)"),
    th.Property("applicant_id", th.IntegerType),
    th.Property("handler_id", th.IntegerType, description="Who approved or declined it"),
    th.Property("last_updated_by_id", th.IntegerType),
    th.Property("location_id", th.IntegerType),
    th.Property("absence_type_id", th.IntegerType),
    th.Property("absence_type_name", th.StringType),
    th.Property("starts_at", th.DateTimeType),
    th.Property("ends_at", th.DateTimeType),
    th.Property(
        "all_day",
        th.BooleanType,
        description="Whole days: Staffomatic sets 00:00:00 to 23:59:59 local time",
    ),
    th.Property("include_weekends", th.BooleanType),
    th.Property("adjusted_duration", th.IntegerType, description="Counted length in seconds"),
    th.Property("paid", th.BooleanType),
    th.Property("vacation", th.BooleanType),
    th.Property("state", th.StringType, description="new, approved or declined"),
    th.Property("processed_at", th.DateTimeType),
    th.Property("justification", th.StringType),
    *_TIMESTAMPS,
)

BREAK = th.ObjectType(
    th.Property("id", th.IntegerType),
    th.Property("starts_at", th.DateTimeType),
    th.Property("ends_at", th.DateTimeType, description="Empty while the break runs"),
    th.Property("duration", th.IntegerType, description="Seconds"),
)

WORK_TIMERS = th.PropertiesList(
    th.Property("id", _ID, required=True),
    th.Property("user_id", th.IntegerType),
    th.Property(
        "user_custom_id",
        th.StringType,
        description="The user's custom_id (the Personio employee id); read only when selected",
    ),
    th.Property(
        "user_email", th.StringType, description="The user's e-mail; read only when selected"
    ),
    th.Property("location_id", th.IntegerType),
    th.Property("state", th.StringType, description="running, stopped or verified"),
    th.Property("starts_at", th.DateTimeType),
    th.Property("ends_at", th.DateTimeType, description="Empty while the timer runs"),
    th.Property("duration", th.IntegerType, description="Gross seconds"),
    th.Property("break_duration", th.IntegerType, description="Seconds of breaks"),
    th.Property("net_duration", th.IntegerType, description="Seconds worked without breaks"),
    th.Property(
        "breaks", th.ArrayType(BREAK), description="The timer's break timers, by start time"
    ),
    th.Property("work_report_id", th.IntegerType),
    th.Property("application_id", th.IntegerType, description="The planned shift it is linked to"),
    th.Property("application_starts_at", th.DateTimeType),
    th.Property("application_ends_at", th.DateTimeType),
    th.Property("application_intermission", th.IntegerType),
    th.Property("device_type", th.StringType),
    th.Property("created_by_id", th.IntegerType),
    th.Property("updated_by_id", th.IntegerType),
    *_TIMESTAMPS,
)
