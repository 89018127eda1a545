"""The cache's size limit counts partial entries (downloads cut short, kept to resume): an abandoned one
is evicted by age like a complete entry, one a download is writing never is; `runner cache list` shows
them, `runner cache prune` says what it dropped; a hit walks no partial entry."""

from __future__ import annotations

import json
import os
import time
from collections.abc import Callable
from pathlib import Path

import pytest
from click.testing import CliRunner

from mounts.cache import ContentCache
from mounts.transfer.tree import remove_tree
from runner.cli.main import app
from runner.workspace.db import Workspace


def filler(files: dict[str, bytes]) -> Callable[[Path, Path], None]:
    def fill(data: Path, state: Path) -> None:
        for name, content in files.items():
            (data / name).write_bytes(content)
    return fill


def use(cache: ContentCache, key: str, fill: Callable[[Path, Path], None]) -> Path:
    with cache.use(key, fill) as (folder, _hit):
        return folder


def interrupted(cache: ContentCache, key: str, files: dict[str, bytes]) -> None:
    """A fill that writes ``files`` and then loses the storage: its partial entry stays to resume."""
    def fill(data: Path, state: Path) -> None:
        filler(files)(data, state)
        raise ConnectionError("storage went away")

    with pytest.raises(ConnectionError):
        use(cache, key, fill)


def backdate(path: Path, seconds: float) -> None:
    """``path`` and everything below it last changed ``seconds`` ago (no link followed)."""
    when = time.time() - seconds
    for folder, dirs, names in os.walk(path):
        for name in [*dirs, *names]:
            os.utime(os.path.join(folder, name), (when, when), follow_symlinks=False)
    os.utime(path, (when, when), follow_symlinks=False)


def entry_meta(cache: ContentCache, key: str) -> Path:
    entry = cache.lookup(key)
    assert entry is not None
    return entry.data.parent / "entry.json"


def partial_folders(cache: ContentCache) -> list[Path]:
    where = cache.root / "partial"
    return sorted(where.iterdir()) if where.is_dir() else []


def test_an_abandoned_partial_entry_counts_and_goes_first_when_it_is_the_oldest(tmp_path: Path) -> None:
    cache = ContentCache(tmp_path / "cache", max_bytes=2500)
    interrupted(cache, "p", {"f": b"p" * 1000})
    backdate(cache.root / "partial", 300)  # abandoned five minutes ago
    use(cache, "a", filler({"f": b"a" * 1000}))
    backdate(entry_meta(cache, "a"), 200)
    use(cache, "c", filler({"f": b"c" * 1000}))  # 3000 bytes held: the oldest thing goes
    assert partial_folders(cache) == []
    assert {e.key for e in cache.entries()} == {"a", "c"}
    assert cache.partials() == [] and cache.total_bytes() == 2000


def test_a_partial_entry_newer_than_a_complete_one_makes_the_complete_one_go(tmp_path: Path) -> None:
    cache = ContentCache(tmp_path / "cache", max_bytes=2500)
    use(cache, "a", filler({"f": b"a" * 1000}))
    backdate(entry_meta(cache, "a"), 300)
    interrupted(cache, "p", {"f": b"p" * 1000})
    backdate(cache.root / "partial", 200)
    use(cache, "c", filler({"f": b"c" * 1000}))
    assert [e.key for e in cache.entries()] == ["c"]
    (partial,) = cache.partials()
    assert (partial.key, partial.size, partial.files) == ("p", 1000, 1)
    assert (partial.folder / "data" / "f").read_bytes() == b"p" * 1000  # still there to resume
    assert cache.total_bytes() == 2000


def test_an_interrupted_fill_keeps_the_cache_within_its_limit_and_still_resumes(tmp_path: Path) -> None:
    cache = ContentCache(tmp_path / "cache", max_bytes=1500)
    use(cache, "a", filler({"f": b"a" * 1000}))
    backdate(entry_meta(cache, "a"), 300)
    interrupted(cache, "p", {"f": b"p" * 1000})  # 2000 bytes held: the older complete entry goes
    assert cache.entries() == [] and [p.key for p in cache.partials()] == ["p"]
    seen: list[bytes] = []

    def resume(data: Path, state: Path) -> None:
        seen.append((data / "f").read_bytes())
        (data / "g").write_bytes(b"g")

    folder = use(cache, "p", resume)
    assert seen == [b"p" * 1000] and sorted(p.name for p in folder.iterdir()) == ["f", "g"]
    assert cache.partials() == []
    assert not (folder.parent / "key").exists()  # the partial's bookkeeping stays out of the entry


