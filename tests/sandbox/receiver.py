"""A tiny webhook receiver on loopback for the delivery tests (``http.server`` in a thread).

It records every request (headers and JSON body) and answers each with the next entry of a
script: a status code, or ``(status, seconds)`` to wait that long first; 200 once the script is
used up.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

Answer = int | tuple[int, float]


@dataclass
class Received:
    headers: dict[str, str]
    body: dict[str, Any]


@dataclass
class Receiver:
    url: str
    port: int
    script: list[Answer] = field(default_factory=list)
    received: list[Received] = field(default_factory=list)
    release: threading.Event = field(default_factory=threading.Event)
    """Cleared: every request waits until it is set (to prove the sender does not wait)."""

    def names(self) -> list[str]:
        return [r.body["event_name"] for r in self.received]

    def wait_for(self, count: int, timeout: float = 10.0) -> list[Received]:
        deadline = time.monotonic() + timeout
        while len(self.received) < count and time.monotonic() < deadline:
            time.sleep(0.01)
        return list(self.received)


@contextmanager
def receiving(script: list[Answer] | None = None, port: int = 0) -> Iterator[Receiver]:
    """A receiver on loopback (``port``, or a free one) for the duration of the ``with`` block."""
    receiver = Receiver(url="", port=port, script=list(script or []))
    receiver.release.set()
    lock = threading.Lock()

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            body = json.loads(self.rfile.read(length) or b"{}")
            receiver.release.wait(timeout=30)
            with lock:
                receiver.received.append(Received(dict(self.headers.items()), body))
                answer = receiver.script.pop(0) if receiver.script else 200
            status, pause = answer if isinstance(answer, tuple) else (answer, 0.0)
            if pause:
                time.sleep(pause)
            try:
                self.send_response(status)
                self.send_header("Content-Length", "0")
                self.end_headers()
            except OSError:
                pass  # the sender gave up waiting

        def log_message(self, format: str, *args: Any) -> None:
            return None

    server = ThreadingHTTPServer(("127.0.0.1", port), Handler)
    server.daemon_threads = True
    receiver.port = int(server.server_address[1])
    receiver.url = f"http://127.0.0.1:{receiver.port}/personio/events"
    thread = threading.Thread(target=server.serve_forever, args=(0.02,), daemon=True)
    thread.start()
    try:
        yield receiver
    finally:
        receiver.release.set()
        server.shutdown()
        server.server_close()
