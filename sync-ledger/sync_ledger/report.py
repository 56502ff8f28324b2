"""The report of runs and the plan of a dry run: the data (JSON-ready) and its table rendering."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sync_ledger import events
from sync_ledger.ledger import ACTIONS, Action, Ledger, LedgerError, Retry, RunInfo


def _time(value: datetime | None) -> str | None:
    return None if value is None else value.isoformat()


def _header(ledger: Ledger, run: RunInfo) -> dict[str, Any]:
    return {
        "id": run.id,
        "target": run.target,
        "started_at": _time(run.started_at),
        "finished_at": _time(run.finished_at),
        "dry_run": run.dry_run,
        "status": run.status,
        "counts": run.counts if run.counts is not None else ledger.counts(run.id),
    }


def _row(action: Action) -> dict[str, Any]:
    return {
        "entity": action.entity,
        "source_id": action.source_id,
        "dest_id": action.dest_id,
        "reason": action.reason,
        "at": _time(action.at),
    }


def _retry(retry: Retry) -> dict[str, Any]:
    return {
        "system": retry.system,
        "entity": retry.entity,
        "source_id": retry.source_id,
        "attempts": retry.attempts,
        "first_failed_at": _time(retry.first_failed_at),
        "last_failed_at": _time(retry.last_failed_at),
        "reason": retry.reason,
    }


def _entry(ledger: Ledger, run: RunInfo) -> dict[str, Any]:
    entry = _header(ledger, run)
    logged = ledger.actions(run.id, only=("fail", "skip"))
    entry["failures"] = [_row(a) for a in logged if a.action == "fail"]
    entry["skips"] = [_row(a) for a in logged if a.action == "skip"]
    return entry


def run_data(ledger: Ledger, run_id: int, target: str, started_at: datetime) -> dict[str, Any]:
    """One run (of ``target``, started at ``started_at``), with its failures and skips: the
    report of that run alone."""
    found = [r for r in ledger.runs(target=target, since=started_at) if r.id == run_id]
    if not found:
        raise LedgerError(f"The sync ledger at {ledger.url} has no run {run_id}.")
    return _entry(ledger, found[0])


def report_data(
    ledger: Ledger, *, since: datetime | None = None, target: str | None = None
) -> dict[str, Any]:
    """The last run (or every run since ``since``), oldest first, with failures, skips, retries."""
    found = ledger.runs(target=target, since=since, limit=None if since else 1)
    if not found:
        scope = f" for {target}" if target else ""
        when = f" since {since.isoformat()}" if since else ""
        raise LedgerError(f"The sync ledger at {ledger.url} has no runs{scope}{when}.")
    result = [_entry(ledger, run) for run in reversed(found)]
    return {
        "ledger": ledger.url,
        "runs": result,
        "retries_waiting": len(ledger.all_retries(given_up=False)),
        "given_up": [_retry(r) for r in ledger.all_retries(given_up=True)],
        "events": events.summary(ledger) if events.present(ledger) else None,
    }


def plan_data(
    ledger: Ledger, *, target: str | None = None, since: datetime | None = None
) -> dict[str, Any]:
    """The actions recorded by the last dry run (or every dry run since ``since``), oldest first,
    grouped per entity and action."""
    found = ledger.runs(target=target, since=since, dry_run=True, limit=None if since else 1)
    if not found:
        scope = f" of {target}" if target else ""
        when = f" since {since.isoformat()}" if since else ""
        raise LedgerError(
            f"The sync ledger at {ledger.url} holds no dry run{scope}{when}; "
            "run the target with dry_run: true first."
        )
    plans = []
    for run in reversed(found):
        plan: dict[str, dict[str, list[dict[str, Any]]]] = {}
        for action in ledger.actions(run.id):
            rows = plan.setdefault(action.entity, {}).setdefault(action.action, [])
            rows.append(
                {"source_id": action.source_id, "dest_id": action.dest_id, "reason": action.reason}
            )
        ordered = {
            entity: {a: plan[entity][a] for a in ACTIONS if a in plan[entity]}
            for entity in sorted(plan)
        }
        plans.append({"run": _header(ledger, run), "plan": ordered})
    return {"ledger": ledger.url, "plans": plans}


# table rendering ------------------------------------------------------------------------------


def table(headers: list[str], rows: list[list[Any]]) -> list[str]:
    """Columns padded to their widest cell; numbers right-aligned."""
    cells = [["-" if v is None or v == "" else str(v) for v in row] for row in rows]
    widths = [max(len(h), *(len(r[i]) for r in cells)) for i, h in enumerate(headers)]
    numeric = [bool(rows) and all(isinstance(r[i], int) for r in rows) for i in range(len(headers))]

    def line(values: list[str]) -> str:
        parts = [
            v.rjust(w) if num else v.ljust(w)
            for v, w, num in zip(values, widths, numeric, strict=True)
        ]
        return "  ".join(parts).rstrip()

    return [line(headers), *(line(r) for r in cells)]


STATUS_NOTES = {
    "interrupted": " (its process ended before the run finished; the finish time is its last "
    "stored action)",
}


def _show_time(value: str | None) -> str:
    if value is None:
        return "-"
    return datetime.fromisoformat(value).strftime("%Y-%m-%d %H:%M:%S UTC")


def _run_lines(run: dict[str, Any], title: str) -> list[str]:
    return [
        f"{title} {run['id']}: {run['target']}",
        *_detail_lines(run),
        *_count_lines(run["counts"]),
    ]


def _detail_lines(run: dict[str, Any]) -> list[str]:
    return [
        f"  started   {_show_time(run['started_at'])}",
        f"  finished  {_show_time(run['finished_at'])}",
        f"  dry run   {'yes' if run['dry_run'] else 'no'}",
        f"  status    {run['status']}{STATUS_NOTES.get(run['status'], '')}",
        "",
    ]


def _count_lines(
    counts: dict[str, dict[str, int]], always: tuple[str, ...] = (), total: bool = True
) -> list[str]:
    """One row per entity: the ``always`` columns, then every other action that occurred."""
    if not any(counts.values()):
        return ["No records were processed.", ""]
    order = [*ACTIONS, *(a for a in always if a not in ACTIONS)]
    seen = [a for a in order if a in always or any(per.get(a) for per in counts.values())]
    rows: list[list[Any]] = [
        [entity, *(per.get(a, 0) for a in seen), *([sum(per.values())] if total else [])]
        for entity, per in counts.items()
    ]
    return [*table(["entity", *seen, *(["total"] if total else [])], rows), ""]


def _action_lines(title: str, rows: list[dict[str, Any]], shown: int | None = None) -> list[str]:
    if not rows:
        return []
    if shown == 0:
        return [f"{title} ({len(rows)})", ""]
    body = [[r["entity"], r["source_id"], r["dest_id"], r["reason"]] for r in rows[:shown]]
    headers = ["entity", "source id", "destination id", "reason"]
    return [f"{title} ({len(rows)})", *table(headers, body), ""]


def render_report(data: dict[str, Any]) -> str:
    lines: list[str] = []
    for run in data["runs"]:
        lines += _run_lines(run, "Run")
        lines += _action_lines("Failures", run["failures"])
        lines += _action_lines("Skips", run["skips"])
    given_up = data["given_up"]
    lines.append(f"Retry queue: {data['retries_waiting']} waiting, {len(given_up)} given up.")
    if given_up:
        body = [
            [
                r["system"],
                r["entity"],
                r["source_id"],
                r["attempts"],
                _show_time(r["first_failed_at"]),
                r["reason"],
            ]
            for r in given_up
        ]
        headers = ["system", "entity", "source id", "attempts", "first failed", "reason"]
        lines += ["", f"Given up ({len(given_up)})", *table(headers, body)]
    lines += _event_lines(data.get("events"))
    return "\n".join(lines).rstrip() + "\n"


def _event_lines(data: dict[str, Any] | None) -> list[str]:
    """The webhook events of the receiver (``sync-events``), when it ever stored one."""
    if not data or not data["received"]:
        return []
    lines = [
        "",
        f"Webhook events: {data['received']} received, {data['pending']} pending, "
        f"{data['done']} done, {data['failed']} failed.",
    ]
    oldest = data["oldest_pending"]
    if oldest:
        lines.append(
            f"Oldest pending: {oldest['event_name']} {oldest['record_id']}, received "
            f"{_show_time(oldest['received_at'])}."
        )
    if data["last_failed"]:
        body = [
            [f["event_name"], f["record_id"], f["attempts"], f["reason"]]
            for f in data["last_failed"]
        ]
        lines += ["", "Failed events (newest first)"]
        lines += table(["event", "record id", "attempts", "reason"], body)
    return lines


def render_plan(data: dict[str, Any]) -> str:
    lines: list[str] = []
    for entry in data["plans"]:
        lines += _run_lines(entry["run"], "Plan of dry run")
        for entity, per_action in entry["plan"].items():
            for action, rows in per_action.items():
                body = [[r["source_id"], r["dest_id"], r["reason"]] for r in rows]
                lines += [
                    f"{entity} / {action} ({len(rows)})",
                    *table(["source id", "destination id", "reason"], body),
                    "",
                ]
    return "\n".join(lines).rstrip() + "\n"


SUMMARY_COLUMNS = ("create", "update", "approve", "delete", "skip", "fail", "unchanged")
"""The columns a run summary always shows (other actions appear when they occurred)."""
SUMMARY_ROWS = 30
"""Failures and skips listed in a run summary; the report lists them all."""


def render_summary(
    run: dict[str, Any],
    *,
    unchanged: dict[str, int] | None = None,
    notes: list[str] | None = None,
    limit: int = SUMMARY_ROWS,
) -> str:
    """The summary a target prints at the end of a run: the report of that run (``run_data``)
    with the records it left unchanged, its notes, and at most ``limit`` failures and skips."""
    if run["dry_run"]:
        title = f"Dry run of {run['target']} (nothing written), run {run['id']}"
    else:
        title = f"{run['target']} run {run['id']}"
    counts = {entity: dict(per) for entity, per in run["counts"].items()}
    for entity, count in (unchanged or {}).items():
        counts.setdefault(entity, {})["unchanged"] = count
    counts = dict(sorted(counts.items()))
    failures, skips = run["failures"], run["skips"]
    lines = [title, *_detail_lines(run), *_count_lines(counts, SUMMARY_COLUMNS, total=False)]
    lines += _action_lines("Failures", failures, limit)
    lines += _action_lines("Skips", skips, max(0, limit - len(failures)))
    hidden = len(failures) + len(skips) - limit
    if hidden > 0:
        lines += [f"... and {hidden} more: see `sync-ledger report`", ""]
    lines += notes or []
    return "\n".join(lines).rstrip() + "\n"
