"""A client for the admin endpoints (``/_sandbox/...``) of one sandbox server, either vendor.

The tests, the fault suite and the benchmark drive the emulators through this one client::

    admin = Admin(sandbox.personio_url)
    admin.reset("demo")
    admin.faults(burst_429=2, retry_after=1)
    admin.counts()["GET /v1/company/employees"]

Every call raises :class:`AdminError` when the server answers with an error, with its text.
"""

from __future__ import annotations

import time
from types import TracebackType
from typing import TYPE_CHECKING, Any, Self

import httpx
from typing_extensions import override

if TYPE_CHECKING:
    from sandbox.server import Sandbox


def _client(timeout: float) -> httpx.Client:
    """An HTTP client that opens a connection per call: measured on loopback, a call on a kept-alive
    connection to the sandbox took about 40 ms, one on a new connection under 1 ms."""
    return httpx.Client(timeout=timeout, limits=httpx.Limits(max_keepalive_connections=0))


class AdminError(RuntimeError):
    """A sandbox server refused an admin call."""


class _Closing:
    """``with``: the object, closed at the end of the block."""

    def close(self) -> None:
        raise NotImplementedError

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        trace: TracebackType | None,
    ) -> None:
        self.close()


class Admin(_Closing):
    """The admin endpoints of the sandbox server at ``url`` (its base URL, without ``/v3``)."""

    def __init__(
        self, url: str, *, client: httpx.Client | None = None, timeout: float = 120.0
    ) -> None:
        self.url = url.rstrip("/")
        self._own = client is None
        self.client = client if client is not None else _client(timeout)
        self.timeout = timeout

    @override
    def close(self) -> None:
        if self._own:
            self.client.close()

    def call(self, method: str, what: str, body: Any = None) -> Any:
        """``method /_sandbox/what`` with a JSON ``body``; the answer's JSON."""
        response = self.client.request(
            method, f"{self.url}/_sandbox/{what}", json=body, timeout=self.timeout
        )
        if response.status_code >= 400:
            raise AdminError(
                f"the sandbox at {self.url} answered {response.status_code} to "
                f"{method} /_sandbox/{what}: {response.text[:200]}"
            )
        return response.json()

    def up(self) -> bool:
        """Whether the server answers at all (for waiting on a server that is starting)."""
        try:
            return self.client.get(f"{self.url}/_sandbox/requests").status_code == 200
        except httpx.HTTPError:
            return False

    # ---- data -----------------------------------------------------------------------------------

    def state(self) -> dict[str, Any]:
        """Every collection, as ``GET /_sandbox/state`` returns it."""
        return dict(self.call("GET", "state"))

    def load(self, document: dict[str, Any]) -> dict[str, Any]:
        """Replace all data (and clear the request log) with a state document."""
        return dict(self.call("POST", "load", document))

    def reset(self, seed: str = "demo", **params: Any) -> dict[str, Any]:
        """The data of a seed (``demo`` or ``scale`` with its sizes), a fresh request log."""
        return dict(self.call("POST", "reset", {"seed": seed, **params}))

    def restart_counts(self) -> None:
        """A fresh request log, the data kept."""
        self.load(self.state())

    # ---- the request log -------------------------------------------------------------------------

    def requests(self) -> dict[str, Any]:
        """The request log: counts by endpoint, 429s sent, faults injected."""
        return dict(self.call("GET", "requests"))

    def counts(self) -> dict[str, int]:
        """Requests by ``METHOD /path/template`` since the last reset or load."""
        return dict(self.requests()["by_endpoint"])

    # ---- faults and variants ---------------------------------------------------------------------

    def faults(self, **settings: Any) -> dict[str, Any]:
        """Change fault settings (``clear=True`` first restores the defaults); the settings now."""
        return dict(self.call("POST", "faults", settings))

    def clear_faults(self) -> None:
        self.faults(clear=True)

    def variants(self, **switches: Any) -> dict[str, Any]:
        """Set switches of unconfirmed vendor behaviour (``reset=True`` restores the defaults)."""
        if not switches:
            return dict(self.call("GET", "variants"))
        return dict(self.call("POST", "variants", switches))

    def clear_variants(self) -> None:
        self.variants(reset=True)

    # ---- webhook deliveries (Personio only) ----------------------------------------------------

    def emit(self, event_name: str, payload: dict[str, Any], company_id: str | None = None) -> int:
        """Queue an event by hand for every enabled webhook subscribed to it (``company_id``:
        another company's); how many deliveries were queued."""
        body: dict[str, Any] = {"event_name": event_name, "payload": payload}
        if company_id is not None:
            body["company_id"] = company_id
        return int(self.call("POST", "events", body)["queued"])

    def deliveries(self, **settings: Any) -> dict[str, Any]:
        """``pending``, the delivery ``settings`` and every request made (``deliveries``);
        settings given (``ack_seconds``, ``fast_attempts``, ``retry_delays``,
        ``reorder_hold_seconds``, ``clear=True``) are changed first."""
        if not settings:
            return dict(self.call("GET", "deliveries"))
        return dict(self.call("POST", "deliveries", settings))

    def delivered(self, timeout: float = 10.0) -> list[dict[str, Any]]:
        """Every delivery request made, once none is pending (AdminError after ``timeout``)."""
        deadline = time.monotonic() + timeout
        while True:
            answer = self.deliveries()
            if not answer["pending"]:
                return list(answer["deliveries"])
            if time.monotonic() > deadline:
                raise AdminError(f"{answer['pending']} deliveries still pending after {timeout} s")
            time.sleep(0.02)

    def fresh(self, seed: str = "demo", **params: Any) -> None:
        """The data of ``seed``, no faults, default variants and a fresh request log."""
        self.reset(seed, **params)
        self.clear_faults()
        self.clear_variants()


class Admins(_Closing):
    """The admin clients of both servers of a running :class:`~sandbox.server.Sandbox`."""

    def __init__(self, personio_url: str, staffomatic_url: str, timeout: float = 120.0) -> None:
        self.client = _client(timeout)
        self.personio = Admin(personio_url, client=self.client, timeout=timeout)
        self.staffomatic = Admin(staffomatic_url, client=self.client, timeout=timeout)

    @classmethod
    def of(cls, sandbox: Sandbox) -> Admins:
        return cls(sandbox.personio_url, sandbox.staffomatic_url)

    def __getitem__(self, vendor: str) -> Admin:
        """The admin client of ``"personio"`` or ``"staffomatic"``."""
        if vendor not in ("personio", "staffomatic"):
            raise KeyError(vendor)
        return self.personio if vendor == "personio" else self.staffomatic

    @override
    def close(self) -> None:
        self.client.close()

    def fresh(self, seed: str = "demo", **params: Any) -> None:
        """Both servers on ``seed`` with no faults and default variants."""
        self.personio.fresh(seed, **params)
        self.staffomatic.fresh(seed, **params)

    def faults(self, **settings: Any) -> None:
        """The same fault settings on both servers (``clear=True`` first restores the defaults)."""
        self.personio.faults(**settings)
        self.staffomatic.faults(**settings)

    def total(self, figure: str) -> int:
        """A figure of both request logs added up: ``throttled``, ``dropped``, ...."""
        return int(self.personio.requests()[figure]) + int(self.staffomatic.requests()[figure])
