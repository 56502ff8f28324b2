"""Which base URLs the plugins accept: http(s) with a host, plain http only on loopback.

Each plugin words its own sentence; the judgement is made here once.
"""

from __future__ import annotations

import ipaddress
from typing import Literal
from urllib.parse import urlsplit

BaseUrlFault = Literal["not a URL", "plain http"]


def is_loopback(host: str) -> bool:
    """Whether ``host`` is ``localhost`` or a loopback IP address (127.0.0.0/8, ::1)."""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def base_url_fault(base_url: str) -> BaseUrlFault | None:
    """What is wrong with ``base_url``: not an http(s) URL with a host, or plain http off
    loopback; None when it is right."""
    parts = urlsplit(base_url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        return "not a URL"
    if parts.scheme == "http" and not is_loopback(parts.hostname):
        return "plain http"
    return None
