"""Moving an output into a local target never follows a link in the destination path.

A job with a ``direct`` output on a local datastore can make links there (now, or in an earlier job);
an ``upload`` or local ``rw_mount`` output of the same datastore is then moved into place at finalize.
Every folder from the anchor (the datastore's root, resolved by the runner) down to each file is opened
without following links: a link on the way fails that file (its staged copy is kept), a link in the
final name is replaced as a name. Every link here points at a decoy the test made under ``tmp_path``,
and every test checks that the decoy is unchanged.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest
from fsspec.implementations.local import LocalFileSystem

from mounts.base import Target
from mounts.direct import DirectOutputStrategy
from mounts.errors import MountsError, TransferFailed
from mounts.rw_mount import RwMountStrategy
from mounts.upload import UploadStrategy

REFUSED = "is a symbolic link (a job may have made it): not followed"
DECOY = {"MLmodel": b"registered\n", "weights/w.bin": b"\x00weights"}


def _tree(folder: Path) -> dict[str, object]:
    """Every entry under ``folder``, links as links (never followed): what a decoy must keep."""
    found: dict[str, object] = {}
    for dirpath, dirs, names in os.walk(folder):
        for name in dirs + names:
            path = Path(dirpath) / name
            rel = path.relative_to(folder).as_posix()
            if path.is_symlink():
                found[rel] = f"-> {os.readlink(path)}"
            elif path.is_dir():
                found[rel] = "folder"
            else:
                found[rel] = path.read_bytes()
    return found


def _write(folder: Path, files: dict[str, bytes]) -> None:
    for rel, data in files.items():
        (folder / rel).parent.mkdir(parents=True, exist_ok=True)
        (folder / rel).write_bytes(data)


@pytest.fixture
def decoy(tmp_path: Path) -> Iterator[Path]:
    """A folder standing for a registered model's files: must be byte-identical afterwards."""
    folder = tmp_path / "decoy"
    _write(folder, DECOY)
    before = _tree(folder)
    yield folder
    assert _tree(folder) == before


@pytest.fixture
def root(tmp_path: Path) -> Path:
    """The local datastore's root."""
    folder = tmp_path / "datastore"
    folder.mkdir()
    return folder


@pytest.fixture
def staging(tmp_path: Path) -> Path:
    folder = tmp_path / "staging"
    _write(folder, {"MLmodel": b"PWNED\n", "sub/deep/f.txt": b"deep"})
    return folder


def _target(root: Path, rel: str, *, is_file: bool = False, anchored: bool = True) -> Target:
    """A target on the datastore at ``root`` (``anchored``: the runner resolved that root)."""
    dest = root / rel
    return Target(fs=LocalFileSystem(), path=str(dest), url=f"file://{dest}", is_file=is_file,
                  local_path=dest, local_root=root if anchored else None)


@pytest.mark.parametrize(("link", "output"), [
    ("scratch/evil", "scratch/evil"),  # the output's own folder is the link
    ("scratch/evil", "scratch/evil/a/b"),  # a folder above the output's folder
])
def test_a_link_on_the_way_to_the_output_fails_it_and_keeps_the_staged_data(
        root: Path, decoy: Path, staging: Path, link: str, output: str) -> None:
    (root / link).parent.mkdir(parents=True)
    (root / link).symlink_to(decoy)
    with pytest.raises(TransferFailed) as info:
        UploadStrategy(quiet=True).finalize(_target(root, output), staging)
    assert f"{root / link} {REFUSED}" in str(info.value)
    assert f"the staged copy is kept at {staging / 'MLmodel'}" in str(info.value)
    assert sorted(info.value.failed) == ["MLmodel", "sub/deep/f.txt"]
    assert info.value.staged == staging
    assert info.value.hint is not None and "remove it" in info.value.hint
    assert _tree(staging) == {"MLmodel": b"PWNED\n", "sub": "folder", "sub/deep": "folder",
                              "sub/deep/f.txt": b"deep"}
    assert (root / link).is_symlink()