def test_a_partial_entry_a_download_is_writing_counts_but_is_never_evicted(tmp_path: Path) -> None:
    cache = ContentCache(tmp_path / "cache", max_bytes=1500)
    use(cache, "a", filler({"f": b"a" * 1000}))
    backdate(entry_meta(cache, "a"), 300)
    evicted: list[list[str | None]] = []

    def fill(data: Path, state: Path) -> None:
        (data / "f").write_bytes(b"p" * 1000)
        backdate(data.parent, 600)  # older than everything: only being written keeps it
        evicted.append([e.key for e in cache.evict()])  # another job's miss, while this one downloads
        evicted.append([e.key for e in cache.evict(max_bytes=0)])
        assert (data / "f").read_bytes() == b"p" * 1000
        (data / "g").write_bytes(b"g")

    folder = use(cache, "p", fill)
    assert evicted == [["a"], []]
    assert sorted(p.name for p in folder.iterdir()) == ["f", "g"]
    assert [e.key for e in cache.entries()] == ["p"]


def test_a_partial_entry_a_waiting_job_leases_is_not_evicted(tmp_path: Path) -> None:
    """A job that found no entry holds the key's lease while it waits to fill it: its partial stays."""
    import fcntl

    cache = ContentCache(tmp_path / "cache", max_bytes=0)
    interrupted(cache, "p", {"f": b"p" * 1000})
    (partial,) = cache.partials()
    with open(cache.root / "leases" / f"{partial.digest}.lock", "a+") as lease:
        fcntl.flock(lease, fcntl.LOCK_SH)
        assert cache.evict() == [] and cache.prune() == []
        fcntl.flock(lease, fcntl.LOCK_UN)
    assert [p.key for p in cache.prune()] == ["p"] and partial_folders(cache) == []


def test_a_sparse_part_counts_the_bytes_it_holds_not_its_final_size(tmp_path: Path) -> None:
    cache = ContentCache(tmp_path / "cache", max_bytes=1 << 20)

    def fill(data: Path, state: Path) -> None:
        (state / "tmp").mkdir(parents=True)
        with open(state / "tmp" / "big.part", "wb") as part:  # as the downloader: sized, then filled
            part.truncate(1 << 30)
            part.write(b"x" * 1000)
        raise ConnectionError("storage went away")

    with pytest.raises(ConnectionError):
        use(cache, "big", fill)
    (partial,) = cache.partials()
    assert 1000 <= partial.size < 1 << 20  # what is on disk, not the 1 GiB it will be


def test_a_link_planted_in_a_partial_entry_is_neither_counted_through_nor_followed(tmp_path: Path) -> None:
    outside = tmp_path / "outside"
    (outside / "sub").mkdir(parents=True)
    (outside / "big").write_bytes(b"o" * 50_000)
    (outside / "sub" / "more").write_bytes(b"m" * 50_000)
    cache = ContentCache(tmp_path / "cache", max_bytes=40_000)

    def fill(data: Path, state: Path) -> None:
        (data / "f").write_bytes(b"p" * 1000)
        (data / "to-file").symlink_to(outside / "big")
        (data / "to-folder").symlink_to(outside)
        raise ConnectionError("storage went away")

    with pytest.raises(ConnectionError):
        use(cache, "p", fill)
    (partial,) = cache.partials()
    assert partial.size < 2000  # the links' own few bytes, not the 100,000 they lead to
    backdate(partial.folder, 300)
    assert [e.key for e in cache.evict(max_bytes=500)] == ["p"]
    assert partial_folders(cache) == []
    assert (outside / "big").read_bytes() == b"o" * 50_000
    assert (outside / "sub" / "more").read_bytes() == b"m" * 50_000


def test_odd_things_in_the_partial_folder_are_not_entries(tmp_path: Path) -> None:
    cache = ContentCache(tmp_path / "cache", max_bytes=0)
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "keep").write_bytes(b"k" * 5000)
    where = cache.root / "partial"
    where.mkdir(parents=True)
    (where / "stray-file").write_bytes(b"s")
    (where / ("0" * 32)).symlink_to(outside)  # a link named like an entry
    assert cache.partials() == [] and cache.evict() == []
    assert (outside / "keep").read_bytes() == b"k" * 5000


