"""The content cache: hits make no transfer, jobs get the verified entry itself, entries changed behind
the cache's back are fetched again, LRU eviction spares entries in use, prune, the CLI."""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from pathlib import Path

import pytest
from click.testing import CliRunner

from mounts.cache import ContentCache
from mounts.errors import MountsError
from runner.cli.main import app
from runner.errors import RunnerError
from runner.workspace.db import Workspace


def filler(files: dict[str, bytes], calls: list[str]):  # type: ignore[no-untyped-def]
    def fill(data: Path, state: Path) -> None:
        calls.append(str(data))
        for name, content in files.items():
            (data / name).parent.mkdir(parents=True, exist_ok=True)
            (data / name).write_bytes(content)
    return fill


def use(cache: ContentCache, key: str, fill: Callable[[Path, Path], None]) -> tuple[Path, bool]:
    """Use the entry once (as a job does) and return where it was and whether it was a hit."""
    with cache.use(key, fill) as (folder, hit):
        return folder, hit


def test_miss_fills_then_hit_hands_over_the_entry_without_filling(tmp_path: Path) -> None:
    cache = ContentCache(tmp_path / "cache")
    calls: list[str] = []
    files = {"model.pkl": b"weights", "sub/cfg.json": b"{}"}
    first, hit = use(cache, "ds:m:1", filler(files, calls))
    assert not hit
    second, hit = use(cache, "ds:m:1", filler(files, calls))
    assert hit and second == first and len(calls) == 1  # the second job made no transfer
    assert (second / "model.pkl").read_bytes() == b"weights"
    assert (second / "sub" / "cfg.json").read_bytes() == b"{}"
    entry = cache.lookup("ds:m:1")
    assert entry is not None and entry.size == 9 and entry.files == 2 and entry.data == second
    assert (entry.data / "model.pkl").stat().st_mode & 0o222 == 0  # cached content is read-only


def test_a_cached_file_written_behind_the_caches_back_is_fetched_again(tmp_path: Path) -> None:
    cache = ContentCache(tmp_path / "cache")
    calls: list[str] = []
    files = {"model.pkl": b"weights", "sub/cfg.json": b"{}"}
    folder, _ = use(cache, "ds:m:1", filler(files, calls))
    cached = folder / "sub" / "cfg.json"
    before = cached.stat()
    os.chmod(cached, 0o644)  # what root can do anyway: the mode does not stop it
    cached.write_bytes(b'{"x": 1}')  # same size, other content
    os.utime(cached, ns=(before.st_atime_ns, before.st_mtime_ns))  # and the mtime put back
    folder, hit = use(cache, "ds:m:1", filler(files, calls))
    assert not hit and len(calls) == 2  # fetched again instead of handing the changed file on
    assert (folder / "sub" / "cfg.json").read_bytes() == b"{}"
    assert use(cache, "ds:m:1", filler(files, calls))[1] is True  # whole again


def test_a_touched_but_unchanged_entry_is_verified_by_content_and_kept(tmp_path: Path) -> None:
    cache = ContentCache(tmp_path / "cache")
    calls: list[str] = []
    folder, _ = use(cache, "k", filler({"f": b"x" * 10, "g": b"y"}, calls))
    os.utime(folder / "f", (1, 1))  # metadata changed, content did not
    for _ in range(2):
        assert use(cache, "k", filler({"f": b"x" * 10}, calls))[1] is True
    assert len(calls) == 1


def test_an_entry_in_use_is_not_evicted(tmp_path: Path) -> None:
    cache = ContentCache(tmp_path / "cache", max_bytes=1500)
    with cache.use("a", filler({"f": b"x" * 1000}, [])) as (in_use, _hit):
        time.sleep(0.02)
        use(cache, "b", filler({"f": b"y" * 1000}, []))  # over the limit: "a" is the oldest, but bound
        assert (in_use / "f").read_bytes() == b"x" * 1000
        assert {e.key for e in cache.entries()} == {"a", "b"}
    assert [e.key for e in cache.prune(max_bytes=1500)] == ["a"]  # free to go once the job is done


def test_lru_eviction_keeps_the_recently_used(tmp_path: Path) -> None:
    cache = ContentCache(tmp_path / "cache", max_bytes=2500)
    for key in ("a", "b"):
        use(cache, key, filler({"f": b"x" * 1000}, []))
        time.sleep(0.02)
    use(cache, "a", filler({}, []))  # a is used again: b is now the oldest
    time.sleep(0.02)
    use(cache, "c", filler({"f": b"y" * 1000}, []))
    assert [e.key for e in cache.entries()] == ["c", "a"]


