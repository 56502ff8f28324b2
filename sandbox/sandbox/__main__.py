"""``python -m sandbox serve --personio-port 8401 --staffomatic-port 8402 --seed demo``."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import sys

from sandbox.core import bind
from sandbox.personio import PersonioEmulator
from sandbox.server import serve_all
from sandbox.staffomatic import StaffomaticEmulator


def describe(
    personio: PersonioEmulator,
    staffomatic: StaffomaticEmulator,
    host: str,
    personio_port: int,
    staffomatic_port: int,
) -> str:
    """What the sandbox serves: URLs, credentials and the size of each collection."""
    lines = [
        f"Personio    http://{host}:{personio_port}   (v1 and v2 API, admin under /_sandbox/)",
        *(f"  {line}" for line in personio.describe()),
        f"Staffomatic http://{host}:{staffomatic_port}/v3   (admin under /_sandbox/)",
        *(f"  {line}" for line in staffomatic.describe()),
    ]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m sandbox", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)
    serve = commands.add_parser("serve", help="serve both emulators until interrupted")
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument("--personio-port", type=int, default=8401)
    serve.add_argument("--staffomatic-port", type=int, default=8402)
    serve.add_argument("--seed", default="demo", help="demo, scale or empty")
    serve.add_argument("--employees", type=int, help="scale seed: number of employees")
    serve.add_argument("--absences-per-employee", type=int, help="scale seed")
    serve.add_argument("--timers-per-week", type=int, help="scale seed: per employee")
    serve.add_argument("--weeks", type=int, help="scale seed")
    serve.add_argument("--no-rate-limits", action="store_true", help="do not enforce rate limits")
    args = parser.parse_args(argv)

    params = {
        key: value
        for key in ("employees", "absences_per_employee", "timers_per_week", "weeks")
        if (value := getattr(args, key)) is not None
    }
    personio = PersonioEmulator(args.seed, **params)
    staffomatic = StaffomaticEmulator(args.seed, **params)
    if args.no_rate_limits:
        personio.faults.rate_limits = staffomatic.faults.rate_limits = False
    try:
        sockets = [bind(args.host, args.personio_port), bind(args.host, args.staffomatic_port)]
    except OSError as exc:
        print(f"sandbox: cannot listen on {args.host}: {exc}", file=sys.stderr)
        return 1
    print(describe(personio, staffomatic, args.host, args.personio_port, args.staffomatic_port))
    sys.stdout.flush()
    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(serve_all([(personio, sockets[0]), (staffomatic, sockets[1])]))
    return 0


if __name__ == "__main__":
    sys.exit(main())
