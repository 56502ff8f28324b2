"""Contract: every Staffomatic response of the emulator carries the keys of the vendor's own.

Each recorded production request (2017) is replayed against the demo seed, with the recorded ids
swapped for ids of the seed, and so is each response example of the official docs. The emulator's
object must hold every key of the vendor's object with a compatible JSON type (null is compatible
with anything). The reference material sits beside the repository, in ``shared/reference``.
"""

from __future__ import annotations

import base64
import json
import re
from pathlib import Path
from typing import Any

import pytest
from sandbox.staffomatic import StaffomaticEmulator
from starlette.testclient import TestClient

from sandbox import roster

REFERENCE = Path(__file__).parents[2].parent / "shared" / "reference" / "staffomatic"
RECORDED = REFERENCE / "recorded-responses-2017"
RECORDED_2014 = REFERENCE / "recorded-responses-2014-dev"
DOCS = REFERENCE / "official-docs" / "ressources"
EMULATED = {
    "absence_types", "absences", "account", "break_timers", "departments", "locations", "users",
    "work_timers",
}  # fmt: skip
MISSING = f"the Staffomatic reference material is not at {REFERENCE}; contract tests need it"


def _files(folder: Path, pattern: str) -> list[Path]:
    return sorted(folder.glob(pattern)) if folder.is_dir() else []


def _text(body: dict[str, Any] | None) -> str:
    if not body:
        return ""
    if "base64_string" in body:
        return base64.b64decode(body["base64_string"]).decode()
    return str(body.get("string", ""))


def _json(text: str) -> Any:
    """A recorded body; redacted values such as ``<STAFFOMATIC_CLIENT_ID>`` become strings."""
    return json.loads(re.sub(r":<([A-Z_]+)>", r':"\1"', text)) if text.strip() else None


def _kind(value: Any) -> str:
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int | float):
        return "number"
    kinds: dict[type, str] = {str: "string", list: "array", dict: "object"}
    return kinds.get(type(value), "null")


def assert_carries(vendor: Any, ours: Any, where: str) -> None:
    if isinstance(vendor, list):
        assert isinstance(ours, list), f"{where}: expected a list, got {ours!r}"
        if vendor:
            assert ours, f"{where}: the vendor's list has items, the emulator's is empty"
            assert_carries(vendor[0], ours[0], where)
        return
    assert isinstance(ours, dict), f"{where}: expected an object, got {ours!r}"
    missing = sorted(set(vendor) - set(ours))
    assert not missing, f"{where}: the emulator's object lacks {missing}"
    clashes = {
        key: (_kind(value), _kind(ours[key]))
        for key, value in vendor.items()
        if None not in (value, ours[key]) and _kind(value) != _kind(ours[key])
    }
    assert not clashes, f"{where}: JSON types differ (vendor, emulator): {clashes}"


RECORDED_2017_WORLD = {"create_status": "200"}
"""The 2017 production recordings answered creates 200 where the docs say 201."""
RECORDED_2014_WORLD = {"user_fields": "extended"}
"""The 2014 dev server showed user fields the docs do not (``full_name``, ``account_id``...)."""


class Replayer:
    """Sends vendor requests to a fresh demo emulator with the ids swapped for the seed's.

    ``variants`` switch the emulator to the world a recording came from where it differs from
    the documents (the sandbox's defaults follow the documents).
    """

    def __init__(self, variants: dict[str, str] | None = None) -> None:
        self.emulator = StaffomaticEmulator("demo")
        self.client = TestClient(self.emulator.app())
        if variants:
            self.client.post("/_sandbox/variants", json=variants).raise_for_status()
        token = base64.b64encode(
            f"{roster.STAFFOMATIC_EMAIL}:{roster.STAFFOMATIC_PASSWORD}".encode()
        )
        self.auth = {"Authorization": f"Basic {token.decode()}"}

    def pick(self, collection: str, location_id: int | None) -> int:
        """An id of ``collection`` (in the location) a replayed write can act on."""
        items = self.emulator.state[collection]
        if location_id is not None and collection != "locations":
            items = [i for i in items if i.get("location_id") == location_id] or items
        wanted = {"absences": ("state", "new"), "work_timers": ("state", "stopped")}.get(collection)
        if wanted:
            items = [i for i in items if i.get(wanted[0]) == wanted[1]] or items
        if collection == "users":
            items = [i for i in items if i.get("custom_id")] or items
        return int(items[0]["id"])

    def path(self, path: str) -> str:
        path, mark, query = path.partition("?")
        segments = path.split("/")
        location_id = None
        for n, segment in enumerate(segments):
            number, dot, suffix = segment.partition(".")
            if number.isdigit() and n > 0:
                segments[n] = f"{self.pick(segments[n - 1], location_id)}{dot}{suffix}"
                if segments[n - 1] == "locations":
                    location_id = int(segments[n].partition(".")[0])
        return "/".join(segments) + mark + query

    def body(self, body: Any) -> Any:
        if not isinstance(body, dict):
            return body
        swaps = {
            "applicant_id": lambda: self.pick("users", None),
            "user_id": lambda: self.pick("users", None),
            "absence_type_id": lambda: self.pick("absence_types", None),
            "work_timer_id": lambda: self.pick("work_timers", None),
        }
        return {k: swaps[k]() if k in swaps and isinstance(v, int) else v for k, v in body.items()}

    def send(self, method: str, path: str, body: Any, headers: dict[str, str]) -> Any:
        content = json.dumps(self.body(body)).encode() if body is not None else None
        return self.client.request(
            method, self.path(path), content=content, headers=headers | self.auth
        )


