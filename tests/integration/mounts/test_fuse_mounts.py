"""ro_mount and rw_mount through real FUSE mounts, read and written from inside real containers.

Every backend: fsspec's local filesystem (FUSE over a folder), ``memory://`` and Azure Blob on Azurite
(adlfs). Content is checked by SHA-256 computed *inside* the container (busybox ``sha256sum``).
"""

from __future__ import annotations

import errno
import hashlib
import os
import subprocess
import sys
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import fsspec
import pytest
from docker.types import Mount
from fsspec import AbstractFileSystem
from fsspec.implementations.local import LocalFileSystem

from mounts.base import Source, Target
from mounts.fuse.lifecycle import MountOptions, is_mounted
from mounts.ro_mount import RoMountStrategy
from mounts.rw_mount import RwMountStrategy

pytestmark = pytest.mark.fuse  # every test here mounts; those that also run a container are marked docker
MiB = 1 << 20
IMAGE = "runner/busybox:latest"


@dataclass
class Store:
    name: str
    fs: AbstractFileSystem
    root: str

    def path(self, rel: str) -> str:
        return f"{self.root}/{rel}".rstrip("/")

    def write(self, rel: str, data: bytes) -> None:
        if isinstance(self.fs, LocalFileSystem):
            self.fs.makedirs(self.path(rel).rsplit("/", 1)[0], exist_ok=True)
        self.fs.pipe_file(self.path(rel), data)

    def sha256_tree(self, rel: str) -> dict[str, str]:
        self.fs.invalidate_cache()
        base = self.path(rel)
        out = {}
        for path in self.fs.find(base):
            digest = hashlib.sha256()
            with self.fs.open(path, "rb") as stream:
                while block := stream.read(MiB):
                    digest.update(block)
            out[path[len(base) + 1:]] = digest.hexdigest()
        return out


@pytest.fixture(params=["file", "memory", "azure"])
def store(request: pytest.FixtureRequest, tmp_path: Path, fuse_available: bool) -> Iterator[Store]:
    if request.param == "file":
        root = tmp_path / "datastore"
        root.mkdir()
        yield Store("file", LocalFileSystem(), str(root))
    elif request.param == "memory":
        fs = fsspec.filesystem("memory")
        root = f"/fuse-{uuid.uuid4().hex[:12]}"
        yield Store("memory", fs, root)
        if fs.exists(root):
            fs.rm(root, recursive=True)
    else:
        request.applymarker(pytest.mark.azure)
        container = request.getfixturevalue("azure_container")
        from adlfs import AzureBlobFileSystem

        fs = AzureBlobFileSystem(connection_string=container.azurite.connection_string,
                                 skip_instance_cache=True)
        yield Store("azure", fs, container.name)


def in_container(docker_client, host_path: Path, command: str, read_only: bool) -> str:  # type: ignore[no-untyped-def]
    """Run ``command`` in busybox with ``host_path`` bound at /data; return its output."""
    output = docker_client.containers.run(
        IMAGE, ["sh", "-c", command], remove=True, network_mode="none", stdout=True, stderr=True,
        mounts=[Mount(target="/data", source=str(host_path), type="bind", read_only=read_only)])
    return bytes(output).decode()


def parse_sha256sum(output: str) -> dict[str, str]:
    result = {}
    for line in output.splitlines():
        digest, _, name = line.partition("  ")
        if len(digest) == 64:
            result[name.removeprefix("./")] = digest
    return result


def sample_tree() -> dict[str, bytes]:
    return {"a.txt": b"hello\n", "empty.bin": b"", "nested/deeper/model ü.bin": os.urandom(300 * 1024),
            "nested/large.bin": os.urandom(20 * MiB + 4321)}