def test_prune_drops_idle_partial_entries_before_evicting_complete_ones(tmp_path: Path) -> None:
    cache = ContentCache(tmp_path / "cache")
    use(cache, "a", filler({"f": b"a" * 1000}))
    backdate(entry_meta(cache, "a"), 300)
    interrupted(cache, "p", {"f": b"p" * 1000})
    removed = cache.prune(max_bytes=1500)  # dropping the abandoned download is enough
    assert [(e.key, e.size) for e in removed] == [("p", 1000)]
    assert [e.key for e in cache.entries()] == ["a"] and partial_folders(cache) == []


def test_a_hit_walks_no_partial_entry(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    cache = ContentCache(tmp_path / "cache", max_bytes=1 << 20)
    use(cache, "a", filler({"f": b"a" * 1000}))
    interrupted(cache, "p", {"f": b"p" * 1000})

    def walked(self: ContentCache) -> list[object]:
        raise AssertionError("a cache hit walked the partial entries")

    monkeypatch.setattr(ContentCache, "partials", walked)
    with cache.use("a", filler({})) as (folder, hit):
        assert hit and (folder / "f").read_bytes() == b"a" * 1000


def test_cli_lists_partial_entries_and_prune_says_it_dropped_them(workspace_dir: Path) -> None:
    # a workspace (the CLI refuses a folder with other files and no runner.db), its cache filled directly
    cache = ContentCache(Workspace(workspace_dir).cache_dir)
    use(cache, "ds:models/m:etag1", filler({"w": b"1" * 2048}))
    interrupted(cache, "ds:models/big:etag2", {"w": b"2" * 4096})
    runner = CliRunner()
    listed = runner.invoke(app, ["cache", "list"])
    assert listed.exit_code == 0, listed.output
    line = next(row for row in listed.output.splitlines() if "ds:models/big:etag2" in row)
    assert "partial" in line and "4.0 KiB" in line
    assert "2 entries (1 partial), 6.0 KiB of 20.0 GiB" in listed.output
    rows = json.loads(runner.invoke(app, ["cache", "list", "-o", "json"]).output)
    assert [(r["key"], r["partial"], r["size"]) for r in rows] == [("ds:models/big:etag2", True, 4096),
                                                                   ("ds:models/m:etag1", False, 2048)]
    pruned = runner.invoke(app, ["cache", "prune", "--max-size", "1M"])
    assert pruned.exit_code == 0, pruned.output
    assert "removed 0 entries and 1 partial download (4.0 KiB); the cache now holds 2.0 KiB" in pruned.output
    assert [e.key for e in cache.entries()] == ["ds:models/m:etag1"] and cache.partials() == []


def test_a_fill_that_fails_before_anything_arrived_leaves_no_partial_entry(tmp_path: Path) -> None:
    cache = ContentCache(tmp_path / "cache")

    def unlisted(data: Path, state: Path) -> None:
        (data / "empty-folder").mkdir()
        raise ConnectionError("cannot list the store")

    def disk_full(data: Path, state: Path) -> None:  # as the downloader after ENOSPC: it removes both
        (data / "f").write_bytes(b"x")
        remove_tree(data)
        remove_tree(state)
        raise OSError(28, "No space left on device")

    for fill in (unlisted, disk_full):
        with pytest.raises(OSError):
            use(cache, "k", fill)
        assert partial_folders(cache) == []
        assert cache.partials() == [] and cache.lookup("k") is None


def test_a_link_planted_as_a_partial_entrys_key_is_neither_written_nor_read_through(tmp_path: Path) -> None:
    from mounts.cache import key_digest

    cache = ContentCache(tmp_path / "cache")
    secret, missing = tmp_path / "secret", tmp_path / "created-through-the-link"
    secret.write_text("do not show")
    for key, target in (("k1", missing), ("k2", secret)):
        folder = cache.root / "partial" / key_digest(key)
        folder.mkdir(parents=True)
        (folder / "key").symlink_to(target)
        interrupted(cache, key, {"f": b"x" * 10})
    assert not missing.exists() and secret.read_text() == "do not show"
    assert sorted((p.key, p.size) for p in cache.partials()) == [(None, 10), (None, 10)]
    use(cache, "k2", filler({"f": b"y"}))  # the resumed fill completes: the link is not in the entry
    assert secret.read_text() == "do not show"
    assert sorted(p.name for p in (cache.root / "entries" / key_digest("k2")).iterdir()) == \
        ["data", "digests.json", "entry.json"]
