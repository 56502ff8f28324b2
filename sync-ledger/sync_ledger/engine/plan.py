"""The plan: what a target's rules decide for one source record, as plain data.

The contract between the rules (pure: a source record, the look-ups and its ledger link in, a
:class:`Plan` out), the applier (sends the plan, or in a dry run pretends to) and the recorder
(run log, links, retry queue, counts):

- ``ops`` run in order; each records its ``action`` in the run log once it succeeded, with its
  own ``reason`` (else the plan's). An op without ``method`` sends nothing and only records (the
  ``link`` of a record found in the destination). Several writes that make one record action
  (a work timer's periods) set ``log=False`` and are followed by one op without ``method`` that
  records the action once they all took effect.
- **Slots** name destination ids. ``Plan.ids`` holds the slots known before the run (``id``, the
  slot of :attr:`Plan.dest_id`, is the destination record). When an op succeeds, the id of the
  record it created fills ``op.ref`` (``id`` unless named otherwise); an op on a known record
  (``record_id``, e.g. a ``link``) fills ``op.ref`` with that id; the slots in ``op.drops`` are
  emptied (a delete). So one source record may own several destination records (a work timer
  becomes several attendance periods, ``ref="p0"``, ``ref="p1"``, ...).
- An op's ``path`` may hold ``{slot}`` placeholders, filled just before it is sent from the
  slots known by then (the id a create returned feeds the ops after it). Bodies and query
  parameters are sent as they are.
- No ops: ``outcome`` says what happened instead (``unchanged``, ``skip`` or ``fail``) and
  ``reason`` why.
- After the ops, ``link`` (fingerprint and data) is saved: :class:`Ref` values in its data are
  replaced by the ids of their slots; a mapping in a list whose slot is empty is left out (so a
  plan that stopped halfway saves exactly the records that exist). When an op failed after
  others succeeded, the link is saved without its fingerprint (the next run plans again).
  ``drop_link`` removes the link instead, once every op succeeded.
- A write whose answer was lost (the request may or may not have happened) raises
  :class:`AnswerLost`; the applier never sends it again blindly.
- ``confirm``: the plan's deletes rest on a source record missing from a read (or judged no
  longer eligible from it). The confirmation step (:mod:`sync_ledger.engine.confirm`) reads
  that one source record first and turns the plan into its deletes or into a ``skip``; the
  applier refuses to send a plan that still asks for confirmation.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from sync_ledger.engine.vocabulary import CREATE, OUTCOMES, WRITE_ACTIONS

DestId = int | str
"""A destination id as the destination returned it (Staffomatic: int, Personio: str)."""

DEST: str = "id"
"""The slot of the plan's destination record (``{id}`` in a path)."""

_PLACEHOLDER = re.compile(r"\{([A-Za-z_][A-Za-z0-9_.:-]*)\}")


class AnswerLost(Exception):
    """A write was sent, but its answer never arrived (timeout, broken connection).

    The write may have happened. The applier reads the destination to find out (the
    destination's ``find`` hook): it links the record if found, sends the write again only if
    the read proves it absent, and otherwise fails the plan so the retry queue takes it.
    """


class UnfilledSlot(LookupError):
    """A path names a slot no earlier op filled (a bug in the rules that planned it)."""


@dataclass(frozen=True, slots=True)
class Ref:
    """In link data: the id of a slot, filled after the ops ran."""

    slot: str = DEST


@dataclass(frozen=True)
class Op:
    """One write request (or, without ``method``, one decision to record)."""

    action: str
    """What the run log records for this op: one of ``WRITE_ACTIONS``."""
    method: str = ""
    """HTTP method; empty: nothing is sent (e.g. ``link`` of a found record)."""
    path: str = ""
    """Request path; may hold ``{slot}`` placeholders (see the module's contract)."""
    body: Any = None
    params: Mapping[str, Any] | None = None
    reason: str = ""
    """Why, for the run log; empty: the plan's reason."""
    ref: str = DEST
    """The slot the id of this op's record fills when it succeeded (a create's new id, or
    ``record_id``)."""
    record_id: DestId | None = None
    """The existing destination record this op concerns, when the rules know it (a ``link``)."""
    drops: tuple[str, ...] = ()
    """Slots emptied when this op succeeded (the record it deleted)."""
    log: bool = True
    """False: the op takes effect but logs no row of its own (one of several writes that make
    one record action, logged once by a later op without ``method``)."""

    def __post_init__(self) -> None:
        if self.action not in WRITE_ACTIONS:
            raise ValueError(f"unknown op action {self.action!r}; use one of {WRITE_ACTIONS}")

    @property
    def sends(self) -> bool:
        return bool(self.method)

    @property
    def creates(self) -> bool:
        """Whether the answer carries the id of a new record (``ref`` takes it)."""
        return self.action == CREATE and self.sends

    def target(self, ids: Mapping[str, DestId]) -> str:
        """The path with its placeholders filled; raises :class:`UnfilledSlot`."""
        return fill_path(self.path, ids)


