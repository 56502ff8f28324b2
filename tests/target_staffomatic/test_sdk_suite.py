"""The SDK's built-in target tests that fit this target.

Every built-in test feeds a bundled ``.singer`` file whose streams (``test_camelcase``,
``test_pk_updates``...) are not tap-personio streams: this target accepts and drops such streams
(as it drops ``attendances``), so these tests prove the Singer plumbing (parsing, schema updates,
validation, key properties, CLI) without any Staffomatic call. All 16 run; none is left out.
The rules themselves are proved against the emulator in the other modules.
"""

from __future__ import annotations

from singer_sdk.testing import get_target_test_class
from target_staffomatic.target import TargetStaffomatic

CONFIG = {
    "account": "demo",
    "api_token": "unused-in-these-tests",
    "base_url": "http://127.0.0.1:9/v3",
    "ledger_url": "sqlite://",
}

TestTargetStaffomaticSDK = get_target_test_class(TargetStaffomatic, config=CONFIG)
