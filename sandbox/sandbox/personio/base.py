"""What every Personio endpoint shares: authentication, error bodies, paging, lookups."""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlencode
from zoneinfo import ZoneInfo

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from sandbox.core import Emulator, SlidingWindow, TokenBucket
from sandbox.personio.errors import (
    ERRORS_URL,
    Problem,
    V1Error,
    bad_request,
    unprocessable,
    v1_error,
)
from sandbox.personio.listing import Listings
from sandbox.personio.params import decode_cursor, encode_cursor, v2_int
from sandbox.personio.records import stable_id, utc_stamp

Handler = Callable[[Request], Awaitable[Response]]
View = Callable[[Request, dict[str, Any]], dict[str, Any]]
V2_SCOPES = {
    "/v2/absence-types": "personio:absences",
    "/v2/absence-types/{id}": "personio:absences",
    "/v2/absence-periods": "personio:absences",
    "/v2/absence-periods/{id}": "personio:absences",
    "/v2/attendance-periods": "personio:attendances",
    "/v2/attendance-periods/{id}": "personio:attendances",
    "/v2/webhooks": "personio:webhooks",
    "/v2/webhooks/{id}": "personio:webhooks",
}


class PersonioBase(Emulator):
    """The plumbing of the Personio emulator; the resource classes add the endpoints."""

    name = "personio"

    def __init__(self, seed: str = "empty", **params: Any) -> None:
        self._windows: dict[tuple[str, str], SlidingWindow] = {}
        self._buckets: dict[tuple[str, str], TokenBucket] = {}
        self._cooldown: dict[str, float] = {}
        self._traces = 0
        self._known_routes: list[Route] = []
        self._index: tuple[tuple[int, int], dict[int, dict[str, Any]]] = ((0, 0), {})
        self._listings = Listings()
        super().__init__(seed, **params)

    # ---- plumbing ---------------------------------------------------------------------------

    def _wrap(self, handler: Handler, flavour: str) -> Handler:
        """Turn client errors into the vendor's error bodies and any crash into a 500."""

        async def endpoint(request: Request) -> Response:
            try:
                response = await handler(request)
            except V1Error as exc:
                response = v1_error(exc)
            except Problem as exc:
                response = self._problem(exc)
            except Exception:  # a bug in the emulator must still look like the vendor
                response = self.error_response(500, "Something went wrong", request)
            if flavour == "v2":
                template = self._v2_template(request)
                headers = getattr(request.state, "ratelimit", None) or self._ratelimit_headers(
                    template, self._bucket(self._client_key(request), template), peek=True
                )
                response.headers.update(headers)
            return response

        return endpoint

    def _v1(
        self, handler: Callable[[Request, dict[str, Any], str], Awaitable[Response]]
    ) -> Handler:
        async def authenticated(request: Request) -> Response:
            client, token = self._authenticate(request, v2=False)
            response = await handler(request, client, token)
            # Personio still echoes the (now stable) token, for clients written for rotation.
            response.headers["authorization"] = f"Bearer {token}"
            return response

        return self._wrap(authenticated, "v1")

    def _v2(self, handler: Callable[[Request, dict[str, Any]], Awaitable[Response]]) -> Handler:
        async def authenticated(request: Request) -> Response:
            client, _ = self._authenticate(request, v2=True)
            return await handler(request, client)

        return self._wrap(authenticated, "v2")

    def _authenticate(self, request: Request, v2: bool) -> tuple[dict[str, Any], str]:
        header = request.headers.get("authorization", "").strip()
        if not header:
            if v2:
                raise Problem(
                    401, "Unauthorized", "Authorization is not provided.", "common.unauthorized"
                )
            raise V1Error(401, "Authorization is not provided")
        scheme, _, token = header.partition(" ")
        record = self._token(token.strip()) if scheme.lower() == "bearer" else None
        client = self._client(record["client_id"]) if record else None
        generation = "v2" if v2 else "v1"
        if (
            record is not None
            and record.get("generation", generation) != generation
            and self.variant("token_generations") == "separate"
        ):
            record = None  # a token of the other generation
        if record is None or client is None:
            if v2:
                raise Problem(
                    403, "Forbidden", "Provided authorization is not valid.", "common.forbidden"
                )
            raise V1Error(403, "Provided authorization is not valid")
        if v2:
            prefix = V2_SCOPES.get(self._v2_template(request), "")
            needed = f"{prefix}:{'read' if request.method == 'GET' else 'write'}"
            if prefix and needed not in str(record.get("scope", "")).split():
                raise Problem(
                    403,
                    "Forbidden",
                    f"This token lacks the scope {needed}.",
                    "common.forbidden",
                    scope=needed,
                )
        return client, record["token"]

    def _token(self, token: str) -> dict[str, Any] | None:
        now = time.time()
        for record in self.state["tokens"]:
            if record["token"] == token and float(record["expires_at"]) > now:
                return record
        return None

    def _client(self, client_id: str) -> dict[str, Any] | None:
        for client in self.state["api_clients"]:
            if client["client_id"] == client_id:
                return client
        return None

    def _client_key(self, request: Request) -> str:
        _, _, token = request.headers.get("authorization", "").partition(" ")
        record = self._token(token.strip()) if token else None
        if record:
            return f"client:{record['client_id']}"
        return f"ip:{request.client.host if request.client else 'local'}"

    def _v2_template(self, request: Request) -> str:
        path = request.url.path.rstrip("/")
        for template in V2_SCOPES:
            base = template.removesuffix("/{id}")
            if path == base or (
                template.endswith("{id}")
                and path.startswith(base + "/")
                and "/" not in path[len(base) + 1 :]
            ):
                return template
        return path

    def _bucket(self, who: str, template: str) -> TokenBucket:
        limits = self.state["limits"]
        config = {**limits["v2_default"], **limits.get("v2", {}).get(template, {})}
        key = (who, template)
        if key not in self._buckets:
            self._buckets[key] = TokenBucket(
                float(config["replenish_rate"]), float(config["burst_capacity"])
            )
        return self._buckets[key]

    def _ratelimit_headers(
        self, template: str, bucket: TokenBucket, remaining: int | None = None, peek: bool = False
    ) -> dict[str, str]:
        if peek:  # not throttled (rate limits off): report the bucket without taking from it
            elapsed = time.monotonic() - bucket.stamp
            remaining = int(min(bucket.capacity, bucket.tokens + elapsed * bucket.rate))
        return {
            "x-ratelimit-replenish-rate": f"{bucket.rate:g}",
            "x-ratelimit-burst-capacity": f"{bucket.capacity:g}",
            "x-ratelimit-requested-tokens": "1",
            "x-ratelimit-remaining": str(int(bucket.tokens) if remaining is None else remaining),
        }

    def _problem(self, problem: Problem) -> Response:
        self._traces += 1
        body = {
            "personio_trace_id": f"sandbox-{self._traces:08d}",
            "timestamp": datetime.now(UTC).isoformat(timespec="milliseconds"),
            "errors": [
                {
                    "title": problem.title,
                    "detail": problem.detail,
                    "type": ERRORS_URL + problem.code,
                    "_meta": dict(problem.meta),
                }
            ],
        }
        return JSONResponse(body, problem.status, media_type="application/problem+json")

    @property
    def _zone(self) -> ZoneInfo:
        return ZoneInfo(self.state["company"]["time_zone"])

    async def not_found(self, request: Request) -> Response:
        path = request.url.path
        if any(r.path_regex.match(path) for r in self._known_routes):
            if path.startswith("/v2/"):
                raise Problem(
                    405,
                    "Method Not Allowed",
                    f"{request.method} is not allowed here.",
                    "common.method_not_allowed",
                )
            raise V1Error(405, f"{request.method} is not allowed on {path}.")
        if path.startswith("/v2/"):
            raise Problem(
                404,
                "Resource not found",
                "There is no such endpoint.",
                "common.requested_resource_not_found",
            )
        raise V1Error(404, "The requested endpoint does not exist.")

    def _employee(self, employee_id: int) -> dict[str, Any] | None:
        employees = self.state["employees"]
        key = (id(employees), len(employees))
        if self._index[0] != key:
            self._index = (key, {e["id"]: e for e in employees})
        found = self._index[1].get(employee_id)
        if found is not None and found["id"] == employee_id:
            return found
        return next((e for e in employees if e["id"] == employee_id), None)

    # ---- v2 paging -------------------------------------------------------------------------------

    def _page(
        self,
        request: Request,
        source: list[dict[str, Any]],
        select: Callable[[], list[dict[str, Any]]],
        view: View,
    ) -> Response:
        """One page of what ``select`` finds in ``source``, as ``view`` shows each, with
        ``_meta.links.next.href`` (absolute) when more follow.

        ``select`` runs for the first page only; the cursor names its listing, so each later
        page costs what it holds (:mod:`sandbox.personio.listing`).
        """
        query = request.query_params
        limit = v2_int(query.get("limit"), "limit", 100, 1, 100)
        cursor = query.get("cursor")
        offset, number = decode_cursor(cursor) if cursor else (0, None)
        asked = tuple(sorted((k, v) for k, v in query.multi_items() if k != "cursor"))
        at = slice(offset, offset + limit)
        found = self._listings.page(number, source, asked, at)
        if found is None:
            items = select()
            number = self._listings.keep(source, asked, items)
            found = items[at], len(items)
        page, listed = found
        base = str(request.base_url).rstrip("/") + request.url.path
        links: dict[str, Any] = {"self": {"href": str(request.url)}}
        if offset + limit < listed:
            params = [(k, v) for k, v in query.multi_items() if k != "cursor"]
            params.append(("cursor", encode_cursor(offset + limit, number)))
            links["next"] = {"href": f"{base}?{urlencode(params)}"}
        return JSONResponse(
            {"_data": [view(request, item) for item in page], "_meta": {"links": links}}
        )

    def _self_link(self, request: Request, collection: str, item_id: str) -> dict[str, Any]:
        base = str(request.base_url).rstrip("/")
        return {"links": {"self": {"href": f"{base}/v2/{collection}/{item_id}"}}}

    # ---- shared v2 helpers --------------------------------------------------------------------

    def _person_ref(self, ref: Any, field: str = "person") -> str:
        person_id = ref.get("id") if isinstance(ref, dict) else None
        if (
            isinstance(person_id, bool)
            or not isinstance(person_id, int | str)
            or (str(person_id) == "")
        ):
            raise bad_request(f"{field}.id is required.", field=f"{field}.id")
        text = str(person_id)
        if not text.isdigit() or self._employee(int(text)) is None:
            raise unprocessable(f"Person {text} does not exist.", field=f"{field}.id")
        return text

    def _new_id(self, kind: str, items: list[dict[str, Any]]) -> str:
        """A fresh id; like a database sequence, never one handed out before (even if deleted)."""
        taken = {i["id"] for i in items}
        n = max(len(items), self._issued.get(kind, 0)) + 1
        while stable_id(kind, f"api-{n}") in taken:
            n += 1
        self._issued[kind] = n
        return stable_id(kind, f"api-{n}")

    def _keep_person(
        self, item: dict[str, Any], body: dict[str, Any], creating: bool, what: str
    ) -> None:
        """A change may not move a period to another person (``what``: "absence period")."""
        if (
            not creating
            and "person" in body
            and self._person_ref(body["person"]) != item["person"]["id"]
        ):
            raise bad_request(f"The person of an {what} cannot be changed.", field="person")

    def _add(self, request: Request, collection: str, item: dict[str, Any], view: View) -> Response:
        """Stamp a new period, store it in ``collection`` and answer 201 with its ``view``."""
        now = utc_stamp(datetime.now(UTC))
        item.update(created_at=now, updated_at=now)
        self.state[collection].append(item)
        self._changed(collection, item, "created", None)
        return JSONResponse(view(request, item), status_code=201)

    def _read_or_delete(
        self, request: Request, collection: str, item: dict[str, Any], view: View
    ) -> Response | None:
        """The answer to a GET or DELETE of one period; None for a PATCH."""
        if request.method == "GET":
            return JSONResponse(view(request, item))
        if request.method == "DELETE":
            self.state[collection].remove(item)
            self._changed(collection, item, "deleted", None)
            return Response(status_code=204)
        return None

    def _changed(
        self, collection: str, item: dict[str, Any], change: str, before: dict[str, Any] | None
    ) -> None:
        """Hook: ``item`` of ``collection`` was ``created``, ``updated`` (from ``before``) or
        ``deleted`` through the API (the webhooks queue its events)."""


def set_comment(body: dict[str, Any], updated: dict[str, Any]) -> None:
    """Apply a ``comment`` of a v2 body: text, or null for none."""
    if "comment" in body:
        if body["comment"] is not None and not isinstance(body["comment"], str):
            raise bad_request("comment must be a string.", field="comment")
        updated["comment"] = body["comment"] or ""
