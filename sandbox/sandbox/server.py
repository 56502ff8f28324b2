"""Serving both emulators with uvicorn: from the command line, or in a thread for the tests."""

from __future__ import annotations

import asyncio
import socket
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import uvicorn

from sandbox.core import Emulator, bind
from sandbox.personio import PersonioEmulator
from sandbox.staffomatic import StaffomaticEmulator


def _server(emulator: Emulator) -> uvicorn.Server:
    config = uvicorn.Config(
        emulator.app(), log_level="warning", access_log=False, lifespan="off", timeout_keep_alive=30
    )
    return uvicorn.Server(config)


async def serve_all(pairs: list[tuple[Emulator, socket.socket]]) -> None:
    servers = [_server(emulator) for emulator, _ in pairs]
    await asyncio.gather(
        *(s.serve(sockets=[sock]) for s, (_, sock) in zip(servers, pairs, strict=True))
    )


@dataclass
class Sandbox:
    """Both emulators running in a background thread; URLs are loopback with the real ports."""

    personio: PersonioEmulator
    staffomatic: StaffomaticEmulator
    personio_url: str
    staffomatic_url: str

    @property
    def staffomatic_api(self) -> str:
        """The Staffomatic ``base_url`` for clients (ends in ``/v3``)."""
        return f"{self.staffomatic_url}/v3"


@contextmanager
def running(seed: str = "demo", host: str = "127.0.0.1", **params: Any) -> Iterator[Sandbox]:
    """Run both emulators on free loopback ports for the duration of the ``with`` block."""
    personio, staffomatic = PersonioEmulator(seed, **params), StaffomaticEmulator(seed, **params)
    sockets = [bind(host, 0), bind(host, 0)]
    servers = [_server(personio), _server(staffomatic)]
    loop = asyncio.new_event_loop()

    async def main() -> None:
        await asyncio.gather(*(s.serve(sockets=[k]) for s, k in zip(servers, sockets, strict=True)))

    thread = threading.Thread(target=loop.run_until_complete, args=(main(),), daemon=True)
    thread.start()
    while not all(s.started for s in servers):
        if not thread.is_alive():
            raise RuntimeError("the sandbox servers did not start")
        threading.Event().wait(0.01)
    ports = [k.getsockname()[1] for k in sockets]
    try:
        yield Sandbox(
            personio,
            staffomatic,
            f"http://{host}:{ports[0]}",
            f"http://{host}:{ports[1]}",
        )
    finally:
        for s in servers:
            s.should_exit = True
        thread.join(timeout=10)
        loop.close()
        personio.close()
        staffomatic.close()
        for k in sockets:
            k.close()
