"""An ``rw_mount`` whose FUSE connection is cut while the job still has a file open (what a dead FUSE
daemon looks like to the kernel): that file is never published (not even the start an earlier close of a
copy of its descriptor had uploaded), its staged copy is kept, files closed before stay durable, and the
output fails, saying the mount went away, rather than being finalized as if the job had closed the file."""

from __future__ import annotations

import contextlib
import os
import threading
import time
from pathlib import Path

import pytest
from fsspec.implementations.local import LocalFileSystem

from mounts.base import Target
from mounts.errors import TransferFailed
from mounts.fuse.lifecycle import abort_connection, is_mounted
from mounts.rw_mount import RwMountStrategy

pytestmark = [pytest.mark.fuse]
MiB = 1 << 20


def wait_for_fuse_loop_to_end(mountpoint: Path) -> None:
    """The FUSE loop's thread (``fuse:<mountpoint name>``) ends once its connection is aborted."""
    deadline = time.monotonic() + 30
    while any(t.name == f"fuse:{mountpoint.name}" for t in threading.enumerate()):
        assert time.monotonic() < deadline, "the FUSE loop did not end after its connection was aborted"
        time.sleep(0.05)


def test_a_file_open_when_the_rw_mount_is_cut_is_kept_and_never_published(fuse_available: bool,
                                                                           tmp_path: Path) -> None:
    out, workdir = tmp_path / "store" / "out", tmp_path / "job"
    out.mkdir(parents=True)
    target = Target(fs=LocalFileSystem(), path=str(out), url="file://out")
    with pytest.raises(TransferFailed) as failure, \
            RwMountStrategy(unmount_timeout=2).materialize(target, workdir) as mat:
        root = Path(mat.host_path or "")
        (root / "closed.txt").write_bytes(b"closed before the cut")
        fd = os.open(root / "open.bin", os.O_WRONLY | os.O_CREAT, 0o644)
        os.write(fd, b"a" * MiB)
        os.close(os.dup(fd))  # a copy closed (as a shell's command closes its own): the start is uploaded
        assert (out / "open.bin").stat().st_size == MiB
        os.write(fd, b"b" * MiB)
        assert abort_connection(os.stat(root).st_dev)
        wait_for_fuse_loop_to_end(root)
        with contextlib.suppress(OSError):  # the connection is gone: the close may fail
            os.close(fd)
    error = failure.value
    assert error.failed == ["open.bin"]
    assert "went away while the job ran" in str(error) and "open.bin" in str(error)
    assert error.staged == workdir / "staged"
    assert (workdir / "staged" / "open.bin").read_bytes() == b"a" * MiB + b"b" * MiB  # kept whole
    assert not (out / "open.bin").exists()  # the start uploaded earlier was taken back
    assert (out / "closed.txt").read_bytes() == b"closed before the cut"  # closed before: durable
    assert not is_mounted(workdir / "mnt")


def test_an_rw_mount_cut_with_no_file_open_still_fails_the_output(fuse_available: bool,
                                                                  tmp_path: Path) -> None:
    out, workdir = tmp_path / "store" / "out", tmp_path / "job"
    out.mkdir(parents=True)
    target = Target(fs=LocalFileSystem(), path=str(out), url="file://out")
    with pytest.raises(TransferFailed) as failure, \
            RwMountStrategy(unmount_timeout=2).materialize(target, workdir) as mat:
        root = Path(mat.host_path or "")
        (root / "closed.txt").write_bytes(b"closed before the cut")
        assert abort_connection(os.stat(root).st_dev)
        wait_for_fuse_loop_to_end(root)
        with pytest.raises(OSError):  # what the job writes from now on fails
            (root / "later.txt").write_bytes(b"never there")
    assert failure.value.failed == [] and failure.value.staged is None
    assert "went away while the job ran" in str(failure.value)
    assert (out / "closed.txt").read_bytes() == b"closed before the cut"
    assert not (out / "later.txt").exists()
    assert not is_mounted(workdir / "mnt")
