"""One version of each source record per run: the newest (both targets' sinks use it)."""

from __future__ import annotations

from sync_ledger.targets import NewestOnly


def _v(rid: str, updated: str | None, tag: str) -> dict[str, str | None]:
    return {"id": rid, "updated_at": updated, "tag": tag}


def test_within_a_batch_the_newest_version_wins_and_the_last_read_on_a_tie() -> None:
    newest = NewestOnly("updated_at")
    batch = [
        _v("1", "2026-01-02T10:00:00+00:00", "newer"),
        _v("1", "2026-01-01T10:00:00+00:00", "older"),
        _v("2", "2026-01-01T10:00:00Z", "first"),
        _v("2", "2026-01-01T11:00:00+01:00", "same time, read last"),
        _v("3", None, "no time"),
        _v("3", None, "no time, read last"),
    ]
    assert [r["tag"] for r in newest(batch)] == [
        "newer",
        "same time, read last",
        "no time, read last",
    ]


def test_a_version_older_than_one_already_handed_on_is_dropped_in_a_later_batch() -> None:
    newest = NewestOnly("updated_at")
    assert [r["tag"] for r in newest([_v("1", "2026-01-02T10:00:00+00:00", "newer")])] == ["newer"]
    assert newest([_v("1", "2026-01-01T10:00:00+00:00", "older")]) == []
    later = newest([_v("1", "2026-01-03T10:00:00+00:00", "newest")])
    assert [r["tag"] for r in later] == ["newest"]


def test_a_time_without_offset_counts_as_utc() -> None:
    newest = NewestOnly("updated_at")
    assert len(newest([_v("1", "2026-01-01T10:00:00", "naive")])) == 1
    assert newest([_v("1", "2026-01-01T11:00:00+02:00", "09:00 UTC")]) == []
    assert len(newest([_v("1", "2026-01-01T11:00:00+01:00", "10:00 UTC")])) == 1
