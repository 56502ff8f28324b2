"""Staffomatic accepts HTTP Basic with a user's e-mail and password, or a Bearer access token."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from singer_sdk.authenticators import (
    APIAuthenticatorBase,
    BasicAuthenticator,
    BearerTokenAuthenticator,
)


def make_authenticator(config: Mapping[str, Any]) -> APIAuthenticatorBase:
    """Bearer when ``api_token`` is set, else Basic with ``email`` and ``password``.

    The settings were checked when the tap started (see ``TapStaffomatic``), so one of the two
    is complete here.
    """
    if config.get("api_token"):
        return BearerTokenAuthenticator(token=config["api_token"])
    return BasicAuthenticator(username=config["email"], password=config["password"])
