"""Fixtures of the fault-injection suite: the session's log book, a monitored sandbox per test,
and the fault-free result of each pipeline (computed once per session) to compare against."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from sandbox.admin import Admins
from sandbox.server import Sandbox, running

from tests.faults.helpers import (
    SPECS,
    LogBook,
    Monitor,
    Pipeline,
    Spec,
    snapshot,
    touched,
)


@pytest.fixture(scope="session")
def book() -> LogBook:
    """Every process output of the suite and every secret seen (scanned by test_secrets)."""
    return LogBook()


@dataclass
class World:
    """A fresh demo sandbox with a monitor on each server and its seeded state."""

    sandbox: Sandbox
    admins: Admins
    personio: Monitor
    staffomatic: Monitor
    seeded: dict[str, dict[str, object]]
    book: LogBook
    workdir: Path

    def pipeline(self, spec: Spec, ledger: str = "ledger.db") -> Pipeline:
        sb = self.sandbox
        url = f"sqlite:///{self.workdir / ledger}"
        return Pipeline(
            spec, self.workdir, self.book, spec.tap_config(sb), spec.target_config(sb, url)
        )

    def destination(self, spec: Spec) -> Monitor:
        return self.staffomatic if spec.source == "personio" else self.personio

    def source(self, spec: Spec) -> Monitor:
        return self.personio if spec.source == "personio" else self.staffomatic

    def touched(self) -> set[str]:
        return touched(self.seeded, snapshot(self.sandbox))


def sandbox_world(
    book: LogBook, workdir: Path, seed: str = "demo", **params: int
) -> Iterator[World]:
    with running(seed=seed, **params) as sb, Admins.of(sb) as admins:
        world = World(
            sb,
            admins,
            Monitor(sb.personio, book),
            Monitor(sb.staffomatic, book),
            snapshot(sb),
            book,
            workdir,
        )
        book.note_state(sb)
        try:
            yield world
        finally:
            book.note_state(sb)


@pytest.fixture
def world(book: LogBook, tmp_path: Path) -> Iterator[World]:
    yield from sandbox_world(book, tmp_path)


@dataclass(frozen=True)
class Expected:
    """What a fault-free run of a pipeline leaves: the destination's content, what it touched."""

    view: dict[str, list[str]]
    touched: frozenset[str]
    writes: int


@pytest.fixture(scope="session")
def expected(book: LogBook, tmp_path_factory: pytest.TempPathFactory) -> Callable[..., Expected]:
    """The fault-free result of a pipeline on a fresh seed (``demo`` unless named), run once per
    pipeline and seed, then cached."""
    cache: dict[str, Expected] = {}

    def get(spec: Spec, seed: str = "demo", **params: int) -> Expected:
        key = f"{spec.name}-{seed}-{sorted(params.items())}"
        if key not in cache:
            workdir = tmp_path_factory.mktemp(f"expected-{spec.name}-{seed}")
            for world in sandbox_world(book, workdir, seed, **params):
                outcome = world.pipeline(spec).run()
                assert (outcome.tap_code, outcome.target_code) == (0, 0), outcome.target_err[-3000:]
                cache[key] = Expected(
                    spec.view(world.sandbox),
                    frozenset(world.touched()),
                    world.destination(spec).writes,
                )
        return cache[key]

    return get


@pytest.fixture(params=SPECS, ids=[s.name for s in SPECS])
def spec(request: pytest.FixtureRequest) -> Spec:
    return request.param
