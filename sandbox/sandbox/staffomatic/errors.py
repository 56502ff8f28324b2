"""Staffomatic's error answers: 404 HTML page, 401 text, 400 and 422 JSON.

The 400 and 422 bodies are not documented: by default a 400 says ``{"error": "..."}`` and a
422 is Rails-style ``{"errors": {"field": ["message"]}}``; the switch ``error_bodies``
(:data:`ERROR_BODIES`, see sandbox/README.md) answers both in another plausible shape instead.
"""

from __future__ import annotations

from starlette.responses import HTMLResponse, JSONResponse, PlainTextResponse, Response

NOT_FOUND_HTML = (
    "<!DOCTYPE html>\n<html><head><title>The page you were looking for doesn't exist (404)</title>"
    "</head><body><h1>The page you were looking for doesn't exist.</h1>"
    "<p>You may have mistyped the address or the page may have moved.</p></body></html>\n"
)
UNAUTHORIZED_TEXT = "Du musst Dich einloggen."
ERROR_BODIES = ("rails", "error", "errors_list", "message", "text")
"""The values of ``error_bodies``: the default first."""


class ApiError(Exception):
    """Ends a request with the vendor's error response.

    ``sentences`` (for 400 and 422 answers) are what :meth:`shaped` says in another body shape."""

    def __init__(self, response: Response, sentences: list[str] | None = None) -> None:
        super().__init__(response.status_code)
        self.response = response
        self.sentences = sentences

    def shaped(self, shape: str) -> Response:
        """The response in the body shape ``shape`` (one of :data:`ERROR_BODIES`)."""
        if self.sentences is None or shape == "rails":
            return self.response
        status = self.response.status_code
        if shape == "errors_list":
            return JSONResponse({"errors": self.sentences}, status_code=status)
        text = "; ".join(self.sentences)
        if shape == "text":
            return PlainTextResponse(text + "\n", status_code=status)
        return JSONResponse({shape: text}, status_code=status)  # "error" or "message"


def not_found() -> ApiError:
    return ApiError(HTMLResponse(NOT_FOUND_HTML, status_code=404))


def bad_request(message: str) -> ApiError:
    return ApiError(JSONResponse({"error": message}, status_code=400), [message])


def invalid(errors: dict[str, list[str]]) -> ApiError:
    """A 422 naming each field's problems (Rails' full messages in the other shapes)."""
    sentences = [
        f"{field.replace('_', ' ').capitalize()} {problem}"
        for field, problems in errors.items()
        for problem in problems
    ]
    return ApiError(JSONResponse({"errors": errors}, status_code=422), sentences)
