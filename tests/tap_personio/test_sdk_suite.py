"""The Singer SDK's built-in tap tests, run against the Personio emulator over loopback.

The SDK builds the test class when this module is imported (it discovers the streams then), so
the emulator starts at import and stops after the module's tests.
"""

from __future__ import annotations

import atexit
from collections.abc import Iterator
from contextlib import ExitStack

import pytest
from sandbox.server import running
from singer_sdk.testing import SuiteConfig, get_tap_test_class
from tap_personio.tap import TapPersonio

_STACK = ExitStack()
_SANDBOX = _STACK.enter_context(running("demo"))
atexit.register(_STACK.close)  # also when none of this module's tests was selected

TestTapPersonio = get_tap_test_class(
    TapPersonio,
    config={
        "client_id": "demo-client-id",
        "client_secret": "demo-client-secret",
        "base_url": _SANDBOX.personio_url,
    },
    suite_config=SuiteConfig(max_records_limit=500),
    parse_env_config=False,
)


@pytest.fixture(scope="module", autouse=True)
def _stop_the_emulator_afterwards() -> Iterator[None]:
    yield
    _STACK.close()
