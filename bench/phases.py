"""One measured run of the benchmark: the plugins' configs, the sandbox's figures before and after,
and the run's record (``results.json``'s ``runs``) and figures.
"""

from __future__ import annotations

import argparse
import json
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from figures import (
    RunFigures,
    count_writes,
    diff_counts,
    pipeline_floor,
    state_changes,
    writes_by_collection,
)
from pipeline_run import BIN, PIPELINES, Pipeline, run_pipeline
from sandbox_process import BenchError, Sandbox
from scheduled import (
    environment,
    installed,
    meltano_file,
    piped_catalogs,
    prepare_catalogs,
    run_schedule,
    warm,
)
from sync_ledger import Ledger

USER_AGENT = "personio-staffomatic-sync benchmark (bench@example.org)"


def configs_for(sb: Sandbox, workdir: Path) -> dict[str, Path]:
    ledger = f"sqlite:///{workdir / 'sync-ledger.db'}"
    personio = {
        "client_id": "demo-client-id",
        "client_secret": "demo-client-secret",
        "base_url": sb.urls["personio"],
    }
    staffomatic = {
        "account": "demo",
        "api_token": "demo-api-token",
        "base_url": f"{sb.urls['staffomatic']}/v3",
        "user_agent": USER_AGENT,
    }
    framed = {"window_activate_version": True}  # as the sync's extractors
    # Each target also reads the other system, only to confirm a record gone before it deletes
    # its copy (its source_* settings, as meltano.yml gives them).
    confirm_personio = {f"source_{key}": value for key, value in personio.items()}
    confirm_staffomatic = {
        f"source_{key}": value for key, value in staffomatic.items() if key != "user_agent"
    }
    configs = {
        "tap-personio": personio | framed,
        "target-staffomatic": staffomatic
        | confirm_personio
        | {"ledger_url": ledger, "absence_source": "personio", "max_parallel_writes": 4},
        "tap-staffomatic": staffomatic | framed,
        "target-personio": personio
        | confirm_staffomatic
        | {"ledger_url": ledger, "absence_source": "personio"},
    }
    paths = {}
    for name, config in configs.items():
        paths[name] = workdir / f"{name}.json"
        paths[name].write_text(json.dumps(config), encoding="utf-8")
    return paths


def snapshot(sb: Sandbox) -> dict[str, dict[str, Any]]:
    return {
        vendor: {
            "requests": sb.admins[vendor].requests(),
            "state": sb.admins[vendor].state(),
        }
        for vendor in sb.urls
    }


def sizes(state: dict[str, Any], names: tuple[str, ...]) -> dict[str, int]:
    return {name: len(state.get(name) or []) for name in names}


def request_diff(
    before: dict[str, dict[str, Any]], after: dict[str, dict[str, Any]]
) -> dict[str, dict[str, Any]]:
    """The requests each server received between two snapshots."""
    requests = {}
    for vendor in before:
        b, a = before[vendor]["requests"], after[vendor]["requests"]
        by_endpoint = diff_counts(b["by_endpoint"], a["by_endpoint"])
        requests[vendor] = {
            "by_endpoint": by_endpoint,
            "total": sum(by_endpoint.values()),
            "writes": count_writes(by_endpoint),
            "throttled": a["throttled"] - b["throttled"],
            "injected_errors": a["injected_errors"] - b["injected_errors"],
            "dropped": a["dropped"] - b["dropped"],
        }
    return requests


