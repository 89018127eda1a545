"""The content cache: hits make no transfer, job dirs get hard links, LRU eviction, prune, the CLI."""

from __future__ import annotations

import os
import time
from pathlib import Path

import pytest
from needs import missing
from typer.testing import CliRunner

from mounts.cache import ContentCache, link_file
from mounts.errors import MountsError
from runner.cli.main import app


def filler(files: dict[str, bytes], calls: list[str]):  # type: ignore[no-untyped-def]
    def fill(data: Path, state: Path) -> None:
        calls.append(str(data))
        for name, content in files.items():
            (data / name).parent.mkdir(parents=True, exist_ok=True)
            (data / name).write_bytes(content)
    return fill


def test_miss_fills_then_hit_links_without_filling(tmp_path: Path) -> None:
    cache = ContentCache(tmp_path / "cache")
    calls: list[str] = []
    files = {"model.pkl": b"weights", "sub/cfg.json": b"{}"}
    assert cache.get_or_fill("ds:m:1", tmp_path / "job1", filler(files, calls)) is False
    assert cache.get_or_fill("ds:m:1", tmp_path / "job2", filler(files, calls)) is True
    assert len(calls) == 1  # the second job made no transfer
    for job in ("job1", "job2"):
        assert (tmp_path / job / "model.pkl").read_bytes() == b"weights"
        assert (tmp_path / job / "sub" / "cfg.json").read_bytes() == b"{}"
    entry = cache.lookup("ds:m:1")
    assert entry is not None and entry.size == 9 and entry.files == 2
    # hard links: the job's file and the cache's file are the same inode
    assert (tmp_path / "job2" / "model.pkl").stat().st_ino == (entry.data / "model.pkl").stat().st_ino
    assert (entry.data / "model.pkl").stat().st_mode & 0o222 == 0  # cached content is read-only


def test_a_cached_file_changed_through_a_jobs_hard_link_is_fetched_again(tmp_path: Path) -> None:
    cache = ContentCache(tmp_path / "cache")
    calls: list[str] = []
    files = {"model.pkl": b"weights", "sub/cfg.json": b"{}"}
    cache.get_or_fill("ds:m:1", tmp_path / "job1", filler(files, calls))
    linked = tmp_path / "job1" / "sub" / "cfg.json"
    os.chmod(linked, 0o644)  # what root can do anyway: the mode does not stop it
    linked.write_bytes(b'{"tampered": true}')  # the same inode as the cached file
    assert cache.get_or_fill("ds:m:1", tmp_path / "job2", filler(files, calls)) is False
    assert len(calls) == 2  # fetched again instead of handing the changed file to job2
    assert (tmp_path / "job2" / "sub" / "cfg.json").read_bytes() == b"{}"
    assert (tmp_path / "job2" / "model.pkl").read_bytes() == b"weights"
    assert linked.read_bytes() == b'{"tampered": true}'  # job1's folder is its own
    assert cache.get_or_fill("ds:m:1", tmp_path / "job3", filler(files, calls)) is True  # whole again


def test_reading_or_relinking_cached_files_keeps_the_entry(tmp_path: Path) -> None:
    cache = ContentCache(tmp_path / "cache")
    calls: list[str] = []
    cache.get_or_fill("k", tmp_path / "job1", filler({"f": b"x" * 10}, calls))
    assert (tmp_path / "job1" / "f").read_bytes() == b"x" * 10
    (tmp_path / "job1" / "f").unlink()  # a job deleting its own link does not touch the cache
    for job in ("job2", "job3"):
        assert cache.get_or_fill("k", tmp_path / job, filler({"f": b"x" * 10}, calls)) is True
    assert len(calls) == 1


def test_lru_eviction_keeps_the_recently_used(tmp_path: Path) -> None:
    cache = ContentCache(tmp_path / "cache", max_bytes=2500)
    for key in ("a", "b"):
        cache.get_or_fill(key, tmp_path / key, filler({"f": b"x" * 1000}, []))
        time.sleep(0.02)
    cache.get_or_fill("a", tmp_path / "a2", filler({}, []))  # a is used again: b is now the oldest
    time.sleep(0.02)
    cache.get_or_fill("c", tmp_path / "c", filler({"f": b"y" * 1000}, []))
    assert [e.key for e in cache.entries()] == ["c", "a"]
    assert (tmp_path / "b" / "f").read_bytes() == b"x" * 1000  # linked copies survive eviction


def test_prune_to_size_and_to_empty(tmp_path: Path) -> None:
    cache = ContentCache(tmp_path / "cache")
    for key in ("a", "b", "c"):
        cache.get_or_fill(key, tmp_path / key, filler({"f": b"z" * 100}, []))
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
        cache.get_or_fill("k", tmp_path / "job", failing)
    assert cache.lookup("k") is None
    seen: list[bytes] = []

    def resume(data: Path, state: Path) -> None:
        seen.append((data / "part").read_bytes())  # the partial data is still there
        (data / "part").write_bytes(b"whole")

    cache.get_or_fill("k", tmp_path / "job", resume)
    assert seen == [b"half"] and (tmp_path / "job" / "part").read_bytes() == b"whole"


def test_link_falls_back_to_copy_across_filesystems(tmp_path: Path) -> None:
    shm = Path("/dev/shm")
    if not shm.is_dir() or shm.stat().st_dev == tmp_path.stat().st_dev:
        missing(f"a second filesystem: /dev/shm (tmpfs) beside {tmp_path}")
    source = tmp_path / "src.bin"
    source.write_bytes(b"data")
    target = shm / f"runner-test-{os.getpid()}.bin"
    try:
        link_file(source, target)
        assert target.read_bytes() == b"data" and target.stat().st_ino != source.stat().st_ino
    finally:
        target.unlink(missing_ok=True)


def test_cli_lists_and_prunes(workspace_dir: Path) -> None:
    cache = ContentCache(workspace_dir / "cache")
    cache.get_or_fill("ds:models/m:etag1", workspace_dir / "j", filler({"w": b"1" * 2048}, []))
    runner = CliRunner()
    listed = runner.invoke(app, ["cache", "list"])
    assert listed.exit_code == 0 and "ds:models/m:etag1" in listed.output and "1 entries" in listed.output
    bad = runner.invoke(app, ["cache", "prune", "--max-size", "lots"])
    assert bad.exit_code != 0 and "not a size" in bad.output
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
    fs.rm(root, recursive=True)  # the store is gone: only the cache can serve the second job
    with strategy.materialize(source, tmp_path / "job2") as second:
        assert (Path(second.host_path or "") / "weights.bin").read_bytes() == b"w" * 5000
    assert not (tmp_path / "job2" / "data").exists()  # the job's links are removed after the job


def test_the_size_limit_comes_from_the_environment_in_any_unit(tmp_path: Path,
                                                               monkeypatch: pytest.MonkeyPatch) -> None:
    assert ContentCache(tmp_path).max_bytes == 20 * (1 << 30)
    for text, size in (("5G", 5 << 30), ("500M", 500 << 20), ("1.5GiB", 3 << 29), ("1234", 1234)):
        monkeypatch.setenv("RUNNER_CACHE_MAX_BYTES", text)
        assert ContentCache(tmp_path).max_bytes == size
    monkeypatch.setenv("RUNNER_CACHE_MAX_BYTES", "5X")
    with pytest.raises(MountsError, match="RUNNER_CACHE_MAX_BYTES: '5X' is not a size"):
        ContentCache(tmp_path)
