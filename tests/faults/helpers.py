"""The fault-injection suite's tools: real plugin processes, a request monitor, normalised states.

- :class:`LogBook` keeps the stdout and stderr of every process the suite runs, and every secret
  the suite used or saw (configured secrets, credentials in the sandbox state, every
  ``Authorization`` value a plugin sent), so one test can scan all logs for secrets at the end.
- :class:`Monitor` watches one emulator's vendor requests in the test process: it counts writes,
  notes credentials, and fires :class:`Trigger` s on the n-th write (set a fault, such as the
  sandbox's own "apply this write, then lose its answer", or kill a process).
- :class:`Pipeline` runs ``tap | target`` as two real executables from the virtualenv.
- :func:`staffomatic_view` / :func:`personio_view` reduce a ``/_sandbox/state`` to its meaningful
  content keyed by natural keys, and :func:`touched` lists the seeded records a run changed.
"""

from __future__ import annotations

import base64
import json
import os
import signal
import subprocess
import sys
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sandbox.core import Emulator
from sandbox.server import Sandbox
from starlette.types import Receive, Scope, Send

BIN = Path(sys.executable).parent
USER_AGENT = "fault-suite (tests@example.com)"
SENSITIVE = (
    "client_secret",
    "password",
    "api_token",
    "source_client_secret",
    "source_password",
    "source_api_token",
)


# ---- logs and secrets ---------------------------------------------------------------------------


@dataclass
class LogBook:
    """Every process output of the session and every secret met on the way."""

    texts: list[tuple[str, str]] = field(default_factory=list)
    secrets: set[str] = field(default_factory=set)
    ledgers: set[Path] = field(default_factory=set)
    """SQLite ledger files the targets wrote (secrets must not be stored there either)."""
    runs: int = 0

    def next_run(self) -> int:
        """A number for the next process run of the session (names its log files)."""
        self.runs += 1
        return self.runs

    def add(self, name: str, text: str) -> None:
        self.texts.append((name, text))

    def note_config(self, config: dict[str, Any]) -> None:
        self.secrets.update(str(config[k]) for k in SENSITIVE if config.get(k))
        url = str(config.get("ledger_url") or "")
        if url.startswith("sqlite:///"):
            self.ledgers.add(Path(url.removeprefix("sqlite:///")))

    def note_state(self, sandbox: Sandbox) -> None:
        """Client secrets, passwords, API tokens and issued tokens the sandbox holds now."""
        personio, staffomatic = sandbox.personio.state, sandbox.staffomatic.state
        self.secrets.update(c["client_secret"] for c in personio.get("api_clients", []))
        self.secrets.update(t["token"] for t in personio.get("tokens", []))
        for credential in staffomatic.get("credentials", []):
            self.secrets.update(
                str(credential[k]) for k in ("password", "api_token") if credential.get(k)
            )

    def leaks(self) -> list[str]:
        """``where: secret`` for every secret found in a log or a ledger file (values shorter
        than 6 characters are not taken for secrets)."""
        secrets = [s for s in self.secrets if len(s) >= 6]
        found = [
            f"{name}: {secret[:3]}..."
            for name, text in self.texts
            for secret in secrets
            if secret in text
        ]
        for path in sorted(self.ledgers):
            data = path.read_bytes() if path.exists() else b""
            found += [f"{path}: {s[:3]}..." for s in secrets if s.encode() in data]
        return found


# ---- the request monitor ------------------------------------------------------------------------


@dataclass
class Trigger:
    """What happens on the ``write``-th write request (token requests not counted), or on the
    ``request``-th request of any kind."""

    write: int = 0
    request: int = 0
    before: Callable[[], None] | None = None
    """Called before the request is handled (set a fault, invalidate tokens, kill a process)."""
    after: Callable[[], None] | None = None
    """Called after the request was handled (before a connection cut by the sandbox closes)."""


def lose_answer(emulator: Emulator, how: str = "drop") -> Callable[[], None]:
    """A ``before`` action: the sandbox applies this very write, then cuts the connection
    (``"drop"``, the public fault ``drop_after_next``) or answers 502 (``"error"``,
    ``error_after_next``). Set in-process right before the request is handled: nothing else
    runs in between as long as no latency fault is on."""

    def action() -> None:
        if how == "drop":
            emulator.faults.drop_after_next = 1
        else:
            emulator.faults.error_after_next = 1

    return action


