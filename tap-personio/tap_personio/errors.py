"""The one error a person has to act on: a bad setting, a refused credential, no connection,
or 429s past the run's wait budget."""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

import requests
from singer_sdk.exceptions import ConfigValidationError, FatalAPIError, RetriableAPIError
from vendor_http.budget import TAP_NEXT_STEP, RateLimitWaitSpent
from vendor_http.personio import PersonioProblem

T = TypeVar("T")


class PersonioError(ConfigValidationError):
    """A problem stated in one sentence that says what is wrong and how to fix it.

    It is a :class:`ConfigValidationError` so the SDK's command line prints the sentence and
    exits with status 1 instead of showing a traceback.
    """

    def __init__(self, message: str) -> None:
        super().__init__(message, errors=[message])


def guarded(action: Callable[[], T]) -> T:
    """Run ``action``, turning API failures into one sentence for a person."""
    try:
        return action()
    except PersonioError:
        raise
    except PersonioProblem as exc:
        raise PersonioError(str(exc)) from None
    except RateLimitWaitSpent as exc:
        raise PersonioError(exc.sentence(TAP_NEXT_STEP)) from None
    except FatalAPIError as exc:
        raise PersonioError(str(exc)) from None
    except RetriableAPIError as exc:
        raise PersonioError(
            f"Personio kept failing ({exc}) after several retries: try again later."
        ) from None
    except requests.exceptions.RequestException as exc:
        raise PersonioError(
            f"Cannot reach Personio ({type(exc).__name__}): check the base_url setting and the "
            "network connection."
        ) from None
