"""The transfer engine on in-process stores: range planning, parallel copy, verification, resume."""

from __future__ import annotations

import hashlib
import json
import os
import threading
from pathlib import Path

import fsspec
import pytest

from mounts.errors import TransferFailed
from mounts.stores.azure_listing import parse_connection_string, parse_list_blobs
from mounts.stores.base import RemoteFile, Sink
from mounts.stores.fsspec_store import FsspecStore, md5_from_info
from mounts.transfer.downloader import (
    WRITE_SIZE,
    TransferOptions,
    _pwrite_all,
    download_files,
    plan_parts,
    safe_relative,
)
from mounts.transfer.uploader import list_local_files, upload_files

MiB = 1 << 20
SMALL = TransferOptions(workers=4, part_size=1 * MiB, first_part=128 * 1024, multipart_threshold=2 * MiB,
                        block_size=1 * MiB, single_put_max=256 * 1024)


# -- range planning ----------------------------------------------------------------------------------
def test_small_file_is_one_part() -> None:
    assert plan_parts(5 * MiB, 16 * MiB, MiB, 24 * MiB) == [(0, 5 * MiB)]
    assert plan_parts(0, 16 * MiB, MiB, 24 * MiB) == [(0, 0)]


def test_large_file_gets_small_first_part_then_full_parts() -> None:
    parts = plan_parts(100 * MiB, 16 * MiB, MiB, 24 * MiB)
    assert parts[0] == (0, MiB)
    assert all(length == 16 * MiB for _, length in parts[1:-1])
    assert parts == sorted(parts)