class Monitor:
    """Wraps an emulator's vendor-request handler (in this process) to count requests and fire
    triggers on the n-th one."""

    def __init__(self, emulator: Emulator, book: LogBook) -> None:
        self.emulator = emulator
        self.book = book
        self.original = emulator._vendor_call
        self.writes = 0
        self.requests = 0
        self.triggers: list[Trigger] = []
        self.lock = threading.Lock()
        emulator._vendor_call = self._call

    def add(self, trigger: Trigger) -> None:
        self.triggers.append(trigger)

    def drop_answers(self, *writes: int) -> None:
        """Apply each of these writes, then cut the connection (the sandbox's drop-after fault)."""
        for n in writes:
            self.add(Trigger(n, before=lose_answer(self.emulator, "drop")))

    def error_answers(self, *writes: int) -> None:
        """Apply each of these writes, then answer 502 (the sandbox's error-after fault)."""
        for n in writes:
            self.add(Trigger(n, before=lose_answer(self.emulator, "error")))

    async def _call(
        self, inner: Any, routes: Any, scope: Scope, receive: Receive, send: Send
    ) -> None:
        self._note_credentials(scope)
        write = scope["method"] in ("POST", "PUT", "PATCH", "DELETE")
        write = write and "/auth" not in scope["path"]
        with self.lock:
            self.requests += 1
            if write:
                self.writes += 1
            fired = [
                t
                for t in self.triggers
                if t.request == self.requests or (write and t.write == self.writes)
            ]
        for trigger in fired:
            if trigger.before:
                trigger.before()
        await self.original(inner, routes, scope, receive, send)
        for trigger in fired:
            if trigger.after:
                trigger.after()

    def _note_credentials(self, scope: Scope) -> None:
        for key, value in scope["headers"]:
            if key != b"authorization":
                continue
            kind, _, credential = value.decode("latin-1").partition(" ")
            self.book.secrets.add(credential)
            if kind.lower() == "basic":
                decoded = base64.b64decode(credential).decode("utf-8", "replace")
                self.book.secrets.add(decoded.partition(":")[2])


# ---- running plugins ----------------------------------------------------------------------------


@dataclass
class Outcome:
    """Exit codes and outputs of one pipeline run."""

    tap_code: int | None
    target_code: int | None
    tap_err: str
    target_out: str
    target_err: str


@dataclass(frozen=True)
class Spec:
    """One of the two pipelines, with the configuration it runs with against a sandbox."""

    name: str
    tap: str
    target: str
    source: str  # "personio" or "staffomatic": the system the tap reads

    def tap_config(self, sb: Sandbox) -> dict[str, Any]:
        # window_activate_version: as the sync's extractors, a full read may remove
        if self.source == "personio":
            return {
                "client_id": "demo-client-id",
                "client_secret": "demo-client-secret",
                "base_url": sb.personio_url,
                "window_activate_version": True,
            }
        return {
            "account": "demo",
            "email": "api@demo-gastro.example",
            "password": "demo-password",
            "base_url": sb.staffomatic_api,
            "user_agent": USER_AGENT,
            "window_activate_version": True,
        }

    def target_config(self, sb: Sandbox, ledger_url: str) -> dict[str, Any]:
        """The target's settings, with the source credential a real sync gives it (as
        meltano.yml does) to confirm a deletion by reading the source record first."""
        if self.source == "personio":
            return {
                "account": "demo",
                "api_token": str(sb.staffomatic.state["credentials"][0]["api_token"]),
                "base_url": sb.staffomatic_api,
                "ledger_url": ledger_url,
                "user_agent": USER_AGENT,
                "stream_maps": {"employees": {"__filter__": "shift_planning != False"}},
                "source_client_id": "demo-client-id",
                "source_client_secret": "demo-client-secret",
                "source_base_url": sb.personio_url,
            }
        return {
            "client_id": "demo-client-id",
            "client_secret": "demo-client-secret",
            "base_url": sb.personio_url,
            "ledger_url": ledger_url,
            "absence_source": "staffomatic",
            "source_account": "demo",
            "source_email": "api@demo-gastro.example",
            "source_password": "demo-password",
            "source_base_url": sb.staffomatic_api,
        }

    @property
    def destination_name(self) -> str:
        """``"personio"`` or ``"staffomatic"``: the system the target writes."""
        return "staffomatic" if self.source == "personio" else "personio"

    def destination(self, sb: Sandbox) -> Emulator:
        return sb.staffomatic if self.source == "personio" else sb.personio

    def view(self, sb: Sandbox) -> dict[str, list[str]]:
        """The meaningful content of the destination (what this pipeline writes)."""
        if self.source == "personio":
            return staffomatic_view(sb.staffomatic.state)
        return personio_view(sb.personio.state)


