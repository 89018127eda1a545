"""The decisions of ``mounts.pin`` that need no mount: where pins may live, whose pins are stale, that
nothing there deletes recursively, and binding by path where the runner cannot mount."""

from __future__ import annotations

import ast
import logging
import os
from pathlib import Path

import pytest
from repo_paths import REPO

import mounts.pin as pin
from mounts.base import Target
from mounts.pin import PIN_ROOT, PinSet, check_pin_root


def test_pins_never_live_in_a_temporary_folder(tmp_path: Path) -> None:
    """Throwaway workspaces and tests' folders are deleted recursively: no pin may be under one."""
    for root in (tmp_path / "pins", Path("/tmp/pins"), Path("/var/tmp/x")):
        with pytest.raises(ValueError, match="temporary folder"):
            check_pin_root(root)
        with pytest.raises(ValueError):
            PinSet("j", root=root)
    check_pin_root(PIN_ROOT)  # /run/runner/pins: outside every workspace, job folder and temp folder


def test_nothing_in_the_pin_module_deletes_recursively() -> None:
    """A pin of an output is a read-write view of the job's data: only ``os.rmdir`` and ``os.unlink``
    (which never recurse) remove anything there."""
    tree = ast.parse((REPO / "mounts" / "pin.py").read_text())
    calls = {ast.unparse(node.func) for node in ast.walk(tree) if isinstance(node, ast.Call)}
    assert not {c for c in calls if "rmtree" in c or "removedirs" in c or c.endswith(".rmdir")
                and c != "os.rmdir"}
    assert "shutil" not in {n.names[0].name for n in ast.walk(tree) if isinstance(n, ast.Import)}


def test_no_code_deletes_recursively_under_the_pin_root() -> None:
    """No module names the pin root next to a recursive delete: the pin folders are reached only by
    ``mounts.pin`` itself."""
    users = [p for p in sorted((REPO / "runner").rglob("*.py")) + sorted((REPO / "mounts").rglob("*.py"))
             if "PIN_ROOT" in p.read_text() or "/run/runner" in p.read_text()]
    assert [p.relative_to(REPO).as_posix() for p in users] == ["mounts/pin.py"]


def test_without_root_folders_are_bound_by_path(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                caplog: pytest.LogCaptureFixture) -> None:
    store = tmp_path / "ds"
    (store / "in").mkdir(parents=True)
    monkeypatch.setattr(os, "geteuid", lambda: 1000)
    caplog.set_level(logging.DEBUG, logger="mounts.pin")
    with PinSet("j") as pins:
        assert pins.pin_input(store / "in", within=store) == store / "in"
        target = Target(fs=None, path=str(store / "out"), url="", local_path=store / "out",  # type: ignore[arg-type]
                        local_root=store)
        assert pins.pin_output(target) == store / "out"
        assert not pins.folder.exists()
    assert "bound by path, not pinned" in caplog.text


def test_where_mount_is_not_permitted_folders_are_bound_by_path(tmp_path: Path,
                                                                monkeypatch: pytest.MonkeyPatch) -> None:
    store = tmp_path / "ds"
    (store / "in").mkdir(parents=True)

    def refused(source: str | None, target: str, flags: int) -> None:
        raise PermissionError(1, "Operation not permitted", target)

    monkeypatch.setattr(pin, "_mount", refused)
    monkeypatch.setattr(os, "geteuid", lambda: 0)
    with PinSet("no-cap") as pins:
        assert pins.pin_input(store / "in", within=store) == store / "in"
        assert not pins.enabled
    assert not pins.folder.exists()  # its empty mountpoint and folder were removed


def test_only_the_pins_of_runners_that_are_gone_are_swept(monkeypatch: pytest.MonkeyPatch) -> None:
    alive = f"{os.getpid()}-{pin._start_time(os.getpid())}-me"
    listing = [alive, "999999999-123-gone", f"{os.getpid()}-1-pid-reused", "not-a-pin"]
    released: list[str] = []
    monkeypatch.setattr(os, "geteuid", lambda: 0)
    monkeypatch.setattr(os, "listdir", lambda p: listing if Path(p) == Path("/nowhere") else [])
    monkeypatch.setattr(Path, "is_dir", lambda self: True)
    monkeypatch.setattr(Path, "is_symlink", lambda self: False)
    monkeypatch.setattr(os, "rmdir", lambda p: released.append(str(p)))
    swept = pin.sweep_stale_pins(Path("/nowhere"))
    assert sorted(swept) == sorted(f"/nowhere/{name}" for name in listing[1:])
    assert released == swept  # the folders only (``os.rmdir``): alive's pins are left alone