@pytest.mark.parametrize("size", [24 * MiB + 1, 33 * MiB, 33 * MiB + 5, 1 << 30, 17 * MiB + 3 * MiB // 2])
def test_parts_cover_the_file_exactly_once(size: int) -> None:
    parts = plan_parts(size, 16 * MiB, MiB, 24 * MiB)
    position = 0
    for offset, length in parts:
        assert offset == position and length > 0
        position += length
    assert position == size
    assert parts[-1][1] >= 16 * MiB // 4  # no tiny tail part


def test_received_buffers_land_whole_in_slices_of_the_write_size(tmp_path: Path) -> None:
    """A buffer larger than ``WRITE_SIZE`` (and not a multiple of it) goes to the file in slices, at
    any offset, every byte in its place."""
    data = os.urandom(3 * WRITE_SIZE + 12345)
    target = tmp_path / "part"
    fd = os.open(target, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        _pwrite_all(fd, memoryview(data), 1000)
        _pwrite_all(fd, memoryview(data)[:WRITE_SIZE + 7], 1000 + len(data))
    finally:
        os.close(fd)
    assert target.read_bytes() == bytes(1000) + data + data[:WRITE_SIZE + 7]


def test_unsafe_relative_paths_are_refused() -> None:
    assert str(safe_relative("a/b/c.txt")) == "a/b/c.txt"
    for bad in ("../x", "/etc/passwd", "a/../../b", ""):
        with pytest.raises(ValueError):
            safe_relative(bad)


# -- a store that fails after a number of reads (for resume tests) ----------------------------------
class FlakyStore(FsspecStore):
    """The memory store, but reads fail once ``budget`` chunks were delivered."""

    def __init__(self, budget: int) -> None:
        super().__init__(fsspec.filesystem("memory"))
        self.budget = budget
        self.requests = 0
        self._lock = threading.Lock()

    def read_range(self, item: RemoteFile, start: int, length: int | None, sink: Sink) -> None:
        with self._lock:
            self.requests += 1
            self.budget -= 1
            if self.budget < 0:
                raise ConnectionError("storage went away")
        super().read_range(item, start, length, sink)


@pytest.fixture
def memory_root() -> str:
    root = f"/transfer-{os.urandom(4).hex()}"
    yield root
    fs = fsspec.filesystem("memory")
    if fs.exists(root):
        fs.rm(root, recursive=True)


def put(root: str, files: dict[str, bytes]) -> None:
    fs = fsspec.filesystem("memory")
    for name, data in files.items():
        fs.pipe_file(f"{root}/{name}", data)


def digests(folder: Path) -> dict[str, str]:
    return {p.relative_to(folder).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in folder.rglob("*") if p.is_file()}


def test_download_many_files_and_a_large_one(memory_root: str, tmp_path: Path) -> None:
    files = {f"small/{i:03d}.bin": os.urandom(1000 + i) for i in range(50)}
    files["large.bin"] = os.urandom(5 * MiB + 17)
    files["empty"] = b""
    put(memory_root, files)
    store = FsspecStore(fsspec.filesystem("memory"))
    download_files(store, store.list_files(memory_root), tmp_path / "data", tmp_path / "state",
                   options=SMALL, quiet=True)
    assert digests(tmp_path / "data") == {k: hashlib.sha256(v).hexdigest() for k, v in files.items()}
    assert not list((tmp_path / "state" / "tmp").iterdir())  # no .part files left


def test_interrupted_download_resumes_without_refetching(memory_root: str, tmp_path: Path) -> None:
    files = {"large.bin": os.urandom(6 * MiB), **{f"s{i}": os.urandom(100) for i in range(5)}}
    put(memory_root, files)
    flaky = FlakyStore(budget=4)
    listing = flaky.list_files(memory_root)
    with pytest.raises(TransferFailed) as info:
        download_files(flaky, listing, tmp_path / "data", tmp_path / "state", options=SMALL, quiet=True)
    assert info.value.failed  # names the files that did not arrive
    journal = (tmp_path / "state" / "done.jsonl")
    finished_files = len(journal.read_text().splitlines()) if journal.exists() else 0
    manifests = list((tmp_path / "state" / "parts").glob("*.json"))
    finished_parts = len(json.loads(manifests[0].read_text())["done"]) if manifests else 0
    assert finished_files + finished_parts > 0

    rerun = FlakyStore(budget=10_000)
    download_files(rerun, listing, tmp_path / "data", tmp_path / "state", options=SMALL, quiet=True)
    assert digests(tmp_path / "data") == {k: hashlib.sha256(v).hexdigest() for k, v in files.items()}
    total_requests = len(plan_parts(6 * MiB, MiB, 128 * 1024, 2 * MiB)) + 5
    assert rerun.requests == total_requests - finished_files - finished_parts  # nothing fetched twice


class HalfwayStore(FsspecStore):
    """The memory store; with ``fail``, each ranged read delivers half its bytes, then the connection drops.
    Records every (start, length) asked for."""

    def __init__(self, fail: bool) -> None:
        super().__init__(fsspec.filesystem("memory"))
        self.fail = fail
        self.asked: list[tuple[int, int | None]] = []
        self._lock = threading.Lock()

    def read_range(self, item: RemoteFile, start: int, length: int | None, sink: Sink) -> None:
        with self._lock:
            self.asked.append((start, length))
        if not self.fail or not length:
            super().read_range(item, start, length, sink)
            return
        super().read_range(item, start, length // 2, sink)
        raise ConnectionError("connection dropped halfway")


def test_a_rerun_resumes_a_part_from_the_byte_it_reached(memory_root: str, tmp_path: Path) -> None:
    data = os.urandom(4 * MiB + 4096)
    put(memory_root, {"large.bin": data})
    one_stream = TransferOptions(workers=1, streams_per_file=1, part_size=1 * MiB, first_part=1 * MiB,
                                 multipart_threshold=2 * MiB)
    first = HalfwayStore(fail=True)
    listing = first.list_files(memory_root)
    with pytest.raises(TransferFailed):
        download_files(first, listing, tmp_path / "data", tmp_path / "state", options=one_stream, quiet=True)
    assert first.asked == [(0, MiB)]  # half a MiB arrived, then the connection dropped
    rerun = HalfwayStore(fail=False)
    download_files(rerun, listing, tmp_path / "data", tmp_path / "state", options=one_stream, quiet=True)
    assert (tmp_path / "data" / "large.bin").read_bytes() == data
    assert rerun.asked[0] == (MiB // 2, MiB // 2)  # the rest of that part, not all of it again
    assert sum(length or 0 for _, length in rerun.asked) == len(data) - MiB // 2


def test_changed_object_is_downloaded_again(memory_root: str, tmp_path: Path) -> None:
    put(memory_root, {"f": b"old"})
    store = FsspecStore(fsspec.filesystem("memory"))
    download_files(store, store.list_files(memory_root), tmp_path / "d", tmp_path / "s", quiet=True)
    put(memory_root, {"f": b"newer content"})
    download_files(store, store.list_files(memory_root), tmp_path / "d", tmp_path / "s", quiet=True)
    assert (tmp_path / "d" / "f").read_bytes() == b"newer content"


def test_md5_mismatch_is_a_failure(memory_root: str, tmp_path: Path) -> None:
    put(memory_root, {"f": b"content"})
    store = FsspecStore(fsspec.filesystem("memory"))
    wrong = [RemoteFile("f", f"{memory_root}/f", 7, "e", hashlib.md5(b"other").digest())]
    with pytest.raises(TransferFailed, match="MD5"):
        download_files(store, wrong, tmp_path / "d", tmp_path / "s", quiet=True)
    assert not (tmp_path / "d" / "f").exists()


class CutShortStore(FsspecStore):
    """The memory store; a whole-file read delivers the first half of the file, then the connection
    drops."""

    def __init__(self) -> None:
        super().__init__(fsspec.filesystem("memory"))

    def read_range(self, item: RemoteFile, start: int, length: int | None, sink: Sink) -> None:
        super().read_range(item, 0, item.size // 2, sink)
        raise ConnectionError("connection dropped halfway")


@pytest.mark.parametrize("in_place", [True, False])
def test_a_small_file_cut_short_leaves_nothing_and_is_fetched_whole_again(memory_root: str, tmp_path: Path,
                                                                           in_place: bool) -> None:
    """Written in place in a staging folder or staged in the state folder: a file cut short is removed,
    never journaled as done, and the rerun fetches it whole."""
    data = os.urandom(10_000)
    put(memory_root, {"a/f.bin": data})
    listing = CutShortStore().list_files(memory_root)
    with pytest.raises(TransferFailed, match="dropped halfway"):
        download_files(CutShortStore(), listing, tmp_path / "d", tmp_path / "s", quiet=True,
                       in_place=in_place)
    assert not (tmp_path / "d" / "a" / "f.bin").exists()
    if not in_place:  # a user's folder: not even the subfolder of a file that failed
        assert not (tmp_path / "d" / "a").exists()
    assert not list((tmp_path / "s" / "tmp").iterdir())
    assert not (tmp_path / "s" / "done.jsonl").exists() or not (tmp_path / "s" / "done.jsonl").read_text()
    store = FsspecStore(fsspec.filesystem("memory"))
    download_files(store, listing, tmp_path / "d", tmp_path / "s", quiet=True, in_place=in_place)
    assert (tmp_path / "d" / "a" / "f.bin").read_bytes() == data


@pytest.mark.parametrize("in_place", [True, False])
def test_a_file_already_at_the_destination_is_replaced_only_once_verified(memory_root: str, tmp_path: Path,
                                                                           in_place: bool) -> None:
    """A file already where a download goes (a user's file in ``model download``'s folder, what a crash
    left in a staging folder) keeps its content when the download fails, and is replaced whole when it
    succeeds."""
    put(memory_root, {"f": b"from the store"})
    (tmp_path / "d").mkdir()
    (tmp_path / "d" / "f").write_bytes(b"the user's own file")
    listing = CutShortStore().list_files(memory_root)
    with pytest.raises(TransferFailed):
        download_files(CutShortStore(), listing, tmp_path / "d", tmp_path / "s", quiet=True,
                       in_place=in_place)
    assert (tmp_path / "d" / "f").read_bytes() == b"the user's own file"
    store = FsspecStore(fsspec.filesystem("memory"))
    download_files(store, listing, tmp_path / "d", tmp_path / "s", quiet=True, in_place=in_place)
    assert (tmp_path / "d" / "f").read_bytes() == b"from the store"


def test_a_link_where_a_file_goes_is_replaced_not_followed(memory_root: str, tmp_path: Path) -> None:
    """A symlink planted in the staging folder at a file's place (pointing at a file this test made) is
    never written through: the file replaces the link."""
    put(memory_root, {"f": b"from the store", "g": b"other"})
    outside = tmp_path / "outside.txt"
    outside.write_bytes(b"must stay")
    (tmp_path / "d").mkdir()
    (tmp_path / "d" / "f").symlink_to(outside)
    store = FsspecStore(fsspec.filesystem("memory"))
    download_files(store, store.list_files(memory_root), tmp_path / "d", tmp_path / "s", quiet=True,
                   in_place=True)
    assert outside.read_bytes() == b"must stay"
    assert not (tmp_path / "d" / "f").is_symlink()
    assert (tmp_path / "d" / "f").read_bytes() == b"from the store"
    assert (tmp_path / "d" / "g").read_bytes() == b"other"


def test_a_resumed_staging_download_drops_what_the_store_no_longer_lists(memory_root: str,
                                                                          tmp_path: Path) -> None:
    """An interrupted fill resumed after files were deleted from the store ends with what a fresh
    download would hold: the deleted files and their emptied folders go; a link is removed, and what
    it points at (outside, made by this test) stays."""
    put(memory_root, {"keep/a": b"a", "gone/b": b"b", "gone/deep/c": b"c", "top": b"t"})
    store = FsspecStore(fsspec.filesystem("memory"))
    listing = store.list_files(memory_root)
    download_files(store, [f for f in listing if f.rel != "top"], tmp_path / "d", tmp_path / "s",
                   quiet=True, in_place=True)
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "x").write_bytes(b"must stay")
    (tmp_path / "d" / "keep" / "link").symlink_to(outside)
    fs = fsspec.filesystem("memory")
    fs.rm(f"{memory_root}/gone", recursive=True)
    download_files(store, store.list_files(memory_root), tmp_path / "d", tmp_path / "s", quiet=True,
                   in_place=True)
    assert digests(tmp_path / "d") == {k: hashlib.sha256(v).hexdigest()
                                       for k, v in {"keep/a": b"a", "top": b"t"}.items()}
    assert sorted(p.name for p in (tmp_path / "d").iterdir()) == ["keep", "top"]
    assert not (tmp_path / "d" / "keep" / "link").is_symlink()
    assert (outside / "x").read_bytes() == b"must stay"


def test_a_download_into_a_users_folder_leaves_the_users_other_files(memory_root: str,
                                                                      tmp_path: Path) -> None:
    put(memory_root, {"f": b"from the store"})
    (tmp_path / "d" / "mine").mkdir(parents=True)
    (tmp_path / "d" / "mine" / "notes.txt").write_bytes(b"the user's")
    store = FsspecStore(fsspec.filesystem("memory"))
    download_files(store, store.list_files(memory_root), tmp_path / "d", tmp_path / "s", quiet=True)
    assert (tmp_path / "d" / "mine" / "notes.txt").read_bytes() == b"the user's"
    assert (tmp_path / "d" / "f").read_bytes() == b"from the store"


def test_upload_every_file_verified(memory_root: str, tmp_path: Path) -> None:
    src = tmp_path / "src"
    files = {"a/b/c.txt": b"x" * 10, "big.bin": os.urandom(3 * MiB + 1), "e": b""}
    for name, data in files.items():
        (src / name).parent.mkdir(parents=True, exist_ok=True)
        (src / name).write_bytes(data)
    pairs = [(f, f"{memory_root}/{f.rel}") for f in list_local_files(src)]
    upload_files(FsspecStore(fsspec.filesystem("memory")), pairs, options=SMALL, quiet=True)
    fs = fsspec.filesystem("memory")
    assert {n: fs.cat_file(f"{memory_root}/{n}") for n in files} == files


# -- Azure helpers -----------------------------------------------------------------------------------
def test_connection_string_values_may_contain_equals() -> None:
    parts = parse_connection_string("AccountName=a;AccountKey=abc==;BlobEndpoint=http://h:1/a;")
    assert parts == {"accountname": "a", "accountkey": "abc==", "blobendpoint": "http://h:1/a"}


def test_list_blobs_page_skips_folder_markers() -> None:
    payload = b"""<?xml version="1.0"?><EnumerationResults><Blobs>
      <Blob><Name>p/a.txt</Name><Properties><Content-Length>3</Content-Length><Etag>"0x1"</Etag>
        <Content-MD5>rL0Y20zC+Fzt72VPzMSk2A==</Content-MD5></Properties><Metadata/></Blob>
      <Blob><Name>p/dir</Name><Properties><Content-Length>0</Content-Length></Properties>
        <Metadata><hdi_isfolder>true</hdi_isfolder></Metadata></Blob>
    </Blobs><NextMarker>next</NextMarker></EnumerationResults>"""
    files, marker = parse_list_blobs(payload, "c", "p/")
    assert marker == "next"
    assert [(f.rel, f.path, f.size, f.etag) for f in files] == [("a.txt", "c/p/a.txt", 3, "0x1")]
    assert files[0].md5 == hashlib.md5(b"foo").digest()


def test_md5_from_adlfs_info() -> None:
    digest = hashlib.md5(b"x").digest()
    assert md5_from_info({"content_settings": {"content_md5": bytearray(digest)}}) == digest
    assert md5_from_info({"size": 1}) is None


# -- progress ----------------------------------------------------------------------------------------
def test_progress_counts_and_stays_quiet_without_a_terminal() -> None:
    from mounts.transfer.progress import TransferProgress

    with TransferProgress("download x", 100, 2, delay=0.0) as progress:  # stderr is not a TTY here
        progress.advance(60)
        progress.file_done()
        progress.advance(40)
        progress.file_done()
        assert progress._bar is None  # nothing drawn
    assert (progress.bytes_done, progress.files_done) == (100, 2)
    with TransferProgress("upload y", 10, 1, quiet=True, delay=0.0) as quiet:
        quiet.advance(10)
        assert quiet._bar is None


def test_md5_policy(monkeypatch: pytest.MonkeyPatch) -> None:
    with_md5 = RemoteFile("f", "p/f", 10, "e", b"0" * 16)
    huge = RemoteFile("g", "p/g", 1 << 30, "e", b"0" * 16)
    assert TransferOptions().wants_md5(with_md5)
    assert not TransferOptions().wants_md5(RemoteFile("f", "p/f", 10))  # the store has none
    assert not TransferOptions().wants_md5(huge)  # multipart: size + pinned etag
    assert TransferOptions(md5_multipart=True).wants_md5(huge)
    monkeypatch.setenv("RUNNER_VERIFY_MD5", "all")
    assert TransferOptions().wants_md5(huge)
    monkeypatch.setenv("RUNNER_VERIFY_MD5", "0")
    assert not TransferOptions().wants_md5(with_md5)


def test_many_large_files_do_not_hold_a_descriptor_each(memory_root: str, tmp_path: Path) -> None:
    """Every file is queued up front; a file's ``.part`` is open only while its parts are fetched."""
    import resource

    count = 120
    put(memory_root, {f"f{i:03d}.bin": bytes([i]) * (2 * MiB + 1) for i in range(count)})
    store = FsspecStore(fsspec.filesystem("memory"))
    files = store.list_files(memory_root)
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    in_use = len(os.listdir("/proc/self/fd"))
    resource.setrlimit(resource.RLIMIT_NOFILE, (in_use + 40, hard))  # far fewer than the files
    try:
        download_files(store, files, tmp_path / "out", tmp_path / "state", options=SMALL, quiet=True)
    finally:
        resource.setrlimit(resource.RLIMIT_NOFILE, (soft, hard))
    assert len(list((tmp_path / "out").iterdir())) == count
    assert (tmp_path / "out" / "f007.bin").read_bytes() == bytes([7]) * (2 * MiB + 1)


class _CountingStore(FsspecStore):
    """Records, at every read, how many files the transfer has taken from its input and not finished."""

    def __init__(self) -> None:
        super().__init__(fsspec.filesystem("memory"))
        self.taken = self.finished = 0
        self.most_pending = 0
        self._lock = threading.Lock()

    def feed(self, files: list[RemoteFile]):  # type: ignore[no-untyped-def]
        for item in files:
            with self._lock:
                self.taken += 1
            yield item

    def read_range(self, item: RemoteFile, start: int, length: int | None, sink: Sink) -> None:
        with self._lock:
            self.most_pending = max(self.most_pending, self.taken - self.finished)
        super().read_range(item, start, length, sink)
        with self._lock:
            self.finished += 1


def test_a_download_of_many_files_queues_a_bounded_number_of_tasks(memory_root: str, tmp_path: Path) -> None:
    """100,000 files queued up front held ~190 MB of futures: the queue is a window of tasks per worker,
    whatever the number of files (the files are taken from the input as workers free up)."""
    from mounts.transfer.downloader import TASKS_PER_WORKER, Downloader
    from mounts.transfer.progress import TransferProgress

    count = 3000
    put(memory_root, {f"f{i:04d}": b"x" for i in range(count)})
    store = _CountingStore()
    files = store.list_files(memory_root)
    with TransferProgress("test", count, count, quiet=True) as progress:
        Downloader(store, tmp_path / "out", tmp_path / "state", SMALL, progress).run(store.feed(files))
    assert len(list((tmp_path / "out").iterdir())) == count
    assert store.most_pending <= SMALL.workers * TASKS_PER_WORKER + 1


def test_the_task_window_blocks_the_submitter_at_its_limit() -> None:
    from concurrent.futures import ThreadPoolExecutor

    from mounts.transfer.state import TaskWindow

    release = threading.Event()
    submitted: list[int] = []
    pool = ThreadPoolExecutor(2)
    window = TaskWindow(pool, 3)

    def submit_all() -> None:
        for index in range(10):
            window.submit(release.wait)
            submitted.append(index)

    submitter = threading.Thread(target=submit_all)
    submitter.start()
    submitter.join(0.5)  # it cannot finish: three tasks are in and none can end
    assert submitter.is_alive() and len(submitted) == 3
    release.set()
    submitter.join(10)
    pool.shutdown(wait=True)
    assert not submitter.is_alive() and len(submitted) == 10


def test_streams_of_one_file_write_into_it_one_at_a_time(memory_root: str, tmp_path: Path,
                                                         monkeypatch: pytest.MonkeyPatch) -> None:
    """Eight streams fetch a file's parts at once, but only one writes into the file at a time (the
    kernel would serialize them on the inode and spin the others)."""
    import time

    from mounts.transfer import downloader

    data = os.urandom(8 * MiB + 4096)
    put(memory_root, {"large.bin": data})
    writing, most = [0], [0]
    guard = threading.Lock()
    real = downloader._pwrite_all

    def watched(fd: int, chunk: memoryview, position: int) -> None:
        with guard:
            writing[0] += 1
            most[0] = max(most[0], writing[0])
        time.sleep(0.002)  # long enough for another stream to arrive if nothing holds it back
        real(fd, chunk, position)
        with guard:
            writing[0] -= 1

    monkeypatch.setattr(downloader, "_pwrite_all", watched)
    options = TransferOptions(workers=8, streams_per_file=8, part_size=512 * 1024, first_part=512 * 1024,
                              multipart_threshold=1 * MiB)
    store = FsspecStore(fsspec.filesystem("memory"))
    download_files(store, store.list_files(memory_root), tmp_path / "data", tmp_path / "state",
                   options=options, quiet=True)
    assert (tmp_path / "data" / "large.bin").read_bytes() == data
    assert most[0] == 1


class OddChunksStore(FsspecStore):
    """The memory store delivering each read in odd-sized chunks, the way a TLS connection does (body
    bytes that came with the headers, then records of any length)."""

    SIZES = (1000, 70_001, 16_384, 333_333)

    def __init__(self) -> None:
        super().__init__(fsspec.filesystem("memory"))

    def read_range(self, item: RemoteFile, start: int, length: int | None, sink: Sink) -> None:
        def split(chunk: memoryview) -> None:
            done, turn = 0, 0
            while done < len(chunk):
                size = self.SIZES[turn % len(self.SIZES)]
                sink(chunk[done:done + size])
                done, turn = done + size, turn + 1

        super().read_range(item, start, length, split)


def test_writes_never_straddle_a_write_size_boundary(memory_root: str, tmp_path: Path,
                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    """However the store cuts what it delivers, a file is written in pieces that end on multiples of
    WRITE_SIZE, so no write covers a page in part (that costs the kernel ~1.5x per byte)."""
    from mounts.transfer.downloader import WRITE_SIZE

    files = {"whole.bin": os.urandom(900_000), "parted.bin": os.urandom(3 * MiB + 12_345)}
    put(memory_root, files)
    pieces: list[tuple[int, int]] = []
    real = os.pwrite

    def recording(fd: int, data: memoryview, offset: int) -> int:
        pieces.append((offset, len(data)))
        return real(fd, data, offset)

    monkeypatch.setattr(os, "pwrite", recording)
    options = TransferOptions(workers=4, part_size=1 * MiB, first_part=1 * MiB, multipart_threshold=1 * MiB)
    store = OddChunksStore()
    download_files(store, store.list_files(memory_root), tmp_path / "data", tmp_path / "state",
                   options=options, quiet=True)
    for name, data in files.items():
        assert (tmp_path / "data" / name).read_bytes() == data
    assert sum(length for _, length in pieces) == sum(len(d) for d in files.values())
    crossing = [(at, n) for at, n in pieces if at // WRITE_SIZE != (at + n - 1) // WRITE_SIZE]
    assert not crossing, f"writes across a {WRITE_SIZE}-byte boundary: {crossing[:5]}"


def test_azure_reads_after_a_short_one_end_on_buffer_boundaries() -> None:
    """The body bytes that came with the headers make a short first read; the next read stops at the
    buffer-size boundary, so every later buffer holds an aligned span of the file."""
    from mounts.stores.azure_buffers import aligned_view

    buffer = memoryview(bytearray(MiB))
    assert len(aligned_view(buffer, 16 * MiB, 20 * MiB)) == MiB  # a part starts aligned
    assert len(aligned_view(buffer, 16 * MiB + 1000, 20 * MiB)) == MiB - 1000  # up to 17 MiB
    assert len(aligned_view(buffer, 19 * MiB + 5, 19 * MiB + 100)) == 95  # the end comes first
