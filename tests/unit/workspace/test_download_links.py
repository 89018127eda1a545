"""``job download`` / ``model download`` of a folder on a local datastore (where a ``direct`` output's
job wrote whatever it liked) never follows a link: it is skipped with a warning, so a host file a link
names never reaches the downloaded copy.

Hostile set-ups only inside ``tmp_path``; every link points at a decoy the test made there.
"""

from __future__ import annotations

import logging
import os
from pathlib import Path

import pytest
from fsspec.implementations.local import LocalFileSystem
from jobs_support import tree_without_links

from runner.errors import StorageError
from runner.workspace.transfers import fetch


def _decoy(tmp_path: Path) -> Path:
    decoy = tmp_path / "decoy"
    (decoy / "nested").mkdir(parents=True)
    (decoy / "secret.txt").write_text("DECOY SECRET\n")
    (decoy / "nested" / "key.txt").write_text("DECOY KEY\n")
    return decoy




def _output(tmp_path: Path, decoy: Path) -> tuple[Path, list[Path]]:
    """An output folder on a local datastore as a hostile ``direct`` job could leave it."""
    out = tmp_path / "datastore" / "azureml" / "j1" / "d"
    (out / "sub").mkdir(parents=True)
    (out / "fine.txt").write_text("fine\n")
    (out / "sub" / "inner.txt").write_text("inner\n")
    links = [out / "report.txt", out / "sub" / "key", out / "latest"]
    for link, target in zip(links, [decoy / "secret.txt", decoy / "nested" / "key.txt", Path("fine.txt")],
                            strict=True):
        link.symlink_to(target)
    return out, links


