"""The tap's authenticator: THE Staffomatic ``Authorization`` header, for every stream of a run."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from singer_sdk.authenticators import APIAuthenticatorBase
from vendor_http.staffomatic import authorization


class StaffomaticAuthenticator(APIAuthenticatorBase):
    """Bearer when ``api_token`` is set, else Basic with ``email`` and ``password``.

    The settings were checked when the tap started (see ``TapStaffomatic``), so one of the two
    is complete here.
    """

    def __init__(self, config: Mapping[str, Any]) -> None:
        super().__init__()
        self.auth_headers["Authorization"] = authorization(
            email=config.get("email"),
            password=config.get("password"),
            api_token=config.get("api_token"),
        )
