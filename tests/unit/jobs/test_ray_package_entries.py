"""A Ray job's package (``ray_package.job_package``: its code snapshot and its environment's build
context) takes folders, regular files the runner can read and links to regular files; a FIFO, a socket, a
device or an unreadable file anywhere in either is one ``SpecError`` naming the folder and the entries
(field ``code`` or ``environment``), and a FIFO is never opened (a read of one blocks until a writer
comes). A link in the snapshot that leads to a FIFO is refused the same way, when it is met.

Everything is made in this test's ``tmp_path``; the timeout only turns a blocked open into a failure."""

from __future__ import annotations

import os
import socket
from pathlib import Path

import pytest

from runner.errors import SpecError
from runner.jobs.ray_package import job_package

pytestmark = pytest.mark.timeout(60)  # a FIFO opened would block: fail instead of hanging


def _socket(folder: Path, name: str, monkeypatch: pytest.MonkeyPatch) -> None:
    with monkeypatch.context() as patch:
        patch.chdir(folder)
        with socket.socket(socket.AF_UNIX) as sock:
            sock.bind(name)


def _tree(folder: Path) -> Path:
    (folder / "sub").mkdir(parents=True)
    (folder / "train.py").write_text("print(1)\n")
    (folder / "Dockerfile").write_text("FROM scratch\n")
    return folder


def _packages(tmp_path: Path) -> list[Path]:
    return sorted((tmp_path / "out").glob("*.zip"))


@pytest.mark.parametrize("where", ["code", "build"])
def test_a_fifo_or_socket_is_one_error_naming_the_entries(tmp_path: Path, where: str,
                                                          monkeypatch: pytest.MonkeyPatch) -> None:
    folder = _tree(tmp_path / where)
    os.mkfifo(folder / "sub" / "pipe")
    _socket(folder, "sock", monkeypatch)
    (tmp_path / "out").mkdir()
    with pytest.raises(SpecError) as caught:
        job_package(tmp_path / "out", {"secret": "s"},
                    code=folder if where == "code" else _tree(tmp_path / "c"),
                    build=folder if where == "build" else None)
    err = caught.value
    assert err.field == ("code" if where == "code" else "environment")
    assert err.message == (f"the folder '{folder}' holds 2 entries a Ray job's package cannot take: "
                           "'sock' (a socket), 'sub/pipe' (a FIFO)")
    assert err.hint is not None and "remove these entries or move them out of the folder" in err.hint
    assert _packages(tmp_path) == []  # nothing left behind (it would hold the payload's credentials)


def test_an_unreadable_file_is_refused(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    code = _tree(tmp_path / "code")
    (code / "sub" / "secret.txt").write_text("x")
    unreadable = str(code / "sub" / "secret.txt")  # the tests run as root: pretend, as the kernel would say
    real_access = os.access
    monkeypatch.setattr(os, "access", lambda path, mode, **kw: os.fspath(path) != unreadable
                        and real_access(path, mode, **kw))
    (tmp_path / "out").mkdir()
    with pytest.raises(SpecError) as caught:
        job_package(tmp_path / "out", {}, code=code, build=None)
    assert caught.value.message == (f"the folder '{code}' holds an entry a Ray job's package cannot take: "
                                    "'sub/secret.txt' (not readable)")
    assert _packages(tmp_path) == []


def test_a_link_to_a_fifo_is_refused_without_opening_it(tmp_path: Path) -> None:
    code = _tree(tmp_path / "code")
    os.mkfifo(tmp_path / "pipe")  # outside the snapshot: the link leads there (a snapshot keeps links)
    (code / "sub" / "to_pipe").symlink_to(tmp_path / "pipe")
    (tmp_path / "out").mkdir()
    with pytest.raises(SpecError) as caught:
        job_package(tmp_path / "out", {}, code=code, build=None)
    assert caught.value.field == "code"
    assert caught.value.message == (f"the folder '{code}' holds an entry a Ray job's package cannot take: "
                                    "'sub/to_pipe' (a link to a FIFO)")
    assert _packages(tmp_path) == []


def test_regular_files_and_links_to_them_are_packaged(tmp_path: Path) -> None:
    import zipfile

    code = _tree(tmp_path / "code")
    (code / "sub" / "alias.py").symlink_to(code / "train.py")
    (code / "dangling").symlink_to(tmp_path / "nothing-here")
    (tmp_path / "out").mkdir()
    _name, top, path = job_package(tmp_path / "out", {}, code=code, build=_tree(tmp_path / "build"))
    with zipfile.ZipFile(path) as archive:
        names = set(archive.namelist())
        assert archive.read(f"{top}/code/sub/alias.py") == b"print(1)\n"
    assert {f"{top}/code/train.py", f"{top}/build/Dockerfile", f"{top}/code/sub/alias.py"} <= names
    assert f"{top}/code/dangling" not in names