def test_links_in_a_downloaded_folder_are_skipped_with_one_warning_each(
        tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    decoy = _decoy(tmp_path)
    before = tree_without_links(decoy)
    out, links = _output(tmp_path, decoy)
    target = tmp_path / "dl" / "named-outputs" / "d"
    with caplog.at_level(logging.WARNING):
        assert fetch(LocalFileSystem(), str(out), target, is_file=False) == target
    assert tree_without_links(target) == {"fine.txt": b"fine\n", "sub/inner.txt": b"inner\n"}
    for link in links:
        assert len([r for r in caplog.records if str(link) in r.getMessage()]) == 1, link
    assert tree_without_links(decoy) == before


def test_a_link_to_a_folder_is_skipped_not_followed(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    decoy = _decoy(tmp_path)
    out = tmp_path / "datastore" / "out"
    out.mkdir(parents=True)
    (out / "fine.txt").write_text("fine\n")
    (out / "data").symlink_to(decoy)
    with caplog.at_level(logging.WARNING):
        fetch(LocalFileSystem(), str(out), tmp_path / "dl", is_file=False)
    assert tree_without_links(tmp_path / "dl") == {"fine.txt": b"fine\n"}
    assert len([r for r in caplog.records if str(out / "data") in r.getMessage()]) == 1


def test_a_download_into_a_folder_that_has_files_overwrites_them(tmp_path: Path) -> None:
    out = tmp_path / "datastore" / "out"
    out.mkdir(parents=True)
    (out / "a.txt").write_text("new")
    target = tmp_path / "dl"
    target.mkdir()
    (target / "a.txt").write_text("old")
    fetch(LocalFileSystem(), str(out), target, is_file=False)
    assert (target / "a.txt").read_text() == "new"


def test_a_downloaded_file_that_is_a_link_is_refused(tmp_path: Path) -> None:
    decoy = _decoy(tmp_path)
    before = tree_without_links(decoy)
    out = tmp_path / "datastore" / "azureml" / "j1" / "report"
    out.mkdir(parents=True)
    (out / "report.txt").symlink_to(decoy / "secret.txt")
    target = tmp_path / "dl" / "report.txt"
    with pytest.raises(StorageError, match="symbolic link"):
        fetch(LocalFileSystem(), str(out / "report.txt"), target, is_file=True)
    assert not target.exists() and tree_without_links(decoy) == before


def test_a_downloaded_folder_that_is_a_link_is_refused(tmp_path: Path) -> None:
    decoy = _decoy(tmp_path)
    out = tmp_path / "datastore" / "azureml" / "j1" / "d"
    out.parent.mkdir(parents=True)
    out.symlink_to(decoy)
    target = tmp_path / "dl" / "d"
    with pytest.raises(StorageError, match="symbolic link"):
        fetch(LocalFileSystem(), str(out), target, is_file=False)
    assert "DECOY" not in str(tree_without_links(tmp_path / "dl"))


def test_a_regular_file_is_downloaded_under_the_name_asked(tmp_path: Path) -> None:
    source = tmp_path / "datastore" / "model.pkl"
    source.parent.mkdir()
    source.write_bytes(b"\x00model")
    target = tmp_path / "dl" / "m" / "model.pkl"
    assert fetch(LocalFileSystem(), str(source), target, is_file=True) == target
    assert target.read_bytes() == b"\x00model"


def test_a_fifo_in_a_downloaded_folder_is_still_refused(tmp_path: Path) -> None:
    out = tmp_path / "datastore" / "out"
    out.mkdir(parents=True)
    os.mkfifo(out / "pipe")
    with pytest.raises(StorageError, match="not a regular file"):
        fetch(LocalFileSystem(), str(out), tmp_path / "dl", is_file=False)


def test_a_downloaded_file_that_is_a_fifo_is_refused_not_opened(tmp_path: Path) -> None:
    source = tmp_path / "datastore" / "report.txt"
    source.parent.mkdir()
    os.mkfifo(source)
    with pytest.raises(StorageError, match="not a regular file"):
        fetch(LocalFileSystem(), str(source), tmp_path / "dl" / "report.txt", is_file=True)


def test_the_ui_zip_of_an_output_holds_no_linked_file(tmp_path: Path) -> None:
    pytest.importorskip("starlette")
    import asyncio
    import shutil
    import zipfile

    from runner.ui import files

    decoy = _decoy(tmp_path)
    out, _links = _output(tmp_path, decoy)

    def copy(into: Path) -> Path:  # what the route's copy does: the job download into a scratch folder
        return fetch(LocalFileSystem(), str(out), into / "named-outputs" / "d", is_file=False)

    response = asyncio.run(files.download(copy, "j1-d"))
    archive = Path(response.path)
    try:
        with zipfile.ZipFile(archive) as opened:
            assert sorted(opened.namelist()) == ["fine.txt", "sub/inner.txt"]
            assert not any(b"DECOY" in opened.read(name) for name in opened.namelist())
    finally:
        shutil.rmtree(archive.parent)


def test_a_download_and_the_ui_zip_never_keep_a_set_id_bit(tmp_path: Path) -> None:
    """A set-user-ID root file a job left on a local datastore: its copies keep the other bits only."""
    pytest.importorskip("starlette")
    import asyncio
    import shutil
    import stat
    import zipfile

    from runner.ui import files

    out = tmp_path / "datastore" / "out"
    (out / "sub").mkdir(parents=True)
    for rel, mode in {"suid": 0o4755, "sub/sgid": 0o2750, "sub/both": 0o6711}.items():
        (out / rel).write_text(rel)
        os.chmod(out / rel, mode)
    wanted = {"suid": 0o755, "sub/sgid": 0o750, "sub/both": 0o711}
    fetch(LocalFileSystem(), str(out), tmp_path / "dl", is_file=False)
    fetch(LocalFileSystem(), str(out / "suid"), tmp_path / "one" / "suid", is_file=True)
    assert {rel: stat.S_IMODE((tmp_path / "dl" / rel).stat().st_mode) for rel in wanted} == wanted
    assert stat.S_IMODE((tmp_path / "one" / "suid").stat().st_mode) == 0o755
    response = asyncio.run(files.download(
        lambda into: fetch(LocalFileSystem(), str(out), into / "d", is_file=False), "j1-d"))
    archive = Path(response.path)
    try:
        with zipfile.ZipFile(archive) as opened:
            assert {i.filename: stat.S_IMODE(i.external_attr >> 16) for i in opened.infolist()} == wanted
    finally:
        shutil.rmtree(archive.parent)


def test_a_folder_deeper_than_the_copy_goes_fails_the_download_clearly(tmp_path: Path) -> None:
    """A job's output nested deeper than ``MAX_DEPTH`` is not downloaded in part with a warning: the
    download fails saying where and how deep (the data stays in the datastore)."""
    from runner.workspace.nofollow import MAX_DEPTH
    out = tmp_path / "datastore" / "azureml" / "j1" / "d"
    deep = out.joinpath(*["a"] * (MAX_DEPTH + 3))
    deep.mkdir(parents=True)
    (deep / "bottom.txt").write_text("bottom\n")
    (out / "top.txt").write_text("top\n")
    with pytest.raises(StorageError) as info:
        fetch(LocalFileSystem(), str(out), tmp_path / "dl", is_file=False)
    too_deep = out.joinpath(*["a"] * (MAX_DEPTH + 1))
    assert f"'{too_deep}' is more than {MAX_DEPTH} folders deep" in info.value.message
    assert info.value.hint is not None and "cp -r" in info.value.hint
    assert (deep / "bottom.txt").read_text() == "bottom\n"
