"""Staffomatic's error answers: 404 HTML page, 401 text, 400 and Rails-style 422 JSON."""

from __future__ import annotations

from starlette.responses import HTMLResponse, JSONResponse, Response

NOT_FOUND_HTML = (
    "<!DOCTYPE html>\n<html><head><title>The page you were looking for doesn't exist (404)</title>"
    "</head><body><h1>The page you were looking for doesn't exist.</h1>"
    "<p>You may have mistyped the address or the page may have moved.</p></body></html>\n"
)
UNAUTHORIZED_TEXT = "Du musst Dich einloggen."


class ApiError(Exception):
    """Ends a request with the vendor's error response."""

    def __init__(self, response: Response) -> None:
        super().__init__(response.status_code)
        self.response = response


def not_found() -> ApiError:
    return ApiError(HTMLResponse(NOT_FOUND_HTML, status_code=404))


def bad_request(message: str) -> ApiError:
    return ApiError(JSONResponse({"error": message}, status_code=400))


def invalid(errors: dict[str, list[str]]) -> ApiError:
    return ApiError(JSONResponse({"errors": errors}, status_code=422))