def test_prune_to_size_and_to_empty(tmp_path: Path) -> None:
    cache = ContentCache(tmp_path / "cache")
    for key in ("a", "b", "c"):
        use(cache, key, filler({"f": b"z" * 100}, []))
        time.sleep(0.02)
    removed = cache.prune(max_bytes=150)
    assert [e.key for e in removed] == ["a", "b"]
    assert [e.key for e in cache.entries()] == ["c"]
    cache.prune()
    assert cache.entries() == [] and cache.total_bytes() == 0


def test_interrupted_fill_is_not_an_entry_and_resumes(tmp_path: Path) -> None:
    cache = ContentCache(tmp_path / "cache")

    def failing(data: Path, state: Path) -> None:
        (data / "part").write_bytes(b"half")
        raise ConnectionError("storage went away")

    with pytest.raises(ConnectionError):
        use(cache, "k", failing)
    assert cache.lookup("k") is None
    seen: list[bytes] = []

    def resume(data: Path, state: Path) -> None:
        seen.append((data / "part").read_bytes())  # the partial data is still there
        (data / "part").write_bytes(b"whole")

    folder, _ = use(cache, "k", resume)
    assert seen == [b"half"] and (folder / "part").read_bytes() == b"whole"


def test_cli_lists_and_prunes(workspace_dir: Path) -> None:
    # a workspace (the CLI refuses a folder with other files and no runner.db), its cache filled directly
    cache = ContentCache(Workspace(workspace_dir).cache_dir)
    use(cache, "ds:models/m:etag1", filler({"w": b"1" * 2048}, []))
    runner = CliRunner()
    listed = runner.invoke(app, ["cache", "list"])
    assert listed.exit_code == 0 and "ds:models/m:etag1" in listed.output and "1 entries" in listed.output
    bad = runner.invoke(app, ["cache", "prune", "--max-size", "lots"])
    # runner's one usage message, exit 2 (raised to the caller in-process: runner.cli.main prints it)
    assert isinstance(bad.exception, RunnerError) and bad.exception.exit_code == 2
    assert "not a size" in bad.exception.render()
    kept = runner.invoke(app, ["cache", "prune", "--max-size", "1M"])
    assert kept.exit_code == 0 and "removed 0 entries" in kept.output
    pruned = runner.invoke(app, ["cache", "prune"])
    assert pruned.exit_code == 0 and "removed 1 entries" in pruned.output
    assert cache.entries() == []


def test_download_strategy_cache_hit_needs_no_storage(tmp_path: Path) -> None:
    import fsspec

    from mounts.base import Source
    from mounts.download import DownloadStrategy

    fs = fsspec.filesystem("memory")
    root = f"/cache-test-{os.getpid()}"
    fs.pipe_file(f"{root}/m/weights.bin", b"w" * 5000)
    source = Source(fs=fs, path=f"{root}/m", url=f"memory://{root}/m", is_dir=True,
                    cache_key=f"memory:{root}/m:v1")
    strategy = DownloadStrategy(ContentCache(tmp_path / "cache"), quiet=True)
    with strategy.materialize(source, tmp_path / "job1") as first:
        assert (Path(first.host_path or "") / "weights.bin").read_bytes() == b"w" * 5000
        assert first.shared and first.read_only  # the entry itself: the backend makes it read-only
    fs.rm(root, recursive=True)  # the store is gone: only the cache can serve the second job
    with strategy.materialize(source, tmp_path / "job2") as second:
        assert (Path(second.host_path or "") / "weights.bin").read_bytes() == b"w" * 5000
    assert not (tmp_path / "job2" / "data").exists()  # nothing was copied into the job's folder


