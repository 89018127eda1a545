"""A job's secret ``environment_variables`` values (``runner.workspace.job_secrets``): one owner-only file
per job in the workspace's secrets folder, never in the job's folder, taken (read and removed) by the
run; nothing written when there are none; a link planted at the file's place, or as the secrets folder,
is never followed: the file is not written (one error), read or removed through it."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest

from runner.errors import StorageError
from runner.workspace.db import Workspace
from runner.workspace.job_secrets import forget, keep, kept_file, take


def test_kept_owner_only_in_the_secrets_folder_and_taken_once(tmp_path: Path) -> None:
    ws = Workspace(tmp_path / "ws")
    keep(ws, "j1", {"CONN": "AccountKey=abc", "HF_TOKEN": "t"})
    path = kept_file(ws, "j1")
    assert path.parent == ws.secrets_dir and not path.is_relative_to(ws.job_dir("j1").root)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert take(ws, "j1") == {"CONN": "AccountKey=abc", "HF_TOKEN": "t"}
    assert not path.exists() and take(ws, "j1") == {}  # taken: gone


def test_nothing_is_written_for_a_job_without_secrets(tmp_path: Path) -> None:
    ws = Workspace(tmp_path / "ws")
    keep(ws, "j1", {})
    assert list(ws.secrets_dir.iterdir()) == []
    forget(ws, "j1")  # nothing there: nothing done


def test_forget_removes_it(tmp_path: Path) -> None:
    ws = Workspace(tmp_path / "ws")
    keep(ws, "j1", {"A_KEY": "v"})
    forget(ws, "j1")
    assert not kept_file(ws, "j1").exists()


def test_a_planted_link_is_not_followed(tmp_path: Path) -> None:
    ws = Workspace(tmp_path / "ws")
    outside = tmp_path / "outside.json"
    outside.write_text('{"A_KEY": "planted"}')
    os.symlink(outside, kept_file(ws, "j1"))
    assert take(ws, "j1") == {}  # not read through the link
    assert outside.read_text() == '{"A_KEY": "planted"}'
    os.symlink(outside, kept_file(ws, "j2"))
    with pytest.raises(StorageError, match="is a symbolic link"):
        keep(ws, "j2", {"A_KEY": "real"})  # refused: not written through it, nor in its place
    assert outside.read_text() == '{"A_KEY": "planted"}'
    assert kept_file(ws, "j2").is_symlink() and os.readlink(kept_file(ws, "j2")) == str(outside)


def test_nothing_is_read_or_removed_through_a_secrets_folder_that_is_a_link(tmp_path: Path) -> None:
    ws = Workspace(tmp_path / "ws")
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    (elsewhere / "job-j1.json").write_text('{"A_KEY": "planted"}')
    ws.secrets_dir.rmdir()
    os.symlink(elsewhere, ws.secrets_dir)
    assert take(ws, "j1") == {}  # not read through the link
    forget(ws, "j1")
    assert (elsewhere / "job-j1.json").read_text() == '{"A_KEY": "planted"}'  # not removed through it
    with pytest.raises(StorageError, match="secrets folder .* is a symbolic link"):
        keep(ws, "j2", {"A_KEY": "real"})
    assert sorted(os.listdir(elsewhere)) == ["job-j1.json"]
