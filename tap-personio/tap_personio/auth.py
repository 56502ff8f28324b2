"""Personio access tokens: one per API generation, fetched once and reused until they expire.

v1 endpoints take a token from ``POST /v1/auth`` (JSON body), v2 endpoints one from
``POST /v2/auth/token`` (OAuth2 client credentials, form body). Both live 24 hours. A 401 or 403
from an endpoint makes the stream call :meth:`PersonioAuthenticator.renew` once; a second
rejection right after a fresh token means the credential itself is refused.
"""

from __future__ import annotations

import threading
import time
from typing import Any, Literal

import requests
import urllib3
from singer_sdk.authenticators import APIAuthenticatorBase
from typing_extensions import override

from tap_personio.errors import PersonioError

Generation = Literal["v1", "v2"]

APP_ID_HEADER = "X-Personio-App-ID"
EXPIRY_MARGIN_SECONDS = 300
"""A token is replaced this long before Personio says it expires."""
DEFAULT_LIFETIME_SECONDS = 86400
AUTH_ATTEMPTS = 8
"""Tries of a token request answered 429 or 5xx."""
CONNECT_ATTEMPTS = 3
"""Tries of a token request that found no server (refused, unknown host)."""
TIMEOUT_SECONDS = 60
CREDENTIAL_HELP = (
    "check client_id and client_secret (Personio: Settings > Integrations > API credentials)"
)

_sleep = time.sleep  # replaced in tests


class PersonioAuthenticator(APIAuthenticatorBase):
    """Adds ``Authorization: Bearer <token>`` for one API generation, fetching the token lazily."""

    def __init__(
        self,
        *,
        generation: Generation,
        base_url: str,
        client_id: str,
        client_secret: str,
        app_id: str,
        session: requests.Session | None = None,
    ) -> None:
        super().__init__()
        self.generation = generation
        self.base_url = base_url.rstrip("/")
        self._client_id = client_id
        self._client_secret = client_secret
        self.app_id = app_id
        self.session = session or requests.Session()
        self._token: str | None = None
        self._expires_at = 0.0
        self._renewed = False
        self._lock = threading.Lock()
        self.fetch_count = 0

    @property
    def token_url(self) -> str:
        path = "/v1/auth" if self.generation == "v1" else "/v2/auth/token"
        return f"{self.base_url}{path}"

    @property
    def token(self) -> str:
        """A valid token, fetched when there is none or the cached one is about to expire."""
        with self._lock:
            if self._token is None or time.monotonic() >= self._expires_at:
                self._token, lifetime = self._fetch()
                self._expires_at = time.monotonic() + max(0, lifetime - EXPIRY_MARGIN_SECONDS)
            return self._token

    @override
    def authenticate_request(self, request: requests.PreparedRequest) -> requests.PreparedRequest:
        request.headers["Authorization"] = f"Bearer {self.token}"
        request.headers[APP_ID_HEADER] = self.app_id
        return request

    def renew(self, rejected_header: str | None) -> bool:
        """Drop the token an endpoint rejected; False if it was already a renewed one."""
        with self._lock:
            if self._token is not None and rejected_header != f"Bearer {self._token}":
                return True  # another request already replaced it
            if self._renewed:
                return False
            self._token = None
            self._renewed = True
            return True

    def accepted(self) -> None:
        """An endpoint accepted the current token: a later rejection may renew it again."""
        self._renewed = False

    def _fetch(self) -> tuple[str, float]:
        for attempt in range(1, AUTH_ATTEMPTS + 1):
            try:
                response = self._post()
            except requests.exceptions.RequestException as exc:
                if attempt >= (CONNECT_ATTEMPTS if _no_server(exc) else AUTH_ATTEMPTS):
                    raise PersonioError(
                        f"Cannot reach Personio at {self.base_url} ({type(exc).__name__}): "
                        "check the base_url setting and the network connection."
                    ) from None
                _sleep(0.5 * attempt)
                continue
            status = response.status_code
            if status == 429 or status >= 500:
                if attempt == AUTH_ATTEMPTS:
                    raise PersonioError(
                        f"Personio's {self.generation} authentication endpoint kept failing "
                        f"with HTTP {status}; try again later."
                    )
                _sleep(_retry_after(response, default=2 ** (attempt - 1)))
                continue
            if status in (400, 401, 403, 404, 422):
                raise PersonioError(
                    f"Personio rejected the API credential for the {self.generation} API "
                    f"(HTTP {status}): {CREDENTIAL_HELP}, and that base_url is the Personio API."
                )
            return self._read_token(response)
        raise AssertionError("unreachable")  # pragma: no cover

    def _post(self) -> requests.Response:
        self.fetch_count += 1
        headers = {APP_ID_HEADER: self.app_id, "Accept": "application/json"}
        credentials = {"client_id": self._client_id, "client_secret": self._client_secret}
        if self.generation == "v1":
            return self.session.post(
                self.token_url, json=credentials, headers=headers, timeout=TIMEOUT_SECONDS
            )
        form = {"grant_type": "client_credentials", **credentials}
        return self.session.post(
            self.token_url, data=form, headers=headers, timeout=TIMEOUT_SECONDS
        )

    def _read_token(self, response: requests.Response) -> tuple[str, float]:
        try:
            body: Any = response.json()
            if self.generation == "v1":
                data = body["data"]
                token, lifetime = data["token"], data.get("expires_in")
            else:
                token, lifetime = body["access_token"], body.get("expires_in")
        except (ValueError, KeyError, TypeError):
            raise PersonioError(
                f"The answer of {self.token_url} holds no access token: check that base_url "
                "points at the Personio API (https://api.personio.de)."
            ) from None
        if not isinstance(token, str) or not token:
            raise PersonioError(
                f"The answer of {self.token_url} holds no access token: check that base_url "
                "points at the Personio API (https://api.personio.de)."
            )
        try:
            seconds = float(lifetime) if lifetime is not None else DEFAULT_LIFETIME_SECONDS
        except (TypeError, ValueError):
            seconds = DEFAULT_LIFETIME_SECONDS
        return token, seconds


def _retry_after(response: requests.Response, *, default: float) -> float:
    """Seconds to wait after a 429 or 503: ``Retry-After`` when given, never less than 1."""
    value = response.headers.get("Retry-After")
    try:
        seconds = float(value) if value is not None else default
    except ValueError:
        seconds = default
    return max(1.0, seconds)


def _no_server(exc: requests.exceptions.RequestException) -> bool:
    """True when no server answered at all (refused connection, unknown host)."""
    reason = getattr(exc.args[0], "reason", None) if exc.args else None
    return isinstance(reason, urllib3.exceptions.NewConnectionError)
