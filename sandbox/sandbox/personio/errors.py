"""Personio's error bodies: v1 ``{success: false, error}``, v2 problem+json, OAuth."""

from __future__ import annotations

from starlette.responses import JSONResponse, Response

ERRORS_URL = "https://developer.personio.de/reference/errors#"


class Problem(Exception):
    """A v2 client error, answered as ``application/problem+json``."""

    def __init__(self, status: int, title: str, detail: str, code: str, **meta: str) -> None:
        super().__init__(detail)
        self.status, self.title, self.detail, self.code, self.meta = (
            status,
            title,
            detail,
            code,
            meta,
        )


def bad_request(detail: str, **meta: str) -> Problem:
    return Problem(400, "Bad Request", detail, "common.invalid_request_content", **meta)


def unprocessable(detail: str, **meta: str) -> Problem:
    return Problem(422, "Unprocessable Entity", detail, "common.unprocessable_entity", **meta)


class V1Error(Exception):
    """A v1 client error, answered with ``{"success": false, "error": {code, message}}``."""

    def __init__(self, status: int, message: str, code: int | None = None) -> None:
        super().__init__(message)
        self.status, self.message = status, message
        self.code = status if code is None else code


def v1_error(error: V1Error) -> Response:
    body = {"success": False, "error": {"code": error.code, "message": error.message}}
    return JSONResponse(body, status_code=error.status)


def oauth_error(status: int, error: str, description: str) -> Response:
    return JSONResponse({"error": error, "error_description": description}, status_code=status)


def resource_not_found(what: str, item_id: str) -> Problem:
    return Problem(
        404,
        "Resource not found",
        f"The {what} {item_id} was not found.",
        "common.requested_resource_not_found",
    )
