"""``sync-events register``: the Personio webhook the receiver needs, created or brought up to
date through THE Personio policy (:mod:`vendor_http.personio_client`); a second run changes
nothing.

The webhook is found by its URL. Personio may not show a webhook's token when it is read, so the
description carries a short fingerprint of the token (a hash, not the token): a new token is
noticed and sent even then.
"""

from __future__ import annotations

import hashlib
from typing import Any
from urllib.parse import quote

from vendor_http.personio import error_text
from vendor_http.personio_client import PersonioClient, Rejected, RunStopped
from vendor_http.urls import base_url_fault

from sync_events.areas import EVENTS
from sync_events.settings import Settings, SettingsError

APP_ID = "PERSONIO_STAFFOMATIC_EVENTS"
PATH = "/v2/webhooks"


def fingerprint(token: str) -> str:
    return hashlib.sha256(f"sync-events|{token}".encode()).hexdigest()[:12]


def desired(settings: Settings) -> dict[str, Any]:
    return {
        "url": settings.url,
        "description": f"Personio-Staffomatic sync (token {fingerprint(settings.token)})",
        "status": "ENABLED",
        "auth_type": "TOKEN",
        "enabled_events": list(EVENTS),
    }


def differences(webhook: dict[str, Any], wanted: dict[str, Any], token: str) -> list[str]:
    """The fields of ``webhook`` that differ from ``wanted`` (the token only when shown)."""
    changed = [
        name for name in ("description", "status", "auth_type") if webhook.get(name) != wanted[name]
    ]
    if set(webhook.get("enabled_events") or ()) != set(wanted["enabled_events"]):
        changed.append("enabled_events")
    if "token" in webhook and webhook["token"] != token:
        changed.append("token")
    return changed


def register(settings: Settings, client: PersonioClient | None = None) -> str:
    """Create or update the webhook; one line saying what was done (never the token)."""
    if not settings.url:
        raise SettingsError(
            "Set url (SYNC_EVENTS_URL) to the https address Personio delivers to, ending in "
            "/events, e.g. https://sync.example.com/events."
        )
    if base_url_fault(settings.url):
        raise SettingsError(
            f"url {settings.url} must be an https address (plain http only on loopback)."
        )
    own = client is None
    client = client or PersonioClient(
        settings.personio_base_url, *settings.personio_credential(), APP_ID
    )
    wanted = desired(settings)
    try:
        ours = [w for w in client.list_v2(PATH) if w.get("url") == settings.url]
        if not ours:
            _check(client.request("POST", PATH, json={**wanted, "token": settings.token}))
            return f"created the webhook for {settings.url} ({len(EVENTS)} events)"
        webhook = ours[0]
        changed = differences(webhook, wanted, settings.token)
        if not changed:
            return f"the webhook {webhook['id']} for {settings.url} is up to date"
        path = f"{PATH}/{quote(str(webhook['id']), safe='')}"
        _check(client.request("PATCH", path, json={**wanted, "token": settings.token}))
        return f"updated the webhook {webhook['id']} for {settings.url}: {', '.join(changed)}"
    except (RunStopped, Rejected) as exc:
        raise SettingsError(f"Personio refused the webhook ({exc}).") from None
    finally:
        if own:
            client.close()


def _check(response: Any) -> None:
    if response.status_code >= 400:
        raise SettingsError(
            f"Personio refused the webhook (HTTP {response.status_code}: "
            f"{error_text(response)}); check url and that the credential has the "
            "personio:webhooks:write scope."
        )