PERSONIO_TO_STAFFOMATIC = Spec(
    "personio-to-staffomatic", "tap-personio", "target-staffomatic", "personio"
)
STAFFOMATIC_TO_PERSONIO = Spec(
    "staffomatic-to-personio", "tap-staffomatic", "target-personio", "staffomatic"
)
SPECS = (PERSONIO_TO_STAFFOMATIC, STAFFOMATIC_TO_PERSONIO)


class Pipeline:
    """``tap --config tap.json | target --config target.json`` as two real processes."""

    def __init__(
        self,
        spec: Spec,
        workdir: Path,
        book: LogBook,
        tap_config: dict[str, Any],
        target_config: dict[str, Any],
    ) -> None:
        self.spec = spec
        self.workdir = workdir
        self.book = book
        self.tap_config = tap_config
        self.target_config = target_config
        self.target_pid: int | None = None

    def run(self, timeout: float = 180, env: dict[str, str] | None = None) -> Outcome:
        """Run the pipeline once to its end (or ``timeout``); outputs go to the log book."""
        n, work = self.book.next_run(), self.workdir
        for name, config in (("tap", self.tap_config), ("target", self.target_config)):
            (work / f"{name}.json").write_text(json.dumps(config), encoding="utf-8")
            self.book.note_config(config)
        env = {**os.environ, "PYTHONUNBUFFERED": "1", **(env or {})}
        names = {k: work / f"run-{n}-{self.spec.name}-{k}.log" for k in ("tap", "out", "err")}
        with (
            open(names["tap"], "w", encoding="utf-8") as tap_err,
            open(names["out"], "w", encoding="utf-8") as target_out,
            open(names["err"], "w", encoding="utf-8") as target_err,
        ):
            tap = subprocess.Popen(
                [str(BIN / self.spec.tap), "--config", str(work / "tap.json")],
                stdout=subprocess.PIPE,
                stderr=tap_err,
                stdin=subprocess.DEVNULL,
                cwd=work,
                env=env,
            )
            target = subprocess.Popen(
                [str(BIN / self.spec.target), "--config", str(work / "target.json")],
                stdin=tap.stdout,
                stdout=target_out,
                stderr=target_err,
                cwd=work,
                env=env,
            )
            self.target_pid = target.pid
            assert tap.stdout is not None
            tap.stdout.close()  # the target holds the only reading end
            try:
                target_code: int | None = target.wait(timeout=timeout)
                tap_code: int | None = tap.wait(timeout=30)
            except subprocess.TimeoutExpired:
                for process in (tap, target):
                    process.kill()
                    process.wait(timeout=10)
                target_code = tap_code = None
            self.target_pid = None
        texts = {k: path.read_text(encoding="utf-8", errors="replace") for k, path in names.items()}
        for key, text in texts.items():
            self.book.add(f"run {n} {self.spec.name} {key}", text)
        return Outcome(tap_code, target_code, texts["tap"], texts["out"], texts["err"])

    def kill_target(self) -> None:
        """SIGKILL the running target (called from a trigger inside the sandbox)."""
        if self.target_pid is not None:
            os.kill(self.target_pid, signal.SIGKILL)


def run_plugin(
    book: LogBook,
    name: str,
    executable: str,
    config: dict[str, Any],
    workdir: Path,
    stdin: bytes = b"",
    timeout: float = 120,
    env: dict[str, str] | None = None,
) -> subprocess.CompletedProcess[str]:
    """One plugin process with a config file and ``stdin``; outputs go to the log book."""
    path = workdir / f"{name}.json"
    path.write_text(json.dumps(config), encoding="utf-8")
    book.note_config(config)
    done = subprocess.run(
        [str(BIN / executable), "--config", str(path)],
        input=stdin,
        capture_output=True,
        timeout=timeout,
        cwd=workdir,
        check=False,
        env={**os.environ, **(env or {})},
    )
    out = done.stdout.decode("utf-8", "replace")
    err = done.stderr.decode("utf-8", "replace")
    book.add(f"{name} stdout", out)
    book.add(f"{name} stderr", err)
    return subprocess.CompletedProcess(done.args, done.returncode, out, err)


GENERIC = "An unhandled error occurred while syncing"
"""The SDK's own line before a stream's error (the plugin's sentence follows it)."""


def error_lines(stderr: str) -> list[str]:
    """The messages of ERROR (and CRITICAL) log lines, the SDK's generic lines left out."""
    found = []
    for line in stderr.splitlines():
        parts = [p.strip() for p in line.split("|")]
        if len(parts) >= 4 and parts[1] in ("ERROR", "CRITICAL"):
            message = "|".join(parts[3:]).strip()
            if message != "Config validation failed" and not message.startswith(GENERIC):
                found.append(message)
    return found


