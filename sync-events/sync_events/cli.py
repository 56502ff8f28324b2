"""``sync-events register`` and ``sync-events serve`` (run as the Meltano utility
``sync-events``: ``meltano invoke sync-events serve``)."""

from __future__ import annotations

import argparse
import logging
import sys
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager

from starlette.applications import Starlette
from sync_ledger import Ledger, LedgerError, default_url

from sync_events.app import create_app
from sync_events.register import register
from sync_events.settings import Settings, SettingsError
from sync_events.worker import MeltanoRunner, Worker


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="sync-events",
        description="Receive Personio's webhooks and sync the records they name to Staffomatic.",
    )
    commands = parser.add_subparsers(dest="command", required=True)
    commands.add_parser("register", help="create or update the Personio webhook (idempotent)")
    commands.add_parser("serve", help="receive deliveries at /events and sync them")
    return parser


def serve(settings: Settings) -> None:
    import uvicorn

    ledger = Ledger(settings.ledger_url or default_url())
    worker = Worker(settings, ledger, MeltanoRunner(settings))

    @asynccontextmanager
    async def lifespan(_app: Starlette) -> AsyncIterator[None]:
        worker.start()  # the events a stopped receiver left pending run first
        try:
            yield
        finally:
            worker.stop()
            ledger.close()

    app = create_app(settings, ledger, on_stored=worker.wake, lifespan=lifespan)
    uvicorn.run(
        app,
        host=settings.host,
        port=settings.port,
        ssl_certfile=settings.tls_cert,
        ssl_keyfile=settings.tls_key,
        log_level="info",
        proxy_headers=True,
        forwarded_allow_ips="127.0.0.1",
        timeout_graceful_shutdown=10,
        limit_concurrency=100,
    )


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s %(message)s")
    try:
        settings = Settings.from_env()
        if args.command == "register":
            print(register(settings))
        else:
            serve(settings)
    except (SettingsError, LedgerError) as exc:
        print(f"sync-events: {exc}", file=sys.stderr)
        return 1
    return 0
