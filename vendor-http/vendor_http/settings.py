"""Settings all four plugins declare alike, declared once: the 429 wait budget and the window.

Each plugin puts these :class:`~singer_sdk.typing.Property` objects in its ``config_jsonschema``
(and ``meltano.yml`` names them for each plugin). A tap and the target it feeds must read and
write the same absence window, so the two window settings mean the same everywhere.
"""

from __future__ import annotations

from singer_sdk import typing as th

from vendor_http.budget import DEFAULT_RATE_LIMIT_WAIT, RATE_LIMIT_SETTING

RATE_LIMIT_WAIT_SETTING = th.Property(
    RATE_LIMIT_SETTING,
    th.IntegerType(minimum=0),
    default=DEFAULT_RATE_LIMIT_WAIT,
    description="How long one run may wait, all requests together, while the vendor answers "
    "429 (rate limited) before it stops with one sentence (seconds).",
)

ABSENCE_WINDOW_PAST_SETTING = th.Property(
    "absence_window_past_days",
    th.IntegerType(minimum=0),
    default=60,
    description="The absence window starts this many days before today (tap-personio: the "
    "attendance window too); give a tap and its target the same value.",
)

ABSENCE_WINDOW_FUTURE_SETTING = th.Property(
    "absence_window_future_days",
    th.IntegerType(minimum=0),
    default=365,
    description="The absence window ends this many days after today (tap-personio: the "
    "attendance window too); give a tap and its target the same value.",
)

SHARED_SETTINGS = (
    ABSENCE_WINDOW_PAST_SETTING,
    ABSENCE_WINDOW_FUTURE_SETTING,
    RATE_LIMIT_WAIT_SETTING,
)
"""The three, in the order the plugins list them."""
