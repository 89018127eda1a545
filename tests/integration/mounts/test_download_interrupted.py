"""A download interrupted by a BaseException (a cancel's ``JobCanceled``, Ctrl-C's ``KeyboardInterrupt``)
in the middle of a real transfer from a private Azurite: the job folder keeps nothing of it (its
``data/`` and its resume ``state/``, ``*.part`` files included), no link planted in it is followed, and
the exception goes on unchanged. Through the download cache, what arrived stays in the cache's partial
entry on purpose (the next download of the key resumes from it), never in the job folder.

The interruption is forced, not timed: once a ``.part`` file exists the storage is paused (SIGSTOP) so
the transfer cannot finish, the main thread is sent a signal whose handler raises, and the storage
resumes only once the handler ran."""

from __future__ import annotations

import hashlib
import os
import signal
import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from types import FrameType

import pytest
from private_azurite import PrivateAzurite

from mounts.base import Source
from mounts.cache import ContentCache, key_digest
from mounts.download import DownloadStrategy
from mounts.transfer.downloader import TransferOptions

pytestmark = pytest.mark.azure

MiB = 1 << 20
# parts of 1 MiB: the two large files are many ranged reads, their bytes in <state>/tmp/<id>.part
OPTIONS = TransferOptions(workers=4, streams_per_file=2, part_size=1 * MiB, first_part=1 * MiB,
                          multipart_threshold=2 * MiB)


class Interrupted(BaseException):  # noqa: N818 - what a cancel raises is not an Exception either
    """Raised by the test's signal handler in the thread that runs the download."""


@pytest.fixture(autouse=True)
def short_retries(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("RUNNER_RETRY_TOTAL_S", "3")


def filesystem(server: PrivateAzurite):  # type: ignore[no-untyped-def]
    from adlfs import AzureBlobFileSystem

    return AzureBlobFileSystem(connection_string=server.connection_string, skip_instance_cache=True)


def upload_folder(server: PrivateAzurite, tmp_path: Path) -> tuple[Source, dict[str, str]]:
    files = {f"small/{i:02d}.bin": os.urandom(64 * 1024) for i in range(20)}
    files.update({"large/a.bin": os.urandom(24 * MiB + 3), "large/b.bin": os.urandom(24 * MiB + 7)})
    for rel, data in files.items():
        (tmp_path / "src" / rel).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / "src" / rel).write_bytes(data)
    fs = filesystem(server)
    fs.mkdir("data")
    fs.put(str(tmp_path / "src") + "/", "data/set/", recursive=True)
    source = Source(fs=fs, path="data/set", url="abfs://data/set", is_dir=True, cache_key="az:data/set:1")
    return source, {rel: hashlib.sha256(data).hexdigest() for rel, data in files.items()}


def digests(root: Path) -> dict[str, str]:
    return {p.relative_to(root).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in root.rglob("*") if p.is_file() and not p.is_symlink()}


def has_part_data(state: Path) -> bool:
    return any(p.stat().st_size > 0 for p in (state / "tmp").glob("*.part")) if state.is_dir() else False


@pytest.fixture
def interrupt(private_azurite: PrivateAzurite) -> Iterator[Callable[[Callable[[], bool], Callable[[], None]],
                                                                    threading.Thread]]:
    """``interrupt(under_way, before)``: once ``under_way()`` holds, pause the storage, call ``before()``,
    raise ``Interrupted`` in the main thread (a signal, as a cancel arrives), resume the storage."""
    handled = threading.Event()

    def handler(_signum: int, _frame: FrameType | None) -> None:
        if not handled.is_set():
            handled.set()
            raise Interrupted()

    previous = signal.signal(signal.SIGUSR1, handler)
    main = threading.main_thread().ident
    assert main == threading.get_ident()
    assert private_azurite.process is not None
    group = private_azurite.process.pid  # its own session
    stop = threading.Event()

    def start(under_way: Callable[[], bool], before: Callable[[], None]) -> threading.Thread:
        def watch() -> None:
            while not stop.is_set() and not under_way():
                stop.wait(0.01)
            if stop.is_set():
                return
            os.killpg(group, signal.SIGSTOP)  # the transfer cannot finish now
            try:
                before()
                signal.pthread_kill(main, signal.SIGUSR1)
                handled.wait(60)
            finally:
                os.killpg(group, signal.SIGCONT)
        thread = threading.Thread(target=watch, daemon=True)
        thread.start()
        return thread

    try:
        yield start
    finally:
        stop.set()
        os.killpg(group, signal.SIGCONT)
        signal.signal(signal.SIGUSR1, previous)


def test_an_interrupted_download_leaves_nothing_in_the_job_folder(
        private_azurite: PrivateAzurite, tmp_path: Path, interrupt: Callable[..., threading.Thread]) -> None:
    source, expected = upload_folder(private_azurite, tmp_path)
    source = Source(fs=source.fs, path=source.path, url=source.url, is_dir=True)  # not cached: a folder
    workdir = tmp_path / "job" / "inputs" / "d"
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "keep.txt").write_text("not the job's")

    def plant_link() -> None:  # as if something in the job folder pointed out of it
        (workdir / "data" / "escape").symlink_to(outside, target_is_directory=True)

    watcher = interrupt(lambda: has_part_data(workdir / "state"), plant_link)
    strategy = DownloadStrategy(quiet=True, options=OPTIONS)
    with pytest.raises(Interrupted), strategy.materialize(source, workdir):
        pytest.fail("the download was to be interrupted before it completed")
    watcher.join(timeout=60)
    left = sorted(p.relative_to(workdir).as_posix() for p in workdir.rglob("*")) if workdir.exists() else []
    assert left == [], f"the interrupted download left {left[:8]} in the job folder"
    assert (outside / "keep.txt").read_text() == "not the job's"  # the link was removed, not followed

    # the job folder held nothing to resume from: the next download fetches it whole, byte-identical
    with DownloadStrategy(quiet=True, options=OPTIONS).materialize(source, workdir) as mat:
        assert digests(Path(mat.host_path or "")) == expected


def test_an_interrupted_cached_download_stays_resumable_in_the_cache_only(
        private_azurite: PrivateAzurite, tmp_path: Path, interrupt: Callable[..., threading.Thread]) -> None:
    source, expected = upload_folder(private_azurite, tmp_path)
    cache = ContentCache(tmp_path / "cache")
    partial = tmp_path / "cache" / "partial" / key_digest(source.cache_key or "")
    workdir = tmp_path / "job" / "inputs" / "d"
    workdir.mkdir(parents=True)

    watcher = interrupt(lambda: has_part_data(partial / "state"), lambda: None)
    with pytest.raises(Interrupted), DownloadStrategy(cache, quiet=True, options=OPTIONS).materialize(
            source, workdir):
        pytest.fail("the download was to be interrupted before it completed")
    watcher.join(timeout=60)
    assert list(workdir.iterdir()) == []  # nothing of it in the job folder
    assert has_part_data(partial / "state")  # kept on purpose: the next download resumes from it
    assert cache.lookup(source.cache_key or "") is None

    with DownloadStrategy(cache, quiet=True, options=OPTIONS).materialize(source, workdir) as mat:
        assert digests(Path(mat.host_path or "")) == expected
    assert not partial.exists()  # committed: no partial state left behind
