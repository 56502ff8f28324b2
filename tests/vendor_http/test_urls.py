"""The one judgement of a base URL, shared by both taps and both targets."""

from __future__ import annotations

import pytest
from vendor_http.urls import base_url_fault, is_loopback


@pytest.mark.parametrize("host", ["localhost", "127.0.0.1", "127.0.0.2", "::1"])
def test_loopback_hosts(host: str) -> None:
    assert is_loopback(host)


@pytest.mark.parametrize("host", ["api.personio.de", "10.0.0.1", "localhost.example"])
def test_other_hosts_are_not_loopback(host: str) -> None:
    assert not is_loopback(host)


@pytest.mark.parametrize(
    ("url", "fault"),
    [
        ("https://api.personio.de", None),
        ("http://127.0.0.1:8080/v3", None),
        ("http://[::1]:9000", None),
        ("http://api.personio.de", "plain http"),
        ("ftp://api.personio.de", "not a URL"),
        ("api.personio.de", "not a URL"),
        ("https://", "not a URL"),
    ],
)
def test_base_url_fault(url: str, fault: str | None) -> None:
    assert base_url_fault(url) == fault
