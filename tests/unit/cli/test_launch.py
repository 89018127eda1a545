"""The fork server's client (``runner.launch``): which server a command may use."""

from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path

import pytest

from runner.launch import code_fingerprint, server_paths


def _tree(root: Path) -> Path:
    for package in ("runner", "mounts"):
        (root / package).mkdir(parents=True)
        (root / package / "__init__.py").write_text("x = 1\n")
    return root


def test_fingerprint_follows_the_code(tmp_path: Path) -> None:
    root = _tree(tmp_path)
    before = code_fingerprint(str(root))
    assert code_fingerprint(str(root)) == before
    (root / "mounts" / "__init__.py").write_text("x = 2\n")  # edited: a server with old code is not asked
    assert code_fingerprint(str(root)) != before
    after_edit = code_fingerprint(str(root))
    (root / "runner" / "new.py").write_text("")
    with_new_file = code_fingerprint(str(root))
    assert with_new_file != after_edit
    cache = root / "runner" / "__pycache__"
    cache.mkdir()
    (cache / "new.cpython-311.pyc").write_bytes(b"")  # compiled files do not count
    assert code_fingerprint(str(root)) == with_new_file


def test_socket_lives_in_a_private_directory(monkeypatch: pytest.MonkeyPatch) -> None:
    runtime = Path(tempfile.mkdtemp(prefix="rfs-", dir="/tmp"))  # short: a socket's path is <= 107 bytes
    monkeypatch.setenv("XDG_RUNTIME_DIR", str(runtime))
    paths = server_paths()
    assert paths is not None
    folder = Path(paths.directory)
    assert folder.parent == runtime and os.stat(folder).st_mode & 0o777 == 0o700
    assert Path(paths.socket).parent == folder and Path(paths.lock).parent == folder
    os.chmod(folder, 0o755)  # open to others: not trusted with a socket, so no server is used
    assert server_paths() is None
    shutil.rmtree(runtime)


def test_no_server_where_the_socket_path_would_be_too_long(tmp_path: Path,
                                                          monkeypatch: pytest.MonkeyPatch) -> None:
    deep = tmp_path / ("d" * 90)
    deep.mkdir()
    monkeypatch.setenv("XDG_RUNTIME_DIR", str(deep))
    assert server_paths() is None  # commands then run in their own process