def test_a_fill_resumed_after_the_store_dropped_a_file_holds_what_the_store_lists(tmp_path: Path) -> None:
    """A fill cut short keeps what arrived in the cache's partial entry; when the store lost a file before
    the next job, the resumed fill ends with exactly the store's files, as a fresh one would."""
    from fsspec.implementations.memory import MemoryFileSystem

    from mounts.base import Source
    from mounts.download import DownloadStrategy
    from mounts.errors import TransferFailed

    class Unreachable(MemoryFileSystem):  # the memory store; reads of ``failing`` names fail
        failing: set[str] = set()

        def cat_file(self, path: str, start: int | None = None, end: int | None = None,
                     **kwargs: object) -> bytes:
            if Path(path).name in self.failing:
                raise OSError("the storage went away")
            return bytes(super().cat_file(path, start=start, end=end, **kwargs))

    fs = Unreachable()
    root = f"/resume-test-{os.getpid()}"
    for name in ("keep.bin", "gone.bin", "late.bin"):
        fs.pipe_file(f"{root}/m/{name}", name.encode() * 100)
    source = Source(fs=fs, path=f"{root}/m", url=f"memory://{root}/m", is_dir=True,
                    cache_key=f"memory:{root}/m:v1")
    strategy = DownloadStrategy(ContentCache(tmp_path / "cache"), quiet=True)
    Unreachable.failing = {"late.bin"}
    try:
        with pytest.raises(TransferFailed), strategy.materialize(source, tmp_path / "job1"):
            pass
        (partial,) = (tmp_path / "cache" / "partial").iterdir()
        assert sorted(p.name for p in (partial / "data").iterdir()) == ["gone.bin", "keep.bin"]
        fs.rm(f"{root}/m/gone.bin")
        Unreachable.failing = set()
        with strategy.materialize(source, tmp_path / "job2") as entry:
            folder = Path(entry.host_path or "")
            assert sorted(p.name for p in folder.iterdir()) == ["keep.bin", "late.bin"]
            assert (folder / "late.bin").read_bytes() == b"late.bin" * 100
    finally:
        Unreachable.failing = set()
        fs.rm(root, recursive=True)


def test_the_size_limit_comes_from_the_environment_in_any_unit(tmp_path: Path,
                                                               monkeypatch: pytest.MonkeyPatch) -> None:
    assert ContentCache(tmp_path).max_bytes == 20 * (1 << 30)
    for text, size in (("5G", 5 << 30), ("500M", 500 << 20), ("1.5GiB", 3 << 29), ("1234", 1234)):
        monkeypatch.setenv("RUNNER_CACHE_MAX_BYTES", text)
        assert ContentCache(tmp_path).max_bytes == size
    monkeypatch.setenv("RUNNER_CACHE_MAX_BYTES", "5X")
    with pytest.raises(MountsError, match="RUNNER_CACHE_MAX_BYTES: '5X' is not a size"):
        ContentCache(tmp_path)


def _reference_fingerprint(root: Path) -> tuple[int, int, str]:
    """The fingerprint as first defined (os.walk, relpath, lstat, sorted tuples, one update per file):
    entries recorded by earlier versions carry this value, so a faster walk must give the same."""
    import hashlib

    found = []
    for dirpath, _dirs, names in os.walk(root):
        for name in names:
            path = os.path.join(dirpath, name)
            info = os.lstat(path)
            found.append((os.path.relpath(path, root), info.st_size, info.st_mtime_ns, info.st_ctime_ns,
                          info.st_ino))
    found.sort()
    digest = hashlib.sha256()
    for rel, size, mtime, ctime, inode in found:
        digest.update(f"{rel}\0{size}\0{mtime}\0{ctime}\0{inode}\n".encode("utf-8", "surrogateescape"))
    return sum(item[1] for item in found), len(found), digest.hexdigest()


def test_the_fingerprint_is_the_one_recorded_by_earlier_versions(tmp_path: Path) -> None:
    from mounts.cache import _tree_stats

    root = tmp_path / "data"
    deep = root.joinpath(*[f"d{level:02d}" for level in range(20)])  # a tree 20 levels deep
    deep.mkdir(parents=True)
    for folder in (root, root / "d00", deep):
        for name in ("a", "a.b", "a-b", "b"):  # names that sort differently as paths and as lines
            (folder / name).write_bytes(name.encode())
    (root / "link-to-file").symlink_to(root / "a")
    (root / "link-to-folder").symlink_to(root / "d00")  # not followed, not listed (as os.walk)
    (root / "dangling").symlink_to(root / "missing")
    (root / "ünïcode \udcff").write_bytes(b"x")  # undecodable names keep their bytes
    assert _tree_stats(root) == _reference_fingerprint(root)
    assert _tree_stats(root)[1] == 15


def test_a_file_changed_20_levels_deep_is_noticed(tmp_path: Path) -> None:
    cache = ContentCache(tmp_path / "cache")
    calls: list[str] = []
    rel = "/".join(f"d{level:02d}" for level in range(20)) + "/weights.bin"
    files = {rel: b"weights", "top.txt": b"top"}
    folder, _ = use(cache, "ds:deep:1", filler(files, calls))
    target = folder / rel
    os.chmod(target, 0o644)
    target.write_bytes(b"WEIGHTS")  # same size, written behind the cache's back
    folder, hit = use(cache, "ds:deep:1", filler(files, calls))
    assert not hit and len(calls) == 2 and (folder / rel).read_bytes() == b"weights"