def test_without_a_datastore_root_the_folder_above_the_output_is_the_anchor(
        root: Path, decoy: Path, staging: Path) -> None:
    """A host path that is in no datastore: the output's own folder (and what is below) is not followed."""
    (root / "scratch").mkdir()
    (root / "scratch" / "evil").symlink_to(decoy)
    with pytest.raises(TransferFailed) as info:
        UploadStrategy(quiet=True).finalize(_target(root, "scratch/evil", anchored=False), staging)
    assert f"{root / 'scratch' / 'evil'} {REFUSED}" in str(info.value)
    UploadStrategy(quiet=True).finalize(_target(root, "scratch/fine/out", anchored=False), staging)
    assert (root / "scratch" / "fine" / "out" / "sub" / "deep" / "f.txt").read_bytes() == b"deep"


def test_a_link_inside_the_output_fails_only_the_files_below_it(root: Path, decoy: Path,
                                                                 staging: Path) -> None:
    (root / "out").mkdir()
    (root / "out" / "sub").symlink_to(decoy)
    with pytest.raises(TransferFailed) as info:
        UploadStrategy(quiet=True).finalize(_target(root, "out"), staging)
    assert info.value.failed == ["sub/deep/f.txt"]
    assert f"{root / 'out' / 'sub'} {REFUSED}" in str(info.value)
    assert (root / "out" / "MLmodel").read_bytes() == b"PWNED\n"  # what could go, went
    assert (staging / "sub" / "deep" / "f.txt").read_bytes() == b"deep"


def test_a_final_name_that_is_a_link_is_replaced_not_written_through(root: Path, decoy: Path,
                                                                     staging: Path) -> None:
    (staging / "latest").symlink_to("MLmodel")  # a link inside the output: copied as a file
    out = root / "out"
    out.mkdir()
    (out / "MLmodel").symlink_to(decoy / "MLmodel")
    (out / "latest").symlink_to(decoy / "MLmodel")
    UploadStrategy(quiet=True).finalize(_target(root, "out"), staging)
    for name in ("MLmodel", "latest"):
        assert not (out / name).is_symlink() and (out / name).read_bytes() == b"PWNED\n"


def test_a_file_output_whose_name_is_a_link_is_replaced(root: Path, decoy: Path, tmp_path: Path) -> None:
    staged = tmp_path / "one"
    _write(staged, {"model.bin": b"new"})
    (root / "m").mkdir()
    (root / "m" / "model.bin").symlink_to(decoy / "MLmodel")
    UploadStrategy(quiet=True).finalize(_target(root, "m/model.bin", is_file=True), staged)
    assert not (root / "m" / "model.bin").is_symlink()
    assert (root / "m" / "model.bin").read_bytes() == b"new"


@pytest.mark.parametrize("strategy", ["upload", "rw_mount"])
def test_a_link_planted_while_the_job_runs_is_not_followed(root: Path, decoy: Path, tmp_path: Path,
                                                           strategy: str) -> None:
    target = _target(root, "scratch/evil")
    maker = UploadStrategy(quiet=True) if strategy == "upload" else RwMountStrategy()
    with pytest.raises(TransferFailed) as info, \
            maker.materialize(target, tmp_path / "job") as done:
        assert done.host_path is not None
        (done.host_path / "MLmodel").write_bytes(b"PWNED\n")
        (root / "scratch").mkdir()
        (root / "scratch" / "evil").symlink_to(decoy)  # as a direct output of the same job would
    assert REFUSED in str(info.value)
    assert info.value.staged is not None and (info.value.staged / "MLmodel").read_bytes() == b"PWNED\n"


def test_empty_folders_are_not_made_through_a_link(root: Path, decoy: Path, tmp_path: Path) -> None:
    staged = tmp_path / "with-empty"
    _write(staged, {"f.txt": b"f"})
    (staged / "a" / "empty").mkdir(parents=True)
    (root / "out").mkdir()
    (root / "out" / "a").symlink_to(decoy)
    with pytest.raises(TransferFailed) as info:
        UploadStrategy(quiet=True).finalize(_target(root, "out"), staged)
    assert f"{root / 'out' / 'a'} {REFUSED}" in str(info.value)
    assert (staged / "a" / "empty").is_dir()


