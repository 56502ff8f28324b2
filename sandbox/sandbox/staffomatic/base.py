"""What every Staffomatic endpoint shares: request checks, authentication, the record store."""

from __future__ import annotations

import base64
import binascii
import copy
import hashlib
import hmac
import json
from collections.abc import Awaitable, Callable, Iterable
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response

from sandbox.core import Emulator, SlidingWindow
from sandbox.staffomatic.errors import UNAUTHORIZED_TEXT, ApiError, bad_request, invalid, not_found
from sandbox.staffomatic.fields import blank, coerce, digits, time_zone
from sandbox.staffomatic.records import FIRST_IDS, iso, parse_time

Record = dict[str, Any]
Handler = Callable[[Request], Awaitable[Response]]


def _same(secret: Any, given: str) -> bool:
    return hmac.compare_digest(str(secret).encode(), given.encode())


class StaffomaticBase(Emulator):
    """The plumbing of the Staffomatic emulator; the resource classes add the endpoints."""

    name = "staffomatic"

    def __init__(self, seed: str = "empty", **params: Any) -> None:
        self._windows: dict[str, SlidingWindow] = {}
        super().__init__(seed, **params)

    def _endpoint(self, handler: Handler) -> Handler:
        async def endpoint(request: Request) -> Response:
            try:
                request.state.user = self._check_request(request)
                return await handler(request)
            except ApiError as error:
                return error.shaped(self.variant("error_bodies"))

        return endpoint

    def _check_request(self, request: Request) -> Record:
        """Account, User-Agent, credentials, content type and role, in the vendor's order."""
        if request.path_params.get("account") != self.state["account"]["subdomain"]:
            raise not_found()
        if not request.headers.get("user-agent", "").strip():
            raise ApiError(
                PlainTextResponse(
                    "Bad Request: send a User-Agent naming your application and a contact e-mail, "
                    "for example 'MyApp (me@example.com)'.\n",
                    status_code=400,
                )
            )
        user = self._authenticate(request)
        if request.method in ("POST", "PUT", "PATCH"):
            media = request.headers.get("content-type", "").split(";")[0].strip().lower()
            if media != "application/json" and not media.endswith("+json"):
                raise ApiError(
                    PlainTextResponse("Unsupported Media Type: send JSON.\n", status_code=415)
                )
        if request.method != "GET" and user["role"] not in ("admin", "manager"):
            raise ApiError(PlainTextResponse("Forbidden\n", status_code=403))
        return user

    def _authenticate(self, request: Request) -> Record:
        scheme, _, value = request.headers.get("authorization", "").partition(" ")
        credential: Record | None = None
        if scheme.lower() == "basic":
            try:
                decoded = base64.b64decode(value.strip(), validate=True).decode()
            except (binascii.Error, UnicodeDecodeError):
                decoded = ""
            email, _, password = decoded.partition(":")
            user = next(
                (
                    u
                    for u in self.state["users"]
                    if (u.get("email") or "").casefold() == email.casefold()
                ),
                None,
            )
            if user is not None and email:
                credential = next(
                    (
                        c
                        for c in self.state["credentials"]
                        if c["user_id"] == user["id"] and _same(c.get("password"), password)
                    ),
                    None,
                )
        elif scheme.lower() == "bearer" and value.strip():
            credential = next(
                (
                    c
                    for c in self.state["credentials"]
                    if c.get("api_token") and _same(c["api_token"], value.strip())
                ),
                None,
            )
        user = self._find("users", credential["user_id"]) if credential else None
        if user is None or user.get("locked_at"):
            raise ApiError(
                PlainTextResponse(
                    UNAUTHORIZED_TEXT,
                    status_code=401,
                    headers={"WWW-Authenticate": 'Basic realm="Application"'},
                )
            )
        return user

    async def no_route(self, request: Request) -> Response:
        last = request.path_params["rest"].rsplit("/", 1)[-1]
        if "." in last and not last.endswith(".json"):
            return PlainTextResponse(
                "Unsupported Media Type: paths end in .json.\n", status_code=415
            )
        raise not_found()

    # ---- helpers --------------------------------------------------------------------------------

    @property
    def zone(self) -> ZoneInfo:
        return time_zone(self.state["account"]["time_zone"])

    def now(self) -> datetime:
        return datetime.now(self.zone).replace(microsecond=0)

    def stamp(self) -> str:
        return iso(self.now(), self.zone)

    def _find(self, collection: str, record_id: int) -> Record | None:
        return next((r for r in self.state[collection] if r["id"] == record_id), None)

    def _get(self, collection: str, request: Request, key: str = "id") -> Record:
        raw = request.path_params[key]
        record = self._find(collection, int(raw)) if digits(raw) else None
        if record is None:
            raise not_found()
        location_id = self._location(request)
        if location_id is not None:
            if collection == "users":
                if location_id not in record["location_ids"]:
                    raise not_found()
            elif record.get("location_id") != location_id:
                raise not_found()
        return record

    def _location(self, request: Request) -> int | None:
        raw = request.path_params.get("location_id")
        if raw is None:
            return None
        if not digits(raw) or self._find("locations", int(raw)) is None:
            raise not_found()
        return int(raw)

    def _add(self, collection: str, defaults: Record, fields: Record) -> Record:
        items = self.state[collection]
        stamp = self.stamp()
        # Like a database sequence, an id is never handed out twice, even after a delete.
        highest = max((r["id"] for r in items), default=FIRST_IDS[collection] - 1)
        next_id = max(highest, self._issued.get(collection, 0)) + 1
        self._issued[collection] = next_id
        record = {"created_at": stamp, "updated_at": stamp, "id": next_id}
        record |= copy.deepcopy(defaults) | fields
        items.append(record)
        return record

    def _touch(self, record: Record, fields: Record) -> Record:
        record.update(fields)
        record["updated_at"] = self.stamp()
        return record

    def _delete(self, collection: str, record: Record) -> Response:
        self.state[collection] = [r for r in self.state[collection] if r["id"] != record["id"]]
        return Response(status_code=204)

    async def _body(self, request: Request, wrapper: str) -> Record:
        """The JSON object of a write; ``{"<wrapper>": {...}}`` is unwrapped as Rails does."""
        raw = await request.body()
        if not raw.strip():
            return {}
        try:
            body = json.loads(raw)
        except ValueError:
            raise bad_request("The request body is not valid JSON.") from None
        if not isinstance(body, dict):
            raise bad_request("The request body must be a JSON object.")
        inner = body.pop(wrapper, None)
        return body | inner if isinstance(inner, dict) else body

    def _fields(self, body: Record, spec: dict[str, Any]) -> Record:
        """The writable fields of ``body``, coerced; a 422 naming each invalid one."""
        fields: Record = {}
        errors: dict[str, list[str]] = {}
        for key, kind in spec.items():
            if key in body:
                try:
                    value = coerce(kind, body[key])
                    if isinstance(value, datetime):
                        value = iso(
                            value if value.tzinfo else value.replace(tzinfo=self.zone), self.zone
                        )
                except (ValueError, OverflowError) as error:
                    errors[key] = [
                        str(error) if isinstance(error, ValueError) else "is out of range"
                    ]
                    continue
                fields[key] = value
        if errors:
            raise invalid(errors)
        return fields

    def _do(self, body: Record, allowed: Iterable[str]) -> str | None:
        action = body.get("do")
        if action is not None and action not in allowed:
            raise invalid({"do": ["is not included in the list"]})
        return action

    def _time(self, value: str | None) -> datetime | None:
        return None if value is None else parse_time(value, self.zone)

    def _require(self, fields: Record, *keys: str) -> None:
        errors = {key: ["can't be blank"] for key in keys if blank(fields.get(key))}
        if errors:
            raise invalid(errors)

    def _exists(self, collection: str, record_id: int | None, name: str) -> None:
        if record_id is not None and self._find(collection, record_id) is None:
            raise invalid({name: ["must exist"]})

    def _order(self, starts: str | None, ends: str | None) -> None:
        if starts and ends and parse_time(ends, self.zone) < parse_time(starts, self.zone):
            raise invalid({"ends_at": ["must be after starts_at"]})

    def _json(self, request: Request, data: Any, headers: dict[str, str] | None = None) -> Response:
        body = json.dumps(data, ensure_ascii=False, separators=(",", ":")).encode()
        tag = f'"{hashlib.blake2b(body, digest_size=16).hexdigest()}"'
        headers = {"ETag": tag, "Cache-Control": "max-age=0, private, must-revalidate"} | (
            headers or {}
        )
        if request.method == "GET" and request.headers.get("if-none-match") == tag:
            return Response(status_code=304, headers=headers)
        # Creates answer 201 as the docs say; 200 as recorded in 2017 (variants.create_status).
        created = request.method == "POST" and self.variant("create_status") == "201"
        return Response(
            body,
            status_code=201 if created else 200,
            media_type="application/json; charset=utf-8",
            headers=headers,
        )

    def _times(self, record: Record) -> Record:
        """``record`` with its date-times shown in the account's time zone."""
        zone = self.zone
        return {
            key: iso(parse_time(value, zone), zone)
            if key.endswith(("_at", "_until")) and isinstance(value, str) and "T" in value
            else value
            for key, value in record.items()
        }

    @staticmethod
    def _seconds(starts: str | None, ends: str | None, zone: ZoneInfo) -> int:
        if not starts or not ends:
            return 0
        return int((parse_time(ends, zone) - parse_time(starts, zone)).total_seconds())

    @staticmethod
    def _after(record: Record, key: str, extra: Record) -> Record:
        shown: Record = {}
        for name, value in record.items():
            shown[name] = value
            if name == key:
                shown |= extra
        return shown | {k: v for k, v in extra.items() if k not in shown}
