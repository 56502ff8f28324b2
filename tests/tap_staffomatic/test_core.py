"""The SDK's built-in tap tests, run against the Staffomatic emulator over loopback."""

from __future__ import annotations

from typing import Any

import pytest
from sandbox.admin import Admins
from sandbox.server import Sandbox
from singer_sdk.testing import SuiteConfig, get_tap_test_class
from singer_sdk.testing.runners import TapTestRunner
from tap_staffomatic.tap import TapStaffomatic

from sandbox import roster

CONFIG: dict[str, Any] = {
    "account": roster.STAFFOMATIC_ACCOUNT,
    "email": roster.STAFFOMATIC_EMAIL,
    "password": roster.STAFFOMATIC_PASSWORD,
    "base_url": "http://127.0.0.1:9/v3",  # replaced by the sandbox's address in `runner`
    "user_agent": "tap-staffomatic tests (tests@example.com)",
}
SUITE = SuiteConfig(max_records_limit=500)

_BuiltIn = get_tap_test_class(
    TapStaffomatic, config=CONFIG, suite_config=SUITE, parse_env_config=False
)


class TestTapStaffomatic(_BuiltIn):  # type: ignore[misc,valid-type]
    """Every built-in test: discovery, one sync, schemas, keys, attribute types, final state."""

    @pytest.fixture(scope="class")
    @classmethod
    def runner(cls, sandbox_session: Sandbox, admins: Admins) -> TapTestRunner:
        admins.fresh("demo")
        sandbox = sandbox_session
        runner = TapTestRunner(
            tap_class=TapStaffomatic,
            config={**CONFIG, "base_url": sandbox.staffomatic_api},
            suite_config=SUITE,
            parse_env_config=False,
        )
        runner.sync_all()
        return runner