def _vendor_path(uri: str) -> str:
    path = re.sub(r"^https?://[^/]+(/api)?", "", uri)
    return path.replace("<STAFFOMATIC_TEST_ACCOUNT>", roster.STAFFOMATIC_ACCOUNT)


@pytest.mark.parametrize(
    "cassette",
    _files(RECORDED, "*.json") or [None],
    ids=lambda p: p.stem.removeprefix("Staffomatic_Client_") if p else "absent",
)
def test_emulator_answers_each_recorded_request_with_the_recorded_keys(
    cassette: Path | None,
) -> None:
    if cassette is None:
        pytest.skip(MISSING)
    replayer = Replayer(RECORDED_2017_WORLD)
    for interaction in json.loads(cassette.read_text())["http_interactions"]:
        request, recorded = interaction["request"], interaction["response"]
        headers = {
            key: values[0]
            for key, values in request["headers"].items()
            if key in ("Accept", "User-Agent", "Content-Type")
        }
        body = _json(_text(request.get("body")))
        response = replayer.send(
            request["method"].upper(), _vendor_path(request["uri"]), body, headers
        )
        where = f"{request['method'].upper()} {request['uri']}"
        assert response.status_code == recorded["status"]["code"], f"{where}: {response.text}"
        vendor = _json(_text(recorded.get("body")))
        if vendor is not None:
            assert_carries(vendor, response.json(), where)


def _doc_examples() -> list[tuple[str, str, Any]]:
    """(resource, GET path, example) for each response example in the official docs."""
    examples = []
    for page in _files(DOCS, "*.md"):
        if page.stem not in EMULATED:
            continue
        text = page.read_text()
        start = 0
        for match in re.finditer(r"```json\n(.*?)```", text, flags=re.DOTALL):
            gets = re.findall(r"^\* `GET (\S+)`", text[start : match.start()], flags=re.MULTILINE)
            start = match.end()
            if gets:
                examples.append((page.stem, gets[0], json.loads(match.group(1))))
    return examples


@pytest.mark.parametrize(
    ("resource", "path", "example"),
    _doc_examples() or [("absent", "", None)],
    ids=lambda value: value if isinstance(value, str) else "",
)
def test_emulator_carries_the_keys_of_each_documented_example(
    resource: str, path: str, example: Any
) -> None:
    if example is None:
        pytest.skip(MISSING)
    replayer = Replayer()
    query = {"state": "all"} if resource == "users" else {}
    target = replayer.path(f"/v3/{roster.STAFFOMATIC_ACCOUNT}{path}")
    response = replayer.client.get(
        target, params=query, headers={"User-Agent": "Contract (tests@example.com)"} | replayer.auth
    )
    assert response.status_code == 200, response.text
    assert_carries(example, response.json(), f"{resource}: GET {path}")


def test_users_carry_the_keys_and_link_header_of_the_2014_paging_recording() -> None:
    cassettes = _files(RECORDED_2014, "*.json")
    if not cassettes:
        pytest.skip(MISSING)
    replayer = Replayer(RECORDED_2014_WORLD)
    interaction = json.loads(cassettes[0].read_text())["http_interactions"][0]
    vendor = _json(_text(interaction["response"]["body"]))
    response = replayer.send(
        "GET",
        f"/v3/{roster.STAFFOMATIC_ACCOUNT}/users?per_page=1",
        None,
        {"User-Agent": "Contract (tests@example.com)"},
    )
    assert_carries(vendor, response.json(), "GET /users?per_page=1")
    rels = re.findall(r'rel="(\w+)"', response.headers["Link"])
    recorded = re.findall(r'rel="(\w+)"', interaction["response"]["headers"]["Link"][0])
    assert rels == recorded
