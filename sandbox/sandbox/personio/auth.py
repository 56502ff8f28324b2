"""Personio's token endpoints: ``POST /v1/auth``, ``/v2/auth/token`` and ``/v2/auth/revoke``."""

from __future__ import annotations

import secrets
import time
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from sandbox.personio.base import PersonioBase
from sandbox.personio.errors import V1Error, oauth_error
from sandbox.personio.params import body_fields

TOKEN_LIFETIME = 86400


class Auth(PersonioBase):
    """Issuing and revoking tokens (stable for 24 h per client and scope)."""

    async def v1_auth(self, request: Request) -> Response:
        if {"client_id", "client_secret"} & set(request.query_params):
            raise V1Error(
                403,
                "Credentials in the query string are no longer accepted: send client_id and "
                "client_secret in the JSON or form body.",
            )
        fields = await body_fields(request, allow_json=True)
        if fields is None:
            raise V1Error(
                400, "The body must be JSON or form data with client_id and client_secret."
            )
        client_id, secret = str(fields.get("client_id", "")), str(fields.get("client_secret", ""))
        if not client_id or not secret:
            raise V1Error(400, "client_id and client_secret are required.")
        client = self._client(client_id)
        if client is None or not secrets.compare_digest(client["client_secret"], secret):
            raise V1Error(401, "Wrong credentials: no API client has this client_id and secret.")
        record = self._issue(client, " ".join(client.get("scopes", [])), "v1")
        body = {
            "success": True,
            "data": {
                "token": record["token"],
                "expires_in": max(0, int(float(record["expires_at"]) - time.time())),
                "scope": record["scope"],
            },
        }
        return JSONResponse(body, headers={"authorization": f"Bearer {record['token']}"})

    def _issue(self, client: dict[str, Any], scope: str, generation: str) -> dict[str, Any]:
        """The client's live token for ``scope``, or a new one (tokens are stable for 24 h).

        Every token is marked with the generation that issued it. With
        ``variants.token_generations`` ``separate`` (the default) a token is kept per generation
        and the other generation's endpoints refuse it; with ``shared`` one token serves both.
        """
        now = time.time()
        self.state["tokens"] = [t for t in self.state["tokens"] if float(t["expires_at"]) > now]
        separate = self.variant("token_generations") == "separate"
        for record in self.state["tokens"]:
            if (
                record["client_id"] == client["client_id"]
                and record.get("scope") == scope
                and (not separate or record.get("generation") == generation)
            ):
                return record
        record = {
            "token": f"papi-{secrets.token_hex(24)}",
            "client_id": client["client_id"],
            "scope": scope,
            "expires_at": int(now) + TOKEN_LIFETIME,
            "generation": generation,
        }
        self.state["tokens"].append(record)
        return record

    async def v2_token(self, request: Request) -> Response:
        fields = await body_fields(request, allow_json=False)
        if fields is None:
            return oauth_error(
                400, "invalid_request", "Send the parameters as application/x-www-form-urlencoded."
            )
        missing = [f for f in ("grant_type", "client_id", "client_secret") if not fields.get(f)]
        if missing:
            return oauth_error(400, "invalid_request", f"Missing parameter: {', '.join(missing)}.")
        if fields["grant_type"] != "client_credentials":
            return oauth_error(
                400, "unsupported_grant_type", "Only grant_type=client_credentials is supported."
            )
        client = self._client(str(fields["client_id"]))
        if client is None or not secrets.compare_digest(
            client["client_secret"], str(fields["client_secret"])
        ):
            return oauth_error(401, "invalid_client", "Client authentication failed.")
        allowed = list(client.get("scopes", []))
        requested = str(fields.get("scope", "")).split()
        if any(s not in allowed for s in requested):
            extra = sorted(set(requested) - set(allowed))
            return oauth_error(400, "invalid_scope", f"Scope not allowed: {' '.join(extra)}.")
        scope = " ".join(s for s in allowed if s in requested) if requested else " ".join(allowed)
        record = self._issue(client, scope, "v2")
        return JSONResponse(
            {
                "access_token": record["token"],
                "token_type": "Bearer",
                "expires_in": max(0, int(float(record["expires_at"]) - time.time())),
                "scope": record["scope"],
            }
        )

    async def v2_revoke(self, request: Request) -> Response:
        fields = await body_fields(request, allow_json=False)
        if not fields or not fields.get("token"):
            return oauth_error(400, "invalid_request", "Missing parameter: token.")
        self.state["tokens"] = [t for t in self.state["tokens"] if t["token"] != fields["token"]]
        return Response(status_code=200)