@dataclass
class Bench:
    """The runs of one size: piped runs (``runs``, ``figures``) and scheduled ones."""

    args: argparse.Namespace
    sb: Sandbox
    workdir: Path
    configs: dict[str, Path]
    project: Path  # the Meltano project: the scheduled path, and the piped runs' selection
    catalogs: dict[str, Path] = field(default_factory=dict)  # tap -> the production selection
    runs: list[dict[str, Any]] = field(default_factory=list)
    figures: list[RunFigures] = field(default_factory=list)
    scheduled: list[dict[str, Any]] = field(default_factory=list)
    states: dict[str, Path] = field(default_factory=dict)

    def cooldown(self) -> None:
        if self.runs or self.scheduled:
            time.sleep(self.args.cooldown)  # let the last run's requests leave the rate windows

    def select_as_production(self) -> None:
        """The piped runs' catalogs: each tap selects what the ``sync-all`` extractors that run
        it select together (not every stream, as a tap with no catalog would)."""
        print("  the piped runs select as sync-all's extractors ...", end=" ", flush=True)
        env = environment(self.sb, self.workdir)
        taps = [pipeline.tap for pipeline in PIPELINES]
        self.catalogs = piped_catalogs(self.project, env, taps, self.workdir)
        print(", ".join(f"{tap}: {path.name}" for tap, path in self.catalogs.items()))

    def run(self, phase: str, pipeline: Pipeline, changed: dict[str, int] | None = None) -> None:
        self.cooldown()
        state = self.states.get(pipeline.short) if phase == "partial" else None
        before = snapshot(self.sb)
        tag = f"{phase}-{pipeline.short.replace('->', '-to-')}"
        print(f"  {phase:8} {pipeline.tap} | {pipeline.target} ...", end=" ", flush=True)
        wall, processes, messages, last_state = run_pipeline(
            pipeline,
            self.configs,
            state,
            self.workdir,
            tag,
            self.args.run_timeout,
            self.catalogs[pipeline.tap],
        )
        after = snapshot(self.sb)
        print(f"{wall:.1f} s")
        if phase == "full" and last_state is not None:
            self.states[pipeline.short] = self.workdir / f"state-{tag}.json"
            self.states[pipeline.short].write_text(json.dumps(last_state), encoding="utf-8")

        requests = request_diff(before, after)
        destination = requests[pipeline.destination]["by_endpoint"]
        changes = state_changes(
            before[pipeline.destination]["state"],
            after[pipeline.destination]["state"],
            pipeline.written,
        )
        source_changes = state_changes(
            before[pipeline.source]["state"],
            after[pipeline.source]["state"],
            pipeline.reads[pipeline.source],
        )
        floor = pipeline_floor(
            (pipeline.source, requests[pipeline.source]["by_endpoint"]),
            (pipeline.destination, destination),
            self.args.latency_ms,
        )
        written = sum(c.written for c in changes.values())
        emitted = sum(messages.records.values())
        total_requests = sum(r["total"] for r in requests.values())
        run = {
            "phase": phase,
            "pipeline": pipeline.short,
            "tap": pipeline.tap,
            "target": pipeline.target,
            "incremental": state is not None,
            "wall_s": round(wall, 2),
            "floor_s": round(floor, 2),
            "wall_to_floor": round(wall / floor, 3) if floor else None,
            "records_emitted": dict(sorted(messages.records.items())),
            "records_emitted_total": emitted,
            "records_emitted_per_s": round(emitted / wall, 1),
            "other_messages": dict(sorted(messages.other.items())),
            "destination_records": {name: asdict(c) for name, c in changes.items()},
            "records_written": written,
            "records_written_per_s": round(written / wall, 1),
            "source_records_changed_by_the_run": sum(c.written for c in source_changes.values()),
            "requests": requests,
            "requests_total": total_requests,
            "write_requests_by_collection": writes_by_collection(destination),
            "peak_rss_mb": {name: round(p.peak_mb, 1) for name, p in processes.items()},
            "cpu_s": {name: round(p.cpu_s, 2) for name, p in processes.items()},
            "ledger_counts": self.ledger_counts(pipeline.target),
            "dataset_sizes": {
                vendor: sizes(before[vendor]["state"], names)
                for vendor, names in pipeline.reads.items()
            },
        }
        if changed is not None:
            run["source_records_changed_before"] = changed
        self.runs.append(run)
        self.figures.append(
            RunFigures(
                phase,
                pipeline.short,
                wall,
                floor,
                emitted,
                written,
                total_requests,
                sum(r["writes"] for r in requests.values()),
                sum(r["throttled"] for r in requests.values()),
                run["peak_rss_mb"],
            )
        )

    def schedule(
        self,
        name: str,
        compared_with: str,
        nothing_changed: bool,
        before_piped: Callable[[], None] | None = None,
    ) -> None:
        """``scripts/sync.py NAME`` through Meltano, then the same pipelines piped directly:
        each task it ran, with the config and the catalog Meltano handed the plugins (after
        ``before_piped``, e.g. another batch of changes like the one before the schedule), and,
        incremental like the piped ``compared_with`` runs, from the state of the full runs."""
        env = environment(self.sb, self.workdir)
        prepare_catalogs(self.project, name, env)
        self.cooldown()
        plugins = [plugin for pipeline in PIPELINES for plugin in (pipeline.tap, pipeline.target)]
        warm([BIN / "meltano", *(installed(self.project, plugin) for plugin in plugins)])
        print(f"  {name:8} scripts/sync.py through Meltano ...", end=" ", flush=True)
        before = snapshot(self.sb)
        wall, cpu, tasks = run_schedule(
            self.project, name, env, self.workdir / f"scheduled-{name}.log", self.args.run_timeout
        )
        after = snapshot(self.sb)
        print(f"{wall:.1f} s")
        requests = request_diff(before, after)
        if before_piped is not None:
            before_piped()
        piped = [self.piped_task(name, task, env, compared_with == "partial") for task in tasks]
        piped_wall = sum(run["wall_s"] for run in piped)
        print(f"  {'':8} the same {len(piped)} pipelines piped: {piped_wall:.1f} s")
        self.scheduled.append(
            {
                "schedule": name,
                "compared_with": compared_with,
                "nothing_changed": nothing_changed,
                "tasks": tasks,
                "wall_s": round(wall, 2),
                "cpu_s": round(cpu, 2),
                "piped_wall_s": round(piped_wall, 2),
                "piped_cpu_s": round(sum(run["cpu_s"] for run in piped), 2),
                "piped_runs": piped,
                "requests": requests,
                "requests_total": sum(r["total"] for r in requests.values()),
                "writes": sum(r["writes"] for r in requests.values()),
            }
        )

    def piped_task(
        self, name: str, task: str, env: dict[str, str], incremental: bool
    ) -> dict[str, Any]:
        """One task of a schedule as ``tap --catalog --config | target --config``: the installs
        Meltano runs, with the files Meltano made for them (the kept catalog of scripts/sync.py,
        else Meltano's); like the scheduled run, from installs read into the page cache."""
        extractor, loader = task.split()
        found = [p for p in PIPELINES if p.tap == extractor.split("--")[0] and p.target == loader]
        if not found:
            raise BenchError(f"The bench does not know the pipeline of the task {task!r}.")
        pipeline = found[0]
        files = self.workdir / "meltano-files"
        files.mkdir(exist_ok=True)
        kept = self.project / ".meltano" / "sync-catalogs" / f"{extractor}.json"
        catalog = kept if kept.is_file() else None
        if catalog is None:
            catalog = meltano_file(self.project, env, extractor, "catalog", files / kept.name)
        configs = {
            pipeline.tap: meltano_file(self.project, env, extractor, "config", files / "tap.json"),
            loader: meltano_file(self.project, env, loader, "config", files / "target.json"),
        }
        state = self.states.get(pipeline.short) if incremental else None
        installs = {
            pipeline.tap: installed(self.project, extractor),
            loader: installed(self.project, loader),
        }
        self.cooldown()
        warm(list(installs.values()))
        tag = f"piped-{name}-{extractor}"
        wall, processes, _, _ = run_pipeline(
            pipeline, configs, state, self.workdir, tag, self.args.run_timeout, catalog, installs
        )
        print(f"  {'':8} {extractor} | {loader} piped: {wall:.1f} s", flush=True)
        return {
            "task": task,
            "wall_s": round(wall, 2),
            "cpu_s": round(sum(p.cpu_s for p in processes.values()), 2),
        }

    def ledger_counts(self, target: str) -> dict[str, dict[str, int]]:
        with Ledger(f"sqlite:///{self.workdir / 'sync-ledger.db'}") as ledger:
            runs = ledger.runs(target=target, limit=1)
            return ledger.counts(runs[0].id) if runs else {}
