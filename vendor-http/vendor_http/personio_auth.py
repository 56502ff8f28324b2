"""Personio access tokens: one per API generation, fetched once and reused until they expire.

v1 endpoints take a token from ``POST /v1/auth`` (JSON body), v2 endpoints one from
``POST /v2/auth/token`` (OAuth2 client credentials, form body). Both live 24 hours and may be
used in parallel. When an endpoint rejects a token (401 or 403) the caller calls
:meth:`Tokens.reject`: the token is dropped and fetched again once; a rejection right after a
fresh token means the credential itself is refused. Token requests are paced and retried like
every other request. The transport is the caller's (``requests.Session.post`` in the tap,
``httpx.Client.post`` in the target), so each plugin's test doubles see the token calls too.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from vendor_http.budget import RateLimitBudget
from vendor_http.personio import (
    APP_ID_HEADER,
    RETRY,
    CredentialRejected,
    Generation,
    PersonioPacing,
    PersonioProblem,
    error_text,
    gave_up,
    retry_after,
)
from vendor_http.retry import Reply, RetriesExhausted, RetryPolicy, send_with_retries

Post = Callable[..., Reply]
"""``post(url, *, json=..., data=..., headers=..., timeout=...)``."""

TOKEN_PATHS: dict[Generation, str] = {"v1": "/v1/auth", "v2": "/v2/auth/token"}
EXPIRY_MARGIN_SECONDS = 300.0
"""A token is replaced this long before Personio says it expires (or at half its life)."""
DEFAULT_LIFETIME_SECONDS = 86400.0
TIMEOUT_SECONDS = 60.0


def credentials(
    client_id: str | None,
    client_secret: str | None,
    path: str | None,
    *,
    setting: str = "credentials_file",
) -> tuple[str, str] | None:
    """``(client_id, client_secret)`` from the two settings, else from the JSON file at
    ``path`` (named ``setting`` in the sentence when it cannot be read); None when neither
    gives both."""
    if path and not (client_id and client_secret):
        try:
            data = json.loads(Path(path).expanduser().read_text(encoding="utf-8"))
        except (OSError, ValueError) as exc:
            raise PersonioProblem(
                f"The {setting} {path} cannot be read ({type(exc).__name__}); point it at a "
                'JSON file with "client_id" and "client_secret".'
            ) from None
        if not isinstance(data, dict):
            data = {}
        client_id = client_id or data.get("client_id")
        client_secret = client_secret or data.get("client_secret")
    if not client_id or not client_secret:
        return None
    return str(client_id), str(client_secret)


@dataclass
class _Cached:
    value: str | None = None
    expires_at: float = 0.0
    renewed: bool = False
    lock: threading.Lock = field(default_factory=threading.Lock)


class Tokens:
    """The token cache of one credential, shared by every request of a run."""

    def __init__(
        self,
        *,
        base_url: str,
        client_id: str,
        client_secret: str,
        app_id: str,
        post: Post,
        pacing: PersonioPacing,
        budget: RateLimitBudget,
        retry: RetryPolicy = RETRY,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self.app_id = app_id
        self._credentials = {"client_id": client_id, "client_secret": client_secret}
        self._post = post
        self._pacing = pacing
        self._retry = retry
        self._budget = budget
        self._cache: dict[Generation, _Cached] = {"v1": _Cached(), "v2": _Cached()}
        self.fetch_count = 0

    def token(self, generation: Generation) -> str:
        """A valid token, fetched when there is none or the cached one is about to expire."""
        cached = self._cache[generation]
        with cached.lock:
            if cached.value is None or self._pacing.clock() >= cached.expires_at:
                value, lifetime = self._fetch(generation)
                margin = min(EXPIRY_MARGIN_SECONDS, lifetime / 2)
                cached.value = value
                cached.expires_at = self._pacing.clock() + lifetime - margin
            return cached.value

    def reject(self, generation: Generation, used: str | None) -> bool:
        """An endpoint refused token ``used``: True to retry with a new one, False to give up.

        A token another request already replaced is not dropped again; a token fetched after a
        rejection and rejected as well means the credential lacks the access.
        """
        cached = self._cache[generation]
        with cached.lock:
            if cached.value is not None and used != cached.value:
                return True
            if cached.renewed:
                return False
            cached.value = None
            cached.renewed = True
            return True

    def accepted(self, generation: Generation) -> None:
        """An endpoint accepted the current token: a later rejection may renew it again."""
        self._cache[generation].renewed = False

    def _fetch(self, generation: Generation) -> tuple[str, float]:
        url = f"{self.base_url}{TOKEN_PATHS[generation]}"
        headers = {APP_ID_HEADER: self.app_id, "Accept": "application/json"}
        if generation == "v1":
            body: dict[str, Any] = {"json": self._credentials}
        else:
            body = {"data": {"grant_type": "client_credentials", **self._credentials}}

        def send() -> Reply:
            sent = self._pacing.before("POST", url)
            self.fetch_count += 1
            reply = self._post(url, headers=headers, timeout=TIMEOUT_SECONDS, **body)
            self._pacing.after("POST", url, reply.headers, sent)
            return reply

        try:
            reply = send_with_retries(
                send,
                method="POST",
                url=url,
                policy=self._retry,
                budget=self._budget,
                sleep=self._pacing.sleep,
                retry_after=retry_after,
                idempotent=True,  # asking for a token again changes nothing
            )
        except RetriesExhausted as exc:
            raise gave_up(exc, self.base_url) from None
        if reply.status_code >= 400:
            raise CredentialRejected(generation, reply.status_code, error_text(reply))
        return _read_token(generation, url, reply)


def _read_token(generation: Generation, url: str, reply: Reply) -> tuple[str, float]:
    problem = PersonioProblem(
        f"The answer of {url} holds no access token: check that base_url points at the "
        "Personio API (https://api.personio.de)."
    )
    try:
        body: Any = reply.json()
        if generation == "v1":
            token, lifetime = body["data"]["token"], body["data"].get("expires_in")
        else:
            token, lifetime = body["access_token"], body.get("expires_in")
    except (ValueError, KeyError, TypeError, AttributeError):
        raise problem from None
    if not isinstance(token, str) or not token:
        raise problem
    try:
        seconds = float(lifetime) if lifetime is not None else DEFAULT_LIFETIME_SECONDS
    except (TypeError, ValueError):
        seconds = DEFAULT_LIFETIME_SECONDS
    return token, seconds if seconds > 0 else DEFAULT_LIFETIME_SECONDS
