"""Personio v2 webhook management (``/v2/webhooks``), the events changes cause, and the admin
endpoints of deliveries (``/_sandbox/events``, ``/_sandbox/deliveries``).

A webhook: ``id`` (UUID), ``url`` (https; the sandbox also takes plain http on loopback, and
delivers only to loopback hosts), ``description``, ``status`` (``ENABLED`` or ``DISABLED``, the
default), ``auth_type`` (``TOKEN``, the default: ``token`` sent verbatim in ``Authorization``;
``NONE``; ``CUSTOM``: up to 3 ``custom_headers``), ``enabled_events`` (required). Scopes
``personio:webhooks:read`` / ``personio:webhooks:write``.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlsplit

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route
from typing_extensions import override

from sandbox.core import SandboxError
from sandbox.personio.base import PersonioBase
from sandbox.personio.deliveries import Dispatcher, Job, Policy, is_loopback
from sandbox.personio.errors import Problem, bad_request, resource_not_found, unprocessable
from sandbox.personio.events import (
    EVENT_NAMES,
    PERIODS,
    Event,
    absence_update,
    changes,
    period_payload,
)
from sandbox.personio.params import json_object
from sandbox.personio.records import COMPANY_ID, utc_stamp

STATUSES = ("ENABLED", "DISABLED")
AUTH_TYPES = ("TOKEN", "NONE", "CUSTOM")
MAX_CUSTOM_HEADERS = 3
RESERVED_HEADERS = (
    "host",
    "content-length",
    "transfer-encoding",
    "connection",
    "upgrade",
    "te",
    "trailer",
    "expect",
    "content-type",
)
DELIVERY_SETTINGS = {
    "ack_seconds": "webhook_ack_seconds",
    "fast_attempts": "webhook_fast_attempts",
    "retry_delays": "webhook_retry_delays",
    "reorder_hold_seconds": "webhook_reorder_hold_seconds",
}
"""``POST /_sandbox/deliveries`` field -> ``state["settings"]`` key."""


class Webhooks(PersonioBase):
    """``/v2/webhooks``; every change of the data queues its events for the webhooks."""

    def __init__(self, seed: str = "empty", **params: Any) -> None:
        self.dispatcher = Dispatcher(self._webhook, self._delivery_policy)
        super().__init__(seed, **params)

    # ---- the API --------------------------------------------------------------------------------

    async def list_webhooks(self, request: Request, client: dict[str, Any]) -> Response:
        webhooks = self._webhooks
        return self._page(request, webhooks, lambda: list(webhooks), self._webhook_view)

    async def create_webhook(self, request: Request, client: dict[str, Any]) -> Response:
        body = await json_object(request)
        for required in ("url", "description", "enabled_events"):
            if required not in body:
                raise bad_request(f"{required} is required.", field=required)
        webhook = {
            "id": self._new_id("webhook", self._webhooks),
            "description": "",
            "status": "DISABLED",
            "auth_type": "TOKEN",
        }
        self._apply_webhook(webhook, body)
        now = utc_stamp(datetime.now(UTC))
        webhook.update(created_at=now, updated_at=now)
        self._webhooks.append(webhook)
        return JSONResponse(self._webhook_view(request, webhook), status_code=201)

    async def one_webhook(self, request: Request, client: dict[str, Any]) -> Response:
        webhook = self._webhook(request.path_params["id"])
        if webhook is None:
            raise resource_not_found("webhook", request.path_params["id"])
        if request.method == "DELETE":
            self._webhooks.remove(webhook)
            return Response(status_code=204)
        if request.method == "PATCH":
            self._apply_webhook(webhook, await json_object(request))
            webhook["updated_at"] = utc_stamp(datetime.now(UTC))
        return JSONResponse(self._webhook_view(request, webhook))

    @property
    def _webhooks(self) -> list[dict[str, Any]]:
        return self.state.setdefault("webhooks", [])

    def _webhook(self, webhook_id: str) -> dict[str, Any] | None:
        return next((w for w in list(self._webhooks) if w["id"] == webhook_id), None)

    def _webhook_view(self, request: Request, webhook: dict[str, Any]) -> dict[str, Any]:
        view = {k: v for k, v in webhook.items() if v is not None}
        if self.variant("webhook_token_shown") == "hidden":
            view.pop("token", None)
        return {**view, "_meta": self._self_link(request, "webhooks", webhook["id"])}

    def _apply_webhook(self, webhook: dict[str, Any], body: dict[str, Any]) -> None:
        """Validate ``body`` and apply it to ``webhook``; raises Problem, changes nothing then."""
        updated = dict(webhook)
        for name in ("url", "description", "token"):
            if name in body:
                if not isinstance(body[name], str) or (name == "url" and not body[name]):
                    raise bad_request(f"{name} must be a string.", field=name)
                updated[name] = body[name]
        for name, allowed in (("status", STATUSES), ("auth_type", AUTH_TYPES)):
            if name in body:
                if body[name] not in allowed:
                    raise bad_request(f"{name} must be one of {', '.join(allowed)}.", field=name)
                updated[name] = body[name]
        if "enabled_events" in body:
            events = body["enabled_events"]
            if not isinstance(events, list) or not events:
                raise bad_request(
                    "enabled_events must be a list of event names.", field="enabled_events"
                )
            unknown = [e for e in events if e not in EVENT_NAMES]
            if unknown:
                raise unprocessable(
                    f"Unknown events: {', '.join(map(str, unknown))}.", field="enabled_events"
                )
            updated["enabled_events"] = list(dict.fromkeys(events))
        if "custom_headers" in body:
            updated["custom_headers"] = body["custom_headers"]
        _check_url(updated["url"])
        _check_auth(updated)
        if self.variant("webhook_same_url") == "conflict" and any(
            w["url"] == updated["url"] and w["id"] != webhook["id"] for w in self._webhooks
        ):
            raise Problem(
                409,
                "Conflict",
                "A webhook with this url already exists.",
                "webhook.conflict",
                field="url",
            )
        webhook.clear()
        webhook.update(updated)

    # ---- events ---------------------------------------------------------------------------------

    @override
    def _changed(
        self, collection: str, item: dict[str, Any], change: str, before: dict[str, Any] | None
    ) -> None:
        prefix = PERIODS.get(collection)
        if prefix is None:
            return
        if change != "updated":
            names = [f"{prefix}.{change}"]
        elif prefix == "absence-period":
            names = absence_update(before or {}, item)
        else:
            names = [f"{prefix}.updated"]
        for name in names:
            self.emit(name, period_payload(item))

    def emit(self, name: str, payload: dict[str, Any], company_id: str | None = None) -> int:
        """Queue ``name`` for every enabled webhook subscribed to it; how many were queued."""
        company = company_id or str(self.state["company"].get("id") or COMPANY_ID)
        event = Event(name, payload, company_id=company)
        jobs = [
            Job(w["id"], event)
            for w in list(self._webhooks)
            if w.get("status") == "ENABLED" and name in w.get("enabled_events", [])
        ]
        self.dispatcher.submit(jobs)
        return len(jobs)

    def _delivery_policy(self) -> Policy:
        settings = self.state["settings"]
        return Policy(
            ack_seconds=float(settings["webhook_ack_seconds"]),
            fast_attempts=int(settings["webhook_fast_attempts"]),
            retry_delays=tuple(float(d) for d in settings["webhook_retry_delays"]),
            reorder_hold_seconds=float(settings["webhook_reorder_hold_seconds"]),
            duplicates=self.variant("webhook_duplicates") == "every_event",
            reversed_pairs=self.variant("webhook_order") == "reversed_pairs",
        )

    @override
    def reset(self, seed: str, **params: Any) -> None:
        super().reset(seed, **params)
        self.dispatcher.clear()  # a new world: nothing from the old one is delivered

    @override
    def load(self, document: dict[str, Any]) -> None:
        previous = self.state
        super().load(document)
        for name, payload in changes(previous, self.state):
            self.emit(name, payload)

    @override
    def close(self) -> None:
        self.dispatcher.close()

    # ---- admin endpoints ------------------------------------------------------------------------

    @override
    def admin_routes(self) -> list[Route]:
        return [
            Route("/_sandbox/events", self._admin_event, methods=["POST"]),
            Route("/_sandbox/deliveries", self._admin_deliveries, methods=["GET", "POST"]),
        ]

    async def _admin_event(self, request: Request) -> Response:
        try:
            body = await request.json()
            name, payload = body.get("event_name"), body.get("payload", {})
            if not isinstance(name, str) or not name or not isinstance(payload, dict):
                raise SandboxError("send {event_name: text, payload: object[, company_id]}")
            queued = self.emit(name, payload, body.get("company_id"))
        except (ValueError, AttributeError, SandboxError) as exc:
            return JSONResponse({"error": f"cannot emit: {exc}"}, status_code=400)
        return JSONResponse({"queued": queued})

    async def _admin_deliveries(self, request: Request) -> Response:
        settings = self.state["settings"]
        if request.method == "POST":
            try:
                body = dict(await request.json())
                if body.pop("clear", False):
                    self.dispatcher.clear()
                unknown = set(body) - set(DELIVERY_SETTINGS)
                if unknown:
                    raise SandboxError(f"unknown settings {sorted(unknown)}")
                for key, value in body.items():
                    settings[DELIVERY_SETTINGS[key]] = _setting(key, value)
            except (ValueError, TypeError, SandboxError) as exc:
                return JSONResponse({"error": f"cannot set deliveries: {exc}"}, status_code=400)
        return JSONResponse(
            {
                "pending": self.dispatcher.pending(),
                "settings": {k: settings[v] for k, v in DELIVERY_SETTINGS.items()},
                "deliveries": self.dispatcher.entries(),
            }
        )


def _setting(key: str, value: Any) -> Any:
    if key == "retry_delays":
        if not isinstance(value, list) or any(float(v) < 0 for v in value):
            raise SandboxError("retry_delays must be a list of seconds")
        return [float(v) for v in value]
    number = int(value) if key == "fast_attempts" else float(value)
    if number <= 0:
        raise SandboxError(f"{key} must be positive")
    return number


def _check_url(url: str) -> None:
    parts = urlsplit(url)
    host = parts.hostname or ""
    if parts.scheme == "https" and host:
        return
    if parts.scheme == "http" and is_loopback(host):
        return  # the sandbox's allowance: receivers under test listen on loopback
    raise unprocessable("url must be an https address.", field="url")


def _check_auth(webhook: dict[str, Any]) -> None:
    kind, headers = webhook["auth_type"], webhook.get("custom_headers")
    if kind == "TOKEN" and not webhook.get("token"):
        raise unprocessable("token is required when auth_type is TOKEN.", field="token")
    if kind != "TOKEN":
        webhook.pop("token", None)
    if headers is None:
        webhook.pop("custom_headers", None)
        if kind == "CUSTOM":
            raise unprocessable("custom_headers are required for CUSTOM.", field="custom_headers")
        return
    if kind != "CUSTOM":
        raise unprocessable("custom_headers are only allowed for CUSTOM.", field="custom_headers")
    if not isinstance(headers, dict) or not 0 < len(headers) <= MAX_CUSTOM_HEADERS:
        raise unprocessable("custom_headers holds 1 to 3 headers.", field="custom_headers")
    for name, value in headers.items():
        if not isinstance(value, str) or str(name).lower().startswith(RESERVED_HEADERS):
            raise unprocessable(f"custom header {name} is not allowed.", field="custom_headers")