# -- ro_mount ----------------------------------------------------------------------------------------
@pytest.mark.docker
def test_ro_mount_container_reads_identical_bytes(store: Store, docker_client, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    files = sample_tree()
    for rel, data in files.items():
        store.write(f"model/{rel}", data)
    source = Source(fs=store.fs, path=store.path("model"), url=f"{store.name}://model", is_dir=True)
    with RoMountStrategy().materialize(source, tmp_path / "job") as mat:
        assert mat.read_only and mat.host_path is not None and is_mounted(mat.host_path)
        output = in_container(docker_client, mat.host_path,
                              "cd /data && find . -type f -exec sha256sum {} +", read_only=True)
        mountpoint = mat.host_path
    assert parse_sha256sum(output) == {k: hashlib.sha256(v).hexdigest() for k, v in files.items()}
    assert not is_mounted(mountpoint)


@pytest.mark.docker
def test_ro_mount_of_a_file_shows_only_that_file(store: Store, docker_client, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    data = os.urandom(3 * MiB + 5)
    store.write("models/weights.bin", data)
    store.write("models/other.bin", b"not part of the input")
    source = Source(fs=store.fs, path=store.path("models/weights.bin"), url="x://weights.bin", is_dir=False)
    with RoMountStrategy().materialize(source, tmp_path / "job") as mat:
        assert mat.host_path is not None
        output = in_container(docker_client, mat.host_path, "cd /data && sha256sum *", read_only=True)
    assert parse_sha256sum(output) == {"weights.bin": hashlib.sha256(data).hexdigest()}


@pytest.mark.parametrize("read_ahead_kb", [None, 2048])
def test_ro_mount_sets_the_kernel_readahead_window(read_ahead_kb: int | None, tmp_path: Path,
                                                   fuse_available: bool) -> None:
    fs = fsspec.filesystem("memory")
    root = f"/fuse-{uuid.uuid4().hex[:12]}"
    fs.pipe_file(f"{root}/weights.bin", b"w" * 1000)
    strategy = RoMountStrategy() if read_ahead_kb is None else RoMountStrategy(read_ahead_kb=read_ahead_kb)
    source = Source(fs=fs, path=root, url="x://m", is_dir=True)
    try:
        with strategy.materialize(source, tmp_path / "job") as mat:
            assert mat.host_path is not None
            device = os.stat(mat.host_path).st_dev
            window = Path(f"/sys/class/bdi/{os.major(device)}:{os.minor(device)}/read_ahead_kb").read_text()
            assert (mat.host_path / "weights.bin").read_bytes() == b"w" * 1000
    finally:
        fs.rm(root, recursive=True)
    assert int(window) == (read_ahead_kb or MountOptions().read_ahead_kb) == (read_ahead_kb or 4096)


@pytest.mark.docker
def test_ro_mount_rejects_writes_with_erofs(store: Store, docker_client, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    store.write("model/a.txt", b"original")
    source = Source(fs=store.fs, path=store.path("model"), url="x://model", is_dir=True)
    with RoMountStrategy().materialize(source, tmp_path / "job") as mat:
        root = Path(mat.host_path or "")
        for attempt in (lambda: os.open(root / "new.txt", os.O_WRONLY | os.O_CREAT),
                        lambda: os.open(root / "a.txt", os.O_WRONLY | os.O_APPEND),
                        lambda: os.mkdir(root / "d"), lambda: os.unlink(root / "a.txt"),
                        lambda: os.rename(root / "a.txt", root / "b.txt")):
            with pytest.raises(OSError) as info:
                attempt()
            assert info.value.errno == errno.EROFS
        # the shell's own message for a refused redirection goes to its stderr: `{ ...; } 2>&1` puts it
        # on stdout, in order (the container's two streams are merged in no fixed order)
        output = in_container(docker_client, root, "{ echo x > /data/new.txt; } 2>&1; cat /data/a.txt; echo",
                              read_only=True)
    assert "Read-only file system" in output and output.rstrip().endswith("original")
    assert store.sha256_tree("model") == {"a.txt": hashlib.sha256(b"original").hexdigest()}


# -- rw_mount ----------------------------------------------------------------------------------------
WRITE_SCRIPT = """
set -e
cd /data
mkdir -p ckpt/epoch1
dd if=/dev/urandom of=ckpt/epoch1/model.bin bs=1M count=9 2>/dev/null
head -c 1000 /dev/urandom > small.bin
echo "metrics" > metrics.txt
: > empty.txt
find . -type f -exec sha256sum {} +
"""


@pytest.mark.docker
def test_rw_mount_files_written_in_container_are_durable(store: Store, docker_client, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    target = Target(fs=store.fs, path=store.path("out"), url="x://out")
    with RwMountStrategy().materialize(target, tmp_path / "job") as mat:
        assert not mat.read_only and mat.host_path is not None
        written = parse_sha256sum(in_container(docker_client, mat.host_path, WRITE_SCRIPT, read_only=False))
        mountpoint = mat.host_path
    assert len(written) == 4
    assert store.sha256_tree("out") == written
    assert not is_mounted(mountpoint)
    assert not (tmp_path / "job" / "staged").exists()  # every staged copy was uploaded, then removed


EDIT_SCRIPT = """
set -e
cd /data
sha256sum existing.bin
cat existing.bin existing.bin > doubled.bin
mkdir -p a/b
echo one > a/b/f.txt
mv a/b/f.txt a/g.txt
echo tmp > part.tmp && mv part.tmp final.txt
echo gone > gone.txt && rm gone.txt
rm old.txt
rmdir a/b
mkdir dir1 && echo in > dir1/x.txt && mv dir1 dir2
echo appended >> final.txt
truncate -s 3 a/g.txt
ls -R
"""


@pytest.mark.docker
def test_rw_mount_mkdir_rename_unlink_and_lazy_reads(store: Store, docker_client, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    existing = os.urandom(2 * MiB + 1)
    store.write("out/existing.bin", existing)
    store.write("out/old.txt", b"old")
    target = Target(fs=store.fs, path=store.path("out"), url="x://out")
    with RwMountStrategy().materialize(target, tmp_path / "job") as mat:
        output = in_container(docker_client, Path(mat.host_path or ""), EDIT_SCRIPT, read_only=False)
    assert hashlib.sha256(existing).hexdigest() in output
    digest = {name: hashlib.sha256(data).hexdigest() for name, data in {
        "existing.bin": existing, "doubled.bin": existing * 2, "a/g.txt": b"one",
        "final.txt": b"tmp\nappended\n", "dir2/x.txt": b"in\n"}.items()}
    assert store.sha256_tree("out") == digest


def test_rw_mount_close_makes_a_file_durable_and_stat_sees_staged_size(store: Store, tmp_path: Path) -> None:
    target = Target(fs=store.fs, path=store.path("out"), url="x://out")
    with RwMountStrategy().materialize(target, tmp_path / "job") as mat:
        path = Path(mat.host_path or "") / "growing.bin"
        with open(path, "wb") as stream:
            stream.write(b"x" * (3 * MiB))
            stream.flush()
            assert os.stat(path).st_size == 3 * MiB  # served from the staged copy
            stream.write(b"y" * 10)
        # close returned: the file is in the store now, before the mount ends
        assert store.sha256_tree("out") == {
            "growing.bin": hashlib.sha256(b"x" * (3 * MiB) + b"y" * 10).hexdigest()}
        assert (Path(mat.host_path or "") / "growing.bin").read_bytes()[-10:] == b"y" * 10


# A real process that writes a part, fsyncs, says so, and waits for the next word (the file stays open).
FSYNC_WRITER = """
import os, sys
fd = os.open(sys.argv[1], os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
for line in sys.stdin:
    os.write(fd, bytes.fromhex(line.strip()))
    os.fsync(fd)
    print("synced", flush=True)
"""


def test_rw_mount_fsync_makes_a_file_durable_before_it_is_closed(store: Store, tmp_path: Path) -> None:
    """``fsync`` returning means the bytes written so far are in the store, while the writer still has
    the file open; a writer killed after it (no close) loses nothing it synced."""
    parts = [os.urandom(2 * MiB + 11), os.urandom(300 * 1024)]
    target = Target(fs=store.fs, path=store.path("out"), url="x://out")
    with RwMountStrategy().materialize(target, tmp_path / "job") as mat:
        path = Path(mat.host_path or "") / "ckpt.bin"
        writer = subprocess.Popen([sys.executable, "-c", FSYNC_WRITER, str(path)], stdin=subprocess.PIPE,
                                  stdout=subprocess.PIPE, text=True)
        assert writer.stdin is not None and writer.stdout is not None
        written = b""
        try:
            for part in parts:
                writer.stdin.write(part.hex() + "\n")
                writer.stdin.flush()
                assert writer.stdout.readline() == "synced\n"
                written += part
                assert store.sha256_tree("out") == {"ckpt.bin": hashlib.sha256(written).hexdigest()}
        finally:
            writer.kill()  # never closes the file itself
            writer.wait(timeout=30)
    assert store.sha256_tree("out") == {"ckpt.bin": hashlib.sha256(written).hexdigest()}
