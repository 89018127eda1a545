"""A copy into a local datastore (``NoFollowFolders.copy_in``: an output moved across filesystems) writes a
``.runner-<hex>.partial`` scratch file in the datastore's root, locked while its writer lives. One left by a
runner that died (SIGKILL) is removed by the next write into that datastore; nothing else is: not one a
live writer holds, not a fresh one, not a link (never followed), a folder, a FIFO or another name. The
scratch file never lands inside an output's folder. Everything in tmp_path; the dying writer is a real
process, stopped inside the copy and killed."""

from __future__ import annotations

import fcntl
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
from fsspec.implementations.local import LocalFileSystem

from mounts.base import Target
from mounts.transfer import partials
from mounts.transfer.partials import is_partial, sweep_partials
from mounts.upload import UploadStrategy

STALE = "." + "runner-0123456789ab.partial"
LATER = 3600.0  # a sweep's clock this far on: every file is old enough


def _sweep(folder: Path, now: float | None = None) -> list[str]:
    fd = os.open(folder, os.O_RDONLY | os.O_DIRECTORY)
    try:
        return sweep_partials(fd, now=now)
    finally:
        os.close(fd)


def test_only_a_stale_unheld_regular_scratch_file_is_removed(tmp_path: Path) -> None:
    root, outside = tmp_path / "ds", tmp_path / "outside.bin"
    root.mkdir()
    outside.write_bytes(b"not the datastore's")
    (root / STALE).write_bytes(b"left by a dead runner")
    held = root / ".runner-aaaaaaaaaaaa.partial"
    held.write_bytes(b"being written")
    (root / ".runner-bbbbbbbbbbbb.partial").symlink_to(outside)
    (root / ".runner-cccccccccccc.partial").mkdir()
    os.mkfifo(root / ".runner-dddddddddddd.partial")
    others = [".runner-0123.partial", "x.runner-0123456789ab.partial", ".runner-0123456789ab.partial.bak",
              ".runner-0123456789AB.partial"]
    for name in others:
        (root / name).write_bytes(b"data")
    writer = os.open(held, os.O_RDONLY)
    try:
        fcntl.flock(writer, fcntl.LOCK_EX)  # as a live copy holds its scratch file
        assert _sweep(root) == []  # everything was just written: too fresh
        assert _sweep(root, now=time.time() + LATER) == [STALE]
    finally:
        os.close(writer)
    assert not (root / STALE).exists()
    assert held.exists() and (root / ".runner-bbbbbbbbbbbb.partial").is_symlink()
    assert outside.read_bytes() == b"not the datastore's"
    assert (root / ".runner-cccccccccccc.partial").is_dir()
    assert (root / ".runner-dddddddddddd.partial").exists()
    assert all((root / name).read_bytes() == b"data" for name in others)
    assert _sweep(root, now=time.time() + LATER) == [held.name]  # its writer is gone now


# copies ``source`` into ``root``/out/f.bin; stops itself in the middle of the copy (SIGSTOP)
DYING_COPY = """
import os, signal, sys
from pathlib import Path
import mounts.transfer.nofollow as nofollow
def copy_bytes(reader, out):
    os.write(out, os.read(reader, 1000))
    os.kill(os.getpid(), signal.SIGSTOP)
nofollow._copy_bytes = copy_bytes
with nofollow.NoFollowFolders(Path(sys.argv[1])) as tree:
    tree.copy_in(Path(sys.argv[2]), "out/f.bin")
"""


def test_the_next_write_removes_what_a_killed_copy_left_and_never_a_live_ones(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    root, source = tmp_path / "ds", tmp_path / "source.bin"
    source.write_bytes(os.urandom(4096))
    copy = subprocess.Popen([sys.executable, "-c", DYING_COPY, str(root), str(source)])
    try:
        _, status = os.waitpid(copy.pid, os.WUNTRACED)  # stopped in the middle of its copy
        assert os.WIFSTOPPED(status)
        left = [name for name in os.listdir(root) if is_partial(name)]
        assert len(left) == 1 and (root / left[0]).stat().st_size == 1000, left
        assert os.listdir(root / "out") == []  # never inside the output's folder
        assert _sweep(root, now=time.time() + LATER) == []  # its writer is alive: it holds the lock
    finally:
        copy.kill()  # SIGKILL: no cleanup of its own
        copy.wait()
    assert (root / left[0]).exists()
    monkeypatch.setattr(partials, "STALE_AFTER_S", 0.0)  # no waiting a minute: the lock decides now
    staged = tmp_path / "job" / "staged"
    target = Target(fs=LocalFileSystem(), path=str(root / "next"), url="azureml://datastores/ds/paths/next",
                    local_path=root / "next", local_root=root)
    with UploadStrategy(quiet=True).materialize(target, staged) as done:
        assert done.host_path is not None
        (done.host_path / "g.txt").write_bytes(b"next")
    assert (root / "next" / "g.txt").read_bytes() == b"next"
    assert sorted(os.listdir(root)) == ["next", "out"]  # the partial copy is gone, nothing else touched
    assert source.stat().st_size == 4096


def test_a_whole_copy_in_leaves_no_scratch_file(tmp_path: Path) -> None:
    from mounts.transfer.nofollow import NoFollowFolders

    root, source = tmp_path / "ds", tmp_path / "source.bin"
    source.write_bytes(b"whole")
    with NoFollowFolders(root) as tree:
        tree.copy_in(source, "out/f.bin")
    assert (root / "out" / "f.bin").read_bytes() == b"whole"
    assert sorted(os.listdir(root)) == ["out"] and os.listdir(root / "out") == ["f.bin"]
