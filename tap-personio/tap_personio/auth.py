"""The authenticator of one Personio API generation, on the shared token cache.

Tokens, their lifetime and the renew-once rule are THE Personio policy
(:class:`vendor_http.personio_auth.Tokens`); this class only puts the token on a request the
way the SDK expects, and turns a problem with the credential into the tap's one sentence.
"""

from __future__ import annotations

import requests
from singer_sdk.authenticators import APIAuthenticatorBase
from typing_extensions import override
from vendor_http.personio import APP_ID_HEADER, Generation, PersonioProblem
from vendor_http.personio_auth import Tokens

from tap_personio.errors import PersonioError


class PersonioAuthenticator(APIAuthenticatorBase):
    """Adds ``Authorization: Bearer <token>`` for one API generation, fetching it lazily."""

    def __init__(self, tokens: Tokens, generation: Generation) -> None:
        super().__init__()
        self.tokens = tokens
        self.generation = generation

    @property
    def token(self) -> str:
        """A valid token of this generation (fetched when there is none or it is expiring)."""
        try:
            return self.tokens.token(self.generation)
        except PersonioProblem as exc:
            raise PersonioError(str(exc)) from None

    @override
    def authenticate_request(self, request: requests.PreparedRequest) -> requests.PreparedRequest:
        request.headers["Authorization"] = f"Bearer {self.token}"
        request.headers[APP_ID_HEADER] = self.tokens.app_id
        return request

    def renew(self, rejected_header: str | None) -> bool:
        """Drop the token an endpoint rejected; False if it was already a renewed one."""
        used = (rejected_header or "").removeprefix("Bearer ") or None
        return self.tokens.reject(self.generation, used)

    def accepted(self) -> None:
        """An endpoint accepted the current token: a later rejection may renew it again."""
        self.tokens.accepted(self.generation)
