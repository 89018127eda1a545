"""No file the runner puts on the host from a job's output keeps a set-user-ID or set-group-ID bit: a job
runs as root in its container, and a set-user-ID root executable of its making in a host folder would
run as root for every user of the host. Moved (renamed) or copied into a local datastore, the file loses
those bits and keeps the rest of its mode and its content; a ``direct`` output's folder is cleared once
its job ended, without following a link or opening a FIFO.

Everything here is under ``tmp_path``; every link names a decoy the test made there, checked unchanged.
"""

from __future__ import annotations

import errno
import os
import stat
from pathlib import Path

import pytest
from fsspec.implementations.local import LocalFileSystem

import mounts.transfer.nofollow as nofollow
from mounts.base import SkipFinalize, Target
from mounts.direct import DirectOutputStrategy
from mounts.errors import TransferFailed
from mounts.transfer.nofollow import NoFollowFolders, drop_set_id, drop_set_id_in, without_set_id
from mounts.upload import UploadStrategy

SET_ID = stat.S_ISUID | stat.S_ISGID
# a file's mode as the job left it, and as it must be on the host
MODES = {"suid": (0o4755, 0o755), "sgid": (0o2750, 0o750), "both": (0o6711, 0o711), "plain": (0o644, 0o644),
         "sticky": (0o1755, 0o1755)}


def _plant(folder: Path, prefix: str = "") -> None:
    (folder / prefix).mkdir(parents=True, exist_ok=True)
    for name, (mode, _) in MODES.items():
        path = folder / prefix / name
        path.write_bytes(name.encode())
        os.chmod(path, mode)


def _check(folder: Path, prefix: str = "") -> None:
    for name, (_, wanted) in MODES.items():
        path = folder / prefix / name
        assert not path.is_symlink()
        assert oct(stat.S_IMODE(path.lstat().st_mode)) == oct(wanted), path
        assert path.read_bytes() == name.encode()


def _target(root: Path, rel: str, *, is_file: bool = False) -> Target:
    dest = root / rel
    return Target(fs=LocalFileSystem(), path=str(dest), url=f"file://{dest}", is_file=is_file,
                  local_path=dest, local_root=root)


@pytest.fixture
def decoy(tmp_path: Path) -> Path:
    """A set-user-ID file outside every output: a link to it must not clear it."""
    path = tmp_path / "decoy" / "suid"
    path.parent.mkdir()
    path.write_bytes(b"decoy")
    os.chmod(path, 0o4755)
    return path


@pytest.mark.parametrize(("mode", "wanted"), [(0o104755, 0o755), (0o2750, 0o750), (0o6711, 0o711),
                                              (0o7777, 0o1777), (0o100644, 0o644), (0o4000, 0)])
def test_without_set_id_keeps_every_other_permission_bit(mode: int, wanted: int) -> None:
    assert without_set_id(mode) == wanted


def test_drop_set_id_clears_a_file_and_leaves_links_folders_and_fifos(tmp_path: Path, decoy: Path) -> None:
    _plant(tmp_path / "f")
    for name, (mode, _) in MODES.items():
        assert drop_set_id(str(tmp_path / "f" / name)) is bool(mode & SET_ID)
    _check(tmp_path / "f")
    (tmp_path / "link").symlink_to(decoy)
    (tmp_path / "fifo").mkdir()
    os.mkfifo(tmp_path / "fifo" / "p")
    os.chmod(tmp_path / "fifo" / "p", 0o4644)  # never opened for reading: it would block
    os.chmod(tmp_path / "fifo", 0o2755)
    folder = os.open(tmp_path, os.O_RDONLY | os.O_DIRECTORY)
    try:
        assert not drop_set_id("link", folder) and not drop_set_id("fifo", folder)
    finally:
        os.close(folder)
    assert not drop_set_id(str(tmp_path / "fifo" / "p"))
    assert stat.S_IMODE(decoy.stat().st_mode) == 0o4755
    assert stat.S_IMODE((tmp_path / "fifo" / "p").lstat().st_mode) == 0o4644
    assert stat.S_IMODE((tmp_path / "fifo").lstat().st_mode) == 0o2755


def test_an_upload_renamed_into_a_local_datastore_loses_its_set_id_bits(tmp_path: Path) -> None:
    staging, root = tmp_path / "staging", tmp_path / "datastore"
    _plant(staging)
    _plant(staging, "sub/deep")
    (staging / "latest").symlink_to("suid")  # a link inside the output: copied, not renamed
    inode = (staging / "suid").stat().st_ino
    UploadStrategy(quiet=True).finalize(_target(root, "out"), staging)
    _check(root / "out")
    _check(root / "out", "sub/deep")
    assert (root / "out" / "suid").stat().st_ino == inode  # renamed, not copied
    assert stat.S_IMODE((root / "out" / "latest").stat().st_mode) == 0o755