@dataclass(frozen=True)
class LinkPlan:
    """The ledger link to save after the ops: a fingerprint of what was written, and data
    (ids, dates; never personal data) that may hold :class:`Ref` values."""

    fingerprint: str | None
    data: Mapping[str, Any] = field(default_factory=dict)


@dataclass
class Plan:
    """What to do for one source record (see the module's contract)."""

    entity: str
    source_id: str
    ops: list[Op] = field(default_factory=list)
    outcome: str = ""
    """Without ops: ``unchanged``, ``skip`` or ``fail``."""
    reason: str = ""
    link: LinkPlan | None = None
    drop_link: bool = False
    ids: dict[str, DestId] = field(default_factory=dict)
    """Slots known before the run: ``id`` is the destination record when it exists."""
    dest_slot: str = DEST
    """The slot whose id the run log records as the destination id."""
    held_back: str = ""
    """A look-up missing in the destination that held this record back (e.g. an absence
    type's name): counted in the summary instead of listed as a problem."""
    confirm: bool = False
    """The deletes may be sent only after a direct read of the source record proves it gone
    or removed (see the module's contract)."""

    def __post_init__(self) -> None:
        if self.outcome and self.outcome not in OUTCOMES:
            raise ValueError(f"unknown outcome {self.outcome!r}; use one of {OUTCOMES}")

    @property
    def dest_id(self) -> DestId | None:
        return self.ids.get(self.dest_slot)

    @dest_id.setter
    def dest_id(self, value: DestId | None) -> None:
        if value is None:
            self.ids.pop(self.dest_slot, None)
        else:
            self.ids[self.dest_slot] = value

    @property
    def writes(self) -> bool:
        """Whether any op sends a request."""
        return any(op.sends for op in self.ops)


def advance(ids: dict[str, DestId], op: Op, created: DestId | None = None) -> None:
    """Update the slots after ``op`` succeeded; ``created`` is the id its answer carried."""
    for slot in op.drops:
        ids.pop(slot, None)
    if op.creates and created is not None:
        ids[op.ref] = created
    elif op.record_id is not None:
        ids[op.ref] = op.record_id


def fill_path(path: str, ids: Mapping[str, DestId]) -> str:
    """``path`` with every ``{slot}`` replaced by the slot's id; raises :class:`UnfilledSlot`."""

    def one(match: re.Match[str]) -> str:
        slot = match.group(1)
        if slot not in ids:
            raise UnfilledSlot(f"the path {path!r} needs slot {slot!r}, which no op filled")
        return str(ids[slot])

    return _PLACEHOLDER.sub(one, path)


class _Empty(Exception):
    pass


def fill_data(data: Mapping[str, Any], ids: Mapping[str, DestId]) -> dict[str, Any]:
    """Link data with its :class:`Ref` values replaced by ids. A mapping in a list that holds
    an empty slot is left out of the list; any other top-level value holding one becomes None."""
    return {key: _fill_or_none(value, ids) for key, value in data.items()}


def _fill_or_none(value: Any, ids: Mapping[str, DestId]) -> Any:
    try:
        return _fill(value, ids)
    except _Empty:
        return None


def _fill(value: Any, ids: Mapping[str, DestId]) -> Any:
    if isinstance(value, Ref):
        if value.slot not in ids:
            raise _Empty
        return ids[value.slot]
    if isinstance(value, Mapping):
        return {key: _fill(item, ids) for key, item in value.items()}
    if isinstance(value, list | tuple):
        kept = []
        for item in value:
            try:
                kept.append(_fill(item, ids))
            except _Empty:
                if not isinstance(item, Mapping):
                    kept.append(None)
        return kept
    return value
