"""The pure reconciliation of a changed timer's linked periods with its new timeline."""

from __future__ import annotations

from target_personio.rules import reconcile


def slot(kind: str, start: str, end: str, pid: str | None = None) -> dict[str, str]:
    base = {"type": kind, "start": f"2024-10-29T{start}:00", "end": f"2024-10-29T{end}:00"}
    return {"id": pid, **base} if pid else base


def test_reconcile_pairs_periods_by_kind_and_order_and_keeps_unmoved_ones() -> None:
    linked = [slot("WORK", "08:00", "12:00", "a"), slot("BREAK", "12:00", "12:30", "b")]
    linked.append(slot("WORK", "12:30", "16:00", "c"))
    new = [slot("WORK", "08:00", "12:00"), slot("BREAK", "12:00", "12:45")]
    new.append(slot("WORK", "12:45", "16:00"))
    steps = reconcile(linked, new)
    assert steps.drop == []
    assert steps.add == []
    assert [p["id"] for p in steps.kept] == ["a"]
    assert [(m.id, m.after["start"][11:16]) for m in steps.moves] == [
        ("c", "12:45"),
        ("b", "12:00"),
    ]


def test_reconcile_drops_extras_and_adds_missing_slots() -> None:
    linked = [slot("WORK", "08:00", "16:00", "a")]
    new = [slot("WORK", "08:00", "12:00"), slot("BREAK", "12:00", "12:30")]
    new.append(slot("WORK", "12:30", "16:00"))
    steps = reconcile(linked, new)
    assert [m.id for m in steps.moves] == ["a"]
    assert [(s["type"], s["start"][11:16]) for s in steps.add] == [
        ("WORK", "12:30"),
        ("BREAK", "12:00"),
    ]
    assert steps.changes
    back = reconcile(
        [slot("WORK", "08:00", "12:00", "a"), slot("BREAK", "12:00", "12:30", "b")], []
    )
    assert [p["id"] for p in back.drop] == ["a", "b"]


def test_reconcile_moves_later_periods_last_first_and_earlier_ones_first_first() -> None:
    linked = [
        slot("WORK", "08:00", "10:00", "a"),
        slot("WORK", "11:00", "13:00", "b"),
        slot("WORK", "14:00", "16:00", "c"),
    ]
    later = reconcile(
        linked,
        [
            slot("WORK", "09:00", "11:00"),
            slot("WORK", "12:00", "14:00"),
            slot("WORK", "15:00", "17:00"),
        ],
    )
    assert [m.id for m in later.moves] == ["c", "b", "a"]
    earlier = reconcile(
        linked,
        [
            slot("WORK", "07:00", "09:00"),
            slot("WORK", "10:00", "12:00"),
            slot("WORK", "13:00", "15:00"),
        ],
    )
    assert [m.id for m in earlier.moves] == ["a", "b", "c"]
    mixed = reconcile(
        linked,
        [
            slot("WORK", "07:00", "09:00"),
            slot("WORK", "11:00", "13:00"),
            slot("WORK", "15:00", "17:00"),
        ],
    )
    assert [m.id for m in mixed.moves] == ["c", "a"]
    assert [p["id"] for p in mixed.kept] == ["b"]
    assert not reconcile(linked, [dict(p) for p in linked]).changes