# ---- normalised states --------------------------------------------------------------------------


def _rows(items: Iterator[dict[str, Any]]) -> list[str]:
    return sorted(json.dumps(item, sort_keys=True, ensure_ascii=False) for item in items)


def staffomatic_view(state: dict[str, Any]) -> dict[str, list[str]]:
    """Users, absences, absence types and invitations by natural keys, ids and times dropped."""
    locations = {loc["id"]: loc["name"] for loc in state["locations"]}
    departments = {d["id"]: d["name"] for d in state["departments"]}
    users = {u["id"]: u for u in state["users"]}

    def user_key(uid: Any) -> str:
        user = users.get(uid)
        if user is None:
            return f"missing user {uid}"
        if user.get("custom_id"):
            return f"custom_id {user['custom_id']}"
        if user.get("email"):
            return f"email {str(user['email']).strip().lower()}"
        return f"name {user['first_name']} {user['last_name']}"

    types = {
        t["id"]: f"{locations.get(t['location_id'])}/{t['name']}" for t in state["absence_types"]
    }
    return {
        "users": _rows(
            {
                "key": user_key(u["id"]),
                "email": u.get("email"),
                "first_name": u.get("first_name"),
                "last_name": u.get("last_name"),
                "custom_id": u.get("custom_id"),
                "role": u.get("role"),
                "locked": u.get("locked_at") is not None,
                "max_vacation_days": u.get("max_vacation_days"),
                "max_hours_per_month": u.get("max_hours_per_month"),
                "departments": sorted(departments.get(d, str(d)) for d in u["department_ids"]),
                "locations": sorted(locations.get(x, str(x)) for x in u["location_ids"]),
            }
            for u in state["users"]
        ),
        "absences": _rows(
            {
                "user": user_key(a["applicant_id"]),
                "type": types.get(a["absence_type_id"]),
                "location": locations.get(a.get("location_id")),
                "starts_at": a["starts_at"],
                "ends_at": a["ends_at"],
                "all_day": a.get("all_day"),
                "state": a.get("state"),
            }
            for a in state["absences"]
        ),
        "absence_types": _rows({"type": name} for name in types.values()),
        "invitations": _rows(
            {"user": user_key(i.get("user_id"))} for i in state.get("invitations", [])
        ),
    }


def personio_view(state: dict[str, Any]) -> dict[str, list[str]]:
    """Attendance and absence periods by person, type and times, ids and stamps dropped."""
    types = {t["id"]: t["name"] for t in state["absence_types"]}
    return {
        "attendance_periods": _rows(
            {
                "person": p["person"]["id"],
                "type": p["type"],
                "start": p["start"]["date_time"],
                "end": (p.get("end") or {}).get("date_time"),
                "approval": (p.get("approval") or {}).get("status"),
                "comment": p.get("comment"),
                "project": p.get("project"),
            }
            for p in state["attendance_periods"]
        ),
        "absence_periods": _rows(
            {
                "person": p["person"]["id"],
                "type": types.get(p["absence_type"]["id"]),
                "starts_from": p["starts_from"],
                "ends_at": p.get("ends_at"),
                "approval": (p.get("approval") or {}).get("status"),
                "comment": p.get("comment"),
                "timezone": p.get("timezone_id"),
            }
            for p in state["absence_periods"]
        ),
    }


def snapshot(sb: Sandbox) -> dict[str, dict[str, Any]]:
    """A deep copy of both states, for :func:`touched`."""
    return {
        "personio": json.loads(json.dumps(sb.personio.state)),
        "staffomatic": json.loads(json.dumps(sb.staffomatic.state)),
    }


TRANSIENT = frozenset({"tokens", "credentials", "limits", "rate_limit", "settings"})


def touched(before: dict[str, dict[str, Any]], after: dict[str, dict[str, Any]]) -> set[str]:
    """``system/collection/id`` of every seeded record that changed or vanished."""
    found = set()
    for system, state in before.items():
        for collection, items in state.items():
            if collection in TRANSIENT or not isinstance(items, list):
                continue
            later = after[system].get(collection, [])
            if not all(isinstance(item, dict) and "id" in item for item in items):
                if _rows(iter(items)) != _rows(iter(later[: len(items)])):
                    found.add(f"{system}/{collection}")
                continue
            now = {item.get("id"): item for item in later if isinstance(item, dict)}
            found.update(
                f"{system}/{collection}/{item['id']}"
                for item in items
                if now.get(item["id"]) != item
            )
    return found