def test_a_copy_from_another_filesystem_never_gets_set_id_bits(tmp_path: Path,
                                                               monkeypatch: pytest.MonkeyPatch) -> None:
    staging, root = tmp_path / "staging", tmp_path / "datastore"
    _plant(staging)
    real_replace = os.replace

    def cross_device(src: str, dst: str, **kwargs: int | None) -> None:
        if kwargs.get("src_dir_fd") is None:  # the rename of a staged file: as across filesystems
            raise OSError(errno.EXDEV, os.strerror(errno.EXDEV))
        real_replace(src, dst, **kwargs)

    monkeypatch.setattr(nofollow, "drop_set_id", lambda *_args, **_kw: False)  # the copy alone masks
    monkeypatch.setattr(os, "replace", cross_device)
    UploadStrategy(quiet=True).finalize(_target(root, "out"), staging)
    monkeypatch.undo()
    _check(root / "out")
    assert not (staging / "suid").exists()
    _plant(tmp_path / "src")
    with NoFollowFolders(root) as tree:
        tree.copy_in(tmp_path / "src" / "both", "copied/both")
    assert stat.S_IMODE((root / "copied" / "both").stat().st_mode) == 0o711


def test_a_file_whose_bits_cannot_be_cleared_is_not_moved_and_stays_staged(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """As a runner that is not root finds a file of the container's root: chmod is not permitted."""
    staging, root = tmp_path / "staging", tmp_path / "datastore"
    _plant(staging)
    real_chmod = os.chmod

    def refused(path: str, mode: int, **kwargs: object) -> None:
        if str(path).startswith("/proc/self/fd/"):
            raise PermissionError(errno.EPERM, os.strerror(errno.EPERM))
        real_chmod(path, mode)

    monkeypatch.setattr(os, "chmod", refused)
    with pytest.raises(TransferFailed) as info:
        UploadStrategy(quiet=True).finalize(_target(root, "out"), staging)
    monkeypatch.undo()
    assert sorted(info.value.failed) == ["both", "sgid", "suid"]
    assert "set-user-ID or set-group-ID bit could not be cleared" in str(info.value)
    assert not (root / "out" / "suid").exists() and (root / "out" / "plain").exists()
    assert stat.S_IMODE((staging / "suid").stat().st_mode) == 0o4755  # kept staged, as it was


def test_a_direct_output_is_cleared_when_its_job_ends_without_following_a_link(
        tmp_path: Path, decoy: Path, caplog: pytest.LogCaptureFixture) -> None:
    root = tmp_path / "datastore"
    target = _target(root, "out")
    with DirectOutputStrategy().materialize(target, tmp_path / "work") as done:
        assert done.host_path == root / "out"
        _plant(root / "out")
        _plant(root / "out", "a/b/c")
        (root / "out" / "link").symlink_to(decoy)
        (root / "out" / "a" / "folder-link").symlink_to(decoy.parent)
        os.mkfifo(root / "out" / "fifo")
        os.chmod(root / "out" / "fifo", 0o4600)
        (root / "beside").mkdir()
        (root / "beside" / "suid").write_bytes(b"not the output")
        os.chmod(root / "beside" / "suid", 0o4755)
    _check(root / "out")
    _check(root / "out", "a/b/c")
    assert stat.S_IMODE(decoy.stat().st_mode) == 0o4755
    assert stat.S_IMODE((root / "out" / "fifo").lstat().st_mode) == 0o4600
    assert stat.S_IMODE((root / "beside" / "suid").stat().st_mode) == 0o4755  # not the job's
    assert "the job made 6 set-user-ID or set-group-ID file(s)" in caplog.text


def test_a_direct_output_is_cleared_also_when_finalizing_is_skipped(tmp_path: Path) -> None:
    root = tmp_path / "datastore"
    with pytest.raises(SkipFinalize), DirectOutputStrategy().materialize(_target(root, "out"), tmp_path):
        _plant(root / "out")
        raise SkipFinalize()
    _check(root / "out")


def test_a_direct_file_output_and_a_deep_folder(tmp_path: Path) -> None:
    root = tmp_path / "datastore"
    _plant(root, "f")  # a file output's folder is bound: the job could write all of it
    cleared = drop_set_id_in(_target(root, "f/suid", is_file=True))
    assert sorted(cleared) == [str(root / "f" / name) for name in ("both", "sgid", "suid")]
    assert drop_set_id_in(_target(root, "missing/x", is_file=True)) == []
    assert drop_set_id_in(_target(root, "missing")) == []
    deep = "/".join(["d"] * 300)  # more folders than are ever open at once (two)
    _plant(root, f"deep/{deep}")
    cleared = drop_set_id_in(_target(root, "deep"))
    assert sorted(cleared) == [str(root / "deep" / deep / name) for name in ("both", "sgid", "suid")]
    _check(root, f"deep/{deep}")


def test_a_direct_output_whose_path_became_a_link_is_not_walked_through_it(
        tmp_path: Path, decoy: Path, caplog: pytest.LogCaptureFixture) -> None:
    """The folder given to the job was moved and a link put in its place (by a job with a ``direct``
    output above it): the link is not followed, one warning (a pinned folder is cleared by its pin)."""
    root = tmp_path / "datastore"
    with DirectOutputStrategy().materialize(_target(root, "shared/out"), tmp_path / "work"):
        os.rename(root / "shared", root / "moved")
        (root / "shared").symlink_to(decoy.parent)
        (decoy.parent / "out").mkdir()
        (decoy.parent / "out" / "suid").write_bytes(b"decoy")
        os.chmod(decoy.parent / "out" / "suid", 0o4755)
    assert stat.S_IMODE((decoy.parent / "out" / "suid").stat().st_mode) == 0o4755
    assert "were not checked for set-user-ID bits by path" in caplog.text
