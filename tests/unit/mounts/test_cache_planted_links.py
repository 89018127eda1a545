"""A link planted in the cache in place of ``partial/``, ``entries/`` or one entry is never listed, so
eviction and ``prune`` never remove anything through it (the folders it points at stay whole)."""

from __future__ import annotations

from pathlib import Path

from mounts.cache import ContentCache


def _victim(tmp_path: Path) -> Path:
    """A folder outside the cache that looks like cache entries (what a planted link would point at)."""
    victim = tmp_path / "victim"
    for name in ("aaaa", "bbbb"):
        (victim / name / "data").mkdir(parents=True)
        (victim / name / "data" / "f.txt").write_text("keep me")
        (victim / name / "entry.json").write_text('{"key": "k", "size": 1, "files": 1, "created": 0}')
    return victim


def _intact(victim: Path) -> bool:
    return all((victim / name / "data" / "f.txt").read_text() == "keep me" for name in ("aaaa", "bbbb"))


def test_a_link_in_place_of_partial_is_not_listed_nor_pruned_through(tmp_path: Path) -> None:
    victim = _victim(tmp_path)
    cache = ContentCache(tmp_path / "cache", max_bytes=1)
    cache.root.mkdir(parents=True)
    (cache.root / "partial").symlink_to(victim)
    assert cache.partials() == []
    cache.prune()
    cache.evict(0)
    assert _intact(victim)


def test_a_link_in_place_of_entries_or_of_one_entry_is_not_listed_nor_evicted_through(tmp_path: Path) -> None:
    victim = _victim(tmp_path)
    cache = ContentCache(tmp_path / "cache", max_bytes=1)
    cache.root.mkdir(parents=True)
    (cache.root / "entries").symlink_to(victim)
    assert cache.entries() == []
    cache.evict(0)
    assert _intact(victim)
    (cache.root / "entries").unlink()
    (cache.root / "entries").mkdir()
    (cache.root / "entries" / "aaaa").symlink_to(victim / "aaaa")
    assert cache.entries() == []
    cache.prune()
    assert _intact(victim)
