"""The receiver's settings, from the environment (Meltano sets them from ``meltano.yml``, the
shell or ``.env``; the token is a sensitive setting and is never logged or shown)."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass

from vendor_http.personio import DEFAULT_BASE_URL, PersonioProblem
from vendor_http.personio_auth import credentials
from vendor_http.urls import base_url_fault, is_loopback

MIN_TOKEN_LENGTH = 24


class SettingsError(Exception):
    """A setting is missing or wrong; the message is one sentence naming it."""


@dataclass(frozen=True)
class Settings:
    token: str
    company_id: str
    url: str = ""
    host: str = "127.0.0.1"
    port: int = 8480
    max_body_bytes: int = 65536
    max_requests_per_second: float = 50.0
    coalesce_seconds: float = 3.0
    max_attempts: int = 5
    retry_seconds: float = 30.0
    meltano: str = "meltano"
    ledger_url: str | None = None
    personio_base_url: str = DEFAULT_BASE_URL
    personio_client_id: str | None = None
    personio_client_secret: str | None = None
    personio_credentials_file: str | None = None
    tls_cert: str | None = None
    tls_key: str | None = None

    def __repr__(self) -> str:  # the token stays out of every log line and traceback
        return f"Settings(company_id={self.company_id!r}, url={self.url!r}, port={self.port})"

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> Settings:
        env = os.environ if env is None else env

        def get(name: str) -> str | None:
            value = env.get(name)
            return value.strip() if value and value.strip() else None

        token = get("SYNC_EVENTS_TOKEN") or ""
        if len(token) < MIN_TOKEN_LENGTH:
            raise SettingsError(
                f"Set token (SYNC_EVENTS_TOKEN) to a random secret of at least "
                f"{MIN_TOKEN_LENGTH} characters, e.g. from `openssl rand -hex 32`."
            )
        company = get("SYNC_EVENTS_COMPANY_ID")
        if not company:
            raise SettingsError(
                "Set company_id (SYNC_EVENTS_COMPANY_ID) to your Personio company id: deliveries "
                "for any other company are refused."
            )
        values = {
            "token": token,
            "company_id": company,
            "url": get("SYNC_EVENTS_URL") or "",
            "host": get("SYNC_EVENTS_HOST") or cls.host,
            "meltano": get("SYNC_EVENTS_MELTANO") or cls.meltano,
            "ledger_url": get("SYNC_LEDGER_URL"),
            "personio_base_url": get("PERSONIO_BASE_URL") or DEFAULT_BASE_URL,
            "personio_client_id": get("PERSONIO_CLIENT_ID"),
            "personio_client_secret": get("PERSONIO_CLIENT_SECRET"),
            "personio_credentials_file": get("PERSONIO_CREDENTIALS_FILE"),
            "tls_cert": get("SYNC_EVENTS_TLS_CERT"),
            "tls_key": get("SYNC_EVENTS_TLS_KEY"),
        }
        numbers = {
            "port": ("SYNC_EVENTS_PORT", int),
            "max_body_bytes": ("SYNC_EVENTS_MAX_BODY_BYTES", int),
            "max_requests_per_second": ("SYNC_EVENTS_MAX_REQUESTS_PER_SECOND", float),
            "coalesce_seconds": ("SYNC_EVENTS_COALESCE_SECONDS", float),
            "max_attempts": ("SYNC_EVENTS_MAX_ATTEMPTS", int),
            "retry_seconds": ("SYNC_EVENTS_RETRY_SECONDS", float),
        }
        for field, (name, kind) in numbers.items():
            raw = get(name)
            if raw is None:
                continue
            try:
                number = kind(raw)
            except ValueError:
                number = -1
            if number < 0 or (field != "coalesce_seconds" and number == 0):
                raise SettingsError(f"{name} must be a positive number, not {raw!r}.")
            values[field] = number
        if base_url_fault(str(values["personio_base_url"])):
            raise SettingsError(
                "PERSONIO_BASE_URL must be an https address (plain http only on loopback)."
            )
        if not is_loopback(str(values["host"])) and not (values["tls_cert"] and values["tls_key"]):
            raise SettingsError(
                f"host {values['host']} is not loopback: plain http is served only on loopback; "
                "keep host 127.0.0.1 behind a TLS proxy, or set tls_cert and tls_key."
            )
        return cls(**values)  # type: ignore[arg-type]

    def personio_credential(self) -> tuple[str, str]:
        """The Personio client id and secret (for ``register``); one sentence when unset."""
        try:
            found = credentials(
                self.personio_client_id,
                self.personio_client_secret,
                self.personio_credentials_file,
                setting="PERSONIO_CREDENTIALS_FILE",
            )
        except PersonioProblem as exc:
            raise SettingsError(str(exc)) from None
        if found is None:
            raise SettingsError(
                "Set PERSONIO_CLIENT_ID and PERSONIO_CLIENT_SECRET (or PERSONIO_CREDENTIALS_FILE) "
                "to a credential with the personio:webhooks:read and :write scopes."
            )
        return found
