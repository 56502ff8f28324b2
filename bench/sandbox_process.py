"""The sandbox as its own process on free loopback ports, with its admin clients."""

from __future__ import annotations

import contextlib
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from sandbox.admin import Admins

HOST = "127.0.0.1"


class BenchError(Exception):
    """Something stopped the benchmark; the message is one sentence for a person."""


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind((HOST, 0))
        return int(sock.getsockname()[1])


@dataclass
class Sandbox:
    process: subprocess.Popen[bytes]
    urls: dict[str, str]  # vendor -> base URL of its server (admin under /_sandbox/)
    admins: Admins  # the admin client of each server: admins["personio"], admins["staffomatic"]

    def peak_mb(self) -> float:
        return peak_rss_of_running(self.process.pid)


@contextlib.contextmanager
def sandbox(scale: dict[str, int], workdir: Path) -> Iterator[Sandbox]:
    """``python -m sandbox serve`` with the scale seed, on free ports, in its own process."""
    for _attempt in range(3):
        ports = {"personio": free_port(), "staffomatic": free_port()}
        command = [
            sys.executable,
            "-m",
            "sandbox",
            "serve",
            "--host",
            HOST,
            "--personio-port",
            str(ports["personio"]),
            "--staffomatic-port",
            str(ports["staffomatic"]),
            "--seed",
            "scale",
            *(f"--{key.replace('_', '-')}={value}" for key, value in scale.items()),
        ]
        log = open(workdir / "sandbox.log", "wb")  # noqa: SIM115 (closed below)
        process = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT)
        urls = {vendor: f"http://{HOST}:{port}" for vendor, port in ports.items()}
        admins = Admins(urls["personio"], urls["staffomatic"])
        try:
            if wait_until_up(process, admins, deadline=time.monotonic() + 300):
                yield Sandbox(process, urls, admins)
                return
        finally:
            admins.close()
            if process.poll() is None:
                process.terminate()
                try:
                    process.wait(timeout=10)
                except subprocess.TimeoutExpired:
                    process.kill()
                    process.wait()
            log.close()
    tail = (workdir / "sandbox.log").read_text(errors="replace")[-1500:]
    raise BenchError(f"The sandbox did not start on free loopback ports; its output: {tail}")


def wait_until_up(process: subprocess.Popen[bytes], admins: Admins, deadline: float) -> bool:
    while time.monotonic() < deadline:
        if process.poll() is not None:
            return False  # a port was taken in the meantime: try other ones
        if admins.personio.up() and admins.staffomatic.up():
            return True
        time.sleep(0.2)
    raise BenchError("The sandbox did not answer within 5 minutes of starting.")


def peak_rss_of_running(pid: int) -> float:
    """``VmHWM`` (peak resident set) of a running process, in MB."""
    with contextlib.suppress(OSError):
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    return 0.0
