"""Faults around FUSE mounts: storage stopped mid-transfer, the container killed mid-write, SIGTERM or
SIGKILL to the process holding the mount, a FUSE callback crashing. Afterwards: no stale mount in
/proc/mounts, no stray process, and no lost file (what was not uploaded stays staged)."""

from __future__ import annotations

import errno
import hashlib
import os
import signal
import subprocess
import sys
import textwrap
import time
import uuid
from pathlib import Path

import fsspec
import pytest
from docker.types import Mount
from fsspec.implementations.local import LocalFileSystem
from private_azurite import PrivateAzurite
from repo_paths import REPO

from mounts.base import Source, Target
from mounts.errors import TransferFailed
from mounts.fuse.lifecycle import MountOptions, cleanup_stale_mounts, fuse_mount, is_mounted
from mounts.fuse.readahead import Prefetcher, ReadaheadConfig, fsspec_range_fetch
from mounts.fuse.ro import FsspecReadOnly
from mounts.ro_mount import RoMountStrategy
from mounts.rw_mount import RwMountStrategy
from mounts.transfer.downloader import TransferOptions

pytestmark = [pytest.mark.fuse]
MiB = 1 << 20


def azure_fs(azurite: PrivateAzurite):  # type: ignore[no-untyped-def]
    from adlfs import AzureBlobFileSystem

    fs = AzureBlobFileSystem(connection_string=azurite.connection_string, skip_instance_cache=True)
    container = f"t{uuid.uuid4().hex[:16]}"
    fs.mkdir(container)
    return fs, container


FEW_RETRIES = TransferOptions(workers=4)


