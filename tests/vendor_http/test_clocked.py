"""``Clocked``: a plugin's clock and sleep are constructor arguments, the rest goes to its base."""

from __future__ import annotations

import time
from typing import Any

from vendor_http.pacing import Clocked


class Base:
    def __init__(self, name: str, *, size: int = 0) -> None:
        self.name = name
        self.size = size


class Plugin(Clocked, Base):
    pass


def test_clock_and_sleep_are_kept_and_other_arguments_reach_the_base() -> None:
    slept: list[float] = []
    plugin = Plugin("p", size=3, clock=lambda: 42.0, sleep=slept.append)
    plugin.sleep(1.5)
    assert (plugin.name, plugin.size, plugin.clock(), slept) == ("p", 3, 42.0, [1.5])


def test_the_defaults_are_the_real_clock_and_sleep() -> None:
    plugin: Any = Plugin("p")
    assert plugin.clock is time.monotonic
    assert plugin.sleep is time.sleep
