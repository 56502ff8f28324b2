"""`sync-ledger report` and `sync-ledger plan`: what runs did and what a dry run would do."""

from __future__ import annotations

import argparse
import json
import os
import re
import sys
from collections.abc import Sequence
from datetime import UTC, date, datetime, timedelta

from sqlalchemy.exc import SQLAlchemyError

from sync_ledger.ledger import Ledger, LedgerError, default_url, safe_url
from sync_ledger.report import plan_data, render_plan, render_report, report_data

_UNITS = {"m": "minutes", "h": "hours", "d": "days", "w": "weeks"}


def parse_since(value: str, now: datetime | None = None) -> datetime:
    """An ISO date or time (UTC unless it has an offset), or a duration back from now: 7d, 12h."""
    duration = re.fullmatch(r"\s*(\d+)\s*([mhdw])\s*", value)
    if duration:
        amount, unit = duration.groups()
        return (now or datetime.now(UTC)) - timedelta(**{_UNITS[unit]: int(amount)})
    try:
        if re.fullmatch(r"\d{4}-\d{2}-\d{2}", value.strip()):
            return datetime.combine(date.fromisoformat(value.strip()), datetime.min.time(), UTC)
        parsed = datetime.fromisoformat(value.strip())
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"{value!r} is neither an ISO date or time (2025-03-01, 2025-03-01T06:00+01:00) "
            "nor a duration such as 30m, 12h, 7d or 2w"
        ) from None
    return parsed.replace(tzinfo=UTC) if parsed.tzinfo is None else parsed.astimezone(UTC)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="sync-ledger",
        description="Show what the Personio <-> Staffomatic sync did, from its ledger.",
    )
    parser.add_argument(
        "--ledger-url",
        help="the ledger's SQLAlchemy URL (default: $SYNC_LEDGER_URL, else "
        "sqlite:///<$MELTANO_PROJECT_ROOT or current directory>/sync-ledger.db)",
    )
    commands = parser.add_subparsers(dest="command", required=True)
    report = commands.add_parser(
        "report", help="the last run, or every run since a time: counts, failures, skips"
    )
    plan = commands.add_parser(
        "plan", help="the actions the last dry run (or every dry run since a time) would take"
    )
    for sub in (report, plan):
        sub.add_argument(
            "--since",
            type=parse_since,
            help="every run started since: ISO date/time or 7d, 12h, 30m",
        )
        sub.add_argument("--target", help="only runs of this target, e.g. target-staffomatic")
        sub.add_argument("--format", choices=("table", "json"), default="table")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    url = args.ledger_url or os.environ.get("SYNC_LEDGER_URL") or default_url()
    try:
        with Ledger(url, create=False) as ledger:
            if args.command == "report":
                data = report_data(ledger, since=args.since, target=args.target)
                text = render_report(data)
            else:
                data = plan_data(ledger, target=args.target, since=args.since)
                text = render_plan(data)
    except LedgerError as exc:
        print(f"sync-ledger: {exc}", file=sys.stderr)
        return 1
    except SQLAlchemyError as exc:
        reason = str(getattr(exc, "orig", None) or exc).strip().splitlines()[0]
        print(
            f"sync-ledger: reading the ledger at {safe_url(url)} failed ({reason}); "
            "check that the database is reachable.",
            file=sys.stderr,
        )
        return 1
    sys.stdout.write(json.dumps(data, indent=2) + "\n" if args.format == "json" else text)
    return 0