@pytest.fixture
def short_retries(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("RUNNER_RETRY_TOTAL_S", "3")  # the storage stays away longer than the retries


def test_storage_stopped_during_rw_mount_keeps_unuploaded_files(
        private_azurite: PrivateAzurite, fuse_available: bool, tmp_path: Path, short_retries: None) -> None:
    fs, container = azure_fs(private_azurite)
    target = Target(fs=fs, path=f"{container}/out", url="abfs://out")
    early, late = os.urandom(2 * MiB), os.urandom(3 * MiB + 3)
    workdir = tmp_path / "job"
    with pytest.raises(TransferFailed) as failure, \
            RwMountStrategy(transfer=FEW_RETRIES).materialize(target, workdir) as mat:
        root = Path(mat.host_path or "")
        (root / "early.bin").write_bytes(early)  # durable: close returned
        private_azurite.stop()
        with pytest.raises(OSError) as closing:
            (root / "sub").mkdir()
            (root / "sub" / "late.bin").write_bytes(late)
        assert closing.value.errno == errno.EIO  # close reports the failed upload
    assert failure.value.failed == ["sub/late.bin"]
    staged = failure.value.staged
    assert staged is not None and (staged / "sub" / "late.bin").read_bytes() == late
    assert not (staged / "early.bin").exists()
    assert not is_mounted(workdir / "mnt")
    private_azurite.start()
    fs.invalidate_cache()
    assert fs.cat_file(f"{container}/out/early.bin") == early


def test_storage_stopped_during_ro_read_fails_with_eio(
        private_azurite: PrivateAzurite, fuse_available: bool, tmp_path: Path, short_retries: None) -> None:
    fs, container = azure_fs(private_azurite)
    data = os.urandom(12 * MiB)
    fs.pipe_file(f"{container}/model/big.bin", data)
    source = Source(fs=fs, path=f"{container}/model", url="abfs://model", is_dir=True)
    small = ReadaheadConfig(block_size=256 * 1024, first_size=128 * 1024, ahead=1, small_file=0)
    with RoMountStrategy(readahead=small).materialize(source, tmp_path / "job") as mat:
        with open(Path(mat.host_path or "") / "big.bin", "rb", buffering=0) as stream:
            assert stream.read(MiB) == data[:MiB]
            private_azurite.stop()
            with pytest.raises(OSError) as reading:
                while stream.read(MiB):
                    pass
        assert reading.value.errno == errno.EIO
        mountpoint = mat.host_path
    assert mountpoint is not None and not is_mounted(mountpoint)


@pytest.mark.docker
@pytest.mark.azure
def test_container_killed_mid_write_loses_nothing(azure_container, docker_client, fuse_available: bool,  # type: ignore[no-untyped-def]
                                                  tmp_path: Path) -> None:
    from adlfs import AzureBlobFileSystem

    fs = AzureBlobFileSystem(connection_string=azure_container.azurite.connection_string,
                             skip_instance_cache=True)
    target = Target(fs=fs, path=f"{azure_container.name}/out", url="abfs://out")
    # Each 64 KiB chunk is one write() (dd from a file), so the kill lands between chunks or leaves one
    # whole: busybox `head -c` would write it 4 KiB at a time.
    script = ("exec 3>/data/partial.bin; i=0; while true; do head -c 65536 /dev/urandom >/tmp/chunk; "
              "dd if=/tmp/chunk bs=65536 count=1 2>/dev/null >&3; "
              "i=$((i+1)); if [ $i = 16 ]; then touch /data/ready; fi; sleep 0.02; done")
    with RwMountStrategy().materialize(target, tmp_path / "job") as mat:
        root = Path(mat.host_path or "")
        container = docker_client.containers.run(
            "runner/busybox:latest", ["sh", "-c", script], detach=True, network_mode="none",
            mounts=[Mount(target="/data", source=str(root), type="bind", read_only=False)])
        try:
            deadline = time.monotonic() + 60
            while not (root / "ready").exists() and time.monotonic() < deadline:
                time.sleep(0.1)
            container.kill()
            container.wait(timeout=60)
        finally:
            container.remove(force=True)
        written = (root / "partial.bin").stat().st_size
        with open(root / "partial.bin", "rb") as staged:
            written_digest = hashlib.file_digest(staged, "sha256").hexdigest()
    fs.invalidate_cache()
    stored = fs.info(f"{azure_container.name}/out/partial.bin")["size"]
    assert stored == written and written >= 16 * 65536 and written % 65536 == 0
    with fs.open(f"{azure_container.name}/out/partial.bin", "rb") as blob:
        assert hashlib.file_digest(blob, "sha256").hexdigest() == written_digest
    assert not is_mounted(tmp_path / "job" / "mnt")


HOLDER = """
import sys, time, logging
from pathlib import Path
from fsspec.implementations.local import LocalFileSystem
from mounts.base import Target
from mounts.rw_mount import RwMountStrategy
target = Target(fs=LocalFileSystem(), path=sys.argv[1], url="file://out")
with RwMountStrategy(unmount_timeout=2).materialize(target, Path(sys.argv[2])) as mat:
    (mat.host_path / "done.txt").write_bytes(b"closed before the signal")
    pending = open(mat.host_path / "pending.bin", "wb")
    pending.write(b"p" * 1048576)
    pending.flush()
    print("READY", flush=True)
    time.sleep(600)
"""


def start_holder(script: str, *args: str) -> subprocess.Popen[str]:
    holder = subprocess.Popen([sys.executable, "-c", textwrap.dedent(script), *args], cwd=REPO,
                              stdout=subprocess.PIPE, text=True, env={**os.environ, "PYTHONPATH": str(REPO)})
    assert holder.stdout is not None
    line = holder.stdout.readline()
    assert line.strip() == "READY", f"holder did not mount: {line!r}"
    return holder


def test_sigterm_to_the_mount_holder_unmounts_and_keeps_staged_data(fuse_available: bool,
                                                                      tmp_path: Path) -> None:
    out, workdir = tmp_path / "store" / "out", tmp_path / "job"
    out.mkdir(parents=True)
    holder = start_holder(HOLDER, str(out), str(workdir))
    assert is_mounted(workdir / "mnt")
    holder.send_signal(signal.SIGTERM)
    assert holder.wait(timeout=60) == 128 + signal.SIGTERM
    assert not is_mounted(workdir / "mnt")
    assert (out / "done.txt").read_bytes() == b"closed before the signal"
    # the file still open at the signal: uploaded when the FUSE loop ended, or else kept staged
    kept = [p.read_bytes() for p in (out / "pending.bin", workdir / "staged" / "pending.bin") if p.exists()]
    assert kept and all(data == b"p" * MiB for data in kept)


RO_HOLDER = """
import sys, time
from pathlib import Path
import fsspec
from mounts.base import Source
from mounts.ro_mount import RoMountStrategy
fs = fsspec.filesystem("memory")
fs.pipe_file("/m/a.txt", b"a")
with RoMountStrategy().materialize(Source(fs, "/m", "memory://m", True), Path(sys.argv[1])) as mat:
    print("READY", flush=True)
    time.sleep(600)
"""


def test_sigkilled_holder_leaves_a_stale_mount_that_cleanup_removes(fuse_available: bool,
                                                                    tmp_path: Path) -> None:
    holder = start_holder(RO_HOLDER, str(tmp_path / "jobs" / "j1"))
    mountpoint = tmp_path / "jobs" / "j1" / "mnt"
    holder.kill()
    holder.wait(timeout=30)
    assert is_mounted(mountpoint)  # nobody could unmount it
    assert cleanup_stale_mounts(tmp_path / "jobs") == [mountpoint]
    assert not is_mounted(mountpoint)
    assert cleanup_stale_mounts(tmp_path / "jobs") == []


class CrashingReads(FsspecReadOnly):
    def read(self, path: str, size: int, offset: int, fh: int) -> bytes:
        raise KeyboardInterrupt("a FUSE callback crashed")


def test_a_crashing_fuse_callback_leaves_no_mount(fuse_available: bool, tmp_path: Path) -> None:
    fs = fsspec.filesystem("memory")
    fs.pipe_file("/crash/a.txt", b"abc")
    prefetcher = Prefetcher(fsspec_range_fetch(fs))
    mountpoint = tmp_path / "mnt"
    operations = CrashingReads(fs, "/crash", prefetcher)
    with fuse_mount(operations, mountpoint, MountOptions(read_only=True)), pytest.raises(OSError):
        (mountpoint / "a.txt").read_bytes()
    assert not is_mounted(mountpoint)
    prefetcher.close()


def test_exception_in_the_block_unmounts_and_uploads(fuse_available: bool, tmp_path: Path) -> None:
    out = tmp_path / "store"
    out.mkdir()
    target = Target(fs=LocalFileSystem(), path=str(out), url="file://store")
    with pytest.raises(RuntimeError, match="job failed"), \
            RwMountStrategy().materialize(target, tmp_path / "job") as mat:
        (Path(mat.host_path or "") / "log.txt").write_text("partial")
        raise RuntimeError("job failed")
    assert not is_mounted(tmp_path / "job" / "mnt")
    assert (out / "log.txt").read_bytes() == b"partial"