@pytest.fixture
def other_filesystem(tmp_path: Path) -> Iterator[Path]:
    """A staging folder on another filesystem than ``tmp_path`` (tmpfs), so the move is a copy."""
    if not os.path.isdir("/dev/shm") or os.stat("/dev/shm").st_dev == os.stat(tmp_path).st_dev:
        pytest.skip("no second filesystem (/dev/shm) to stage on")
    folder = Path(tempfile.mkdtemp(prefix="runner-test-", dir="/dev/shm"))
    yield folder
    shutil.rmtree(folder, ignore_errors=True)


def test_a_copy_from_another_filesystem_does_not_follow_links(root: Path, decoy: Path,
                                                              other_filesystem: Path) -> None:
    _write(other_filesystem, {"MLmodel": b"PWNED\n", "keep/f.txt": b"f"})
    (other_filesystem / "latest").symlink_to("MLmodel")
    out = root / "out"
    out.mkdir()
    (out / "MLmodel").symlink_to(decoy / "MLmodel")
    (out / "keep").symlink_to(decoy)
    with pytest.raises(TransferFailed) as info:
        UploadStrategy(quiet=True).finalize(_target(root, "out"), other_filesystem)
    assert info.value.failed == ["keep/f.txt"]
    assert not (out / "MLmodel").is_symlink() and (out / "MLmodel").read_bytes() == b"PWNED\n"
    assert (out / "latest").read_bytes() == b"PWNED\n"
    assert sorted(os.listdir(out)) == ["MLmodel", "keep", "latest"]  # no temporary copy left
    assert (other_filesystem / "keep" / "f.txt").read_bytes() == b"f"


def test_a_direct_output_through_a_link_is_refused(root: Path, decoy: Path, tmp_path: Path) -> None:
    (root / "scratch").mkdir()
    (root / "scratch" / "evil").symlink_to(decoy)
    for rel in ("scratch/evil", "scratch/evil/new"):
        with pytest.raises(MountsError) as info, \
                DirectOutputStrategy().materialize(_target(root, rel), tmp_path / "job"):
            pass
        assert f"{root / 'scratch' / 'evil'} {REFUSED}" in str(info.value)


def test_a_direct_output_makes_its_folders(root: Path, tmp_path: Path) -> None:
    with DirectOutputStrategy().materialize(_target(root, "a/b/c"), tmp_path / "job") as done:
        assert done.host_path == root / "a" / "b" / "c" and done.host_path.is_dir()
    with DirectOutputStrategy().materialize(_target(root, "a/b/f.txt", is_file=True), tmp_path / "job"):
        pass


def test_links_above_the_anchor_are_the_users_and_are_followed(tmp_path: Path, staging: Path) -> None:
    """A datastore whose root is reached through a link the user made: the root itself is trusted."""
    real = tmp_path / "real-store"
    real.mkdir()
    (tmp_path / "store").symlink_to(real)
    UploadStrategy(quiet=True).finalize(_target(tmp_path / "store", "a/out"), staging)
    assert (real / "a" / "out" / "MLmodel").read_bytes() == b"PWNED\n"


def _open_folders() -> list[str]:
    """What this process's descriptors point to."""
    found = []
    for fd in os.listdir("/proc/self/fd"):
        with contextlib.suppress(OSError):  # closed since the listing
            found.append(os.readlink(f"/proc/self/fd/{fd}"))
    return found


def test_many_folders_are_moved_and_every_folder_descriptor_is_closed(root: Path, tmp_path: Path) -> None:
    staged = tmp_path / "many"
    files = {f"d{i % 40:02d}/s{i % 7}/f{i:04d}.txt": str(i).encode() for i in range(1200)}
    _write(staged, files)
    (staged / "d00" / "empty").mkdir()
    (root / "out" / "d01").mkdir(parents=True)  # an existing real folder is used as it is
    (root / "out" / "d01" / "old.txt").write_bytes(b"old")
    UploadStrategy(quiet=True).finalize(_target(root, "out"), staged)
    assert [fd for fd in _open_folders() if fd.startswith(str(root))] == []
    moved = {p.relative_to(root / "out").as_posix(): p.read_bytes()
             for p in (root / "out").rglob("*") if p.is_file()}
    assert moved == {**files, "d01/old.txt": b"old"}
    assert (root / "out" / "d00" / "empty").is_dir()
    assert list(staged.iterdir()) == []
