"""A step's reuse fingerprint (stored in ``runner.db``'s ``step_reuse``) holds no digest of a secret that
anyone could recompute: the values of secret ``environment_variables`` are hashed with the workspace's own
key (HMAC-SHA256, ``secrets/fingerprint.key``, owner-only, made on first use), so a guess of a low-entropy
secret cannot be checked against the stored fingerprint without that key. Identical steps still match,
a changed secret still changes the fingerprint, and a step with no secret keeps the fingerprint it had
(its earlier reuse rows still match)."""

from __future__ import annotations

import os
import stat
from pathlib import Path
from typing import Any

import pytest

from runner.errors import StorageError
from runner.pipelines.reuse import find_reusable, fingerprint, remember
from runner.spec.job import CommandJobSpec
from runner.spec.load import spec_from_data
from runner.workspace.db import JobRecord, JobStatus, Workspace
from runner.workspace.secret_files import KEY_FILE

TOKEN = "hunter2"  # a low-entropy secret: a dictionary would find it from a plain SHA-256


def _step(folder: Path, **variables: str) -> CommandJobSpec:
    data: dict[str, Any] = {"command": "python run.py", "code": "src",
                            "environment": {"image": "python:3.11"}, "outputs": {"out": {"mode": "upload"}},
                            "parent_job_name": "p1", "environment_variables": {"MODE": "fast", **variables}}
    return spec_from_data(data, base_dir=folder)


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    (tmp_path / "job" / "src").mkdir(parents=True)
    (tmp_path / "job" / "src" / "run.py").write_text("print(1)\n")
    return tmp_path / "job"


def test_identical_steps_with_a_secret_match_and_are_reused(tmp_path: Path, folder: Path) -> None:
    ws = Workspace(tmp_path / "ws")
    key = fingerprint(ws, _step(folder, HF_TOKEN=TOKEN))
    assert fingerprint(ws, _step(folder, HF_TOKEN=TOKEN)) == key
    assert fingerprint(Workspace(tmp_path / "ws"), _step(folder, HF_TOKEN=TOKEN)) == key  # the key is kept
    out = tmp_path / "out"
    out.mkdir()
    ws.create_job(JobRecord(name="j1", status=JobStatus.COMPLETED, outputs={"out": str(out)}))
    remember(ws, key, "j1")
    assert find_reusable(ws, fingerprint(ws, _step(folder, HF_TOKEN=TOKEN))) == "j1"


@pytest.mark.parametrize("other", [{"HF_TOKEN": "hunter3"}, {"HF_TOKEN": TOKEN, "DB_PASSWORD": "x"},
                                   {"STORE": "AccountName=a;AccountKey=abc"}])
def test_a_changed_secret_changes_it(tmp_path: Path, folder: Path, other: dict[str, str]) -> None:
    ws = Workspace(tmp_path / "ws")
    assert fingerprint(ws, _step(folder, HF_TOKEN=TOKEN)) != fingerprint(ws, _step(folder, **other))


def test_a_secret_is_digested_with_the_workspaces_own_key(tmp_path: Path, folder: Path) -> None:
    """Another workspace (an attacker's, running the same code on a guessed value) gets another digest of
    the same secret: the stored fingerprint cannot be checked against a guess without this key."""
    ours, theirs = Workspace(tmp_path / "ours"), Workspace(tmp_path / "theirs")
    spec = _step(folder, HF_TOKEN=TOKEN)
    assert fingerprint(ours, spec) != fingerprint(theirs, spec)
    # a step with no secret is digested as before, in any workspace (its earlier reuse rows still match)
    assert fingerprint(ours, _step(folder)) == fingerprint(theirs, _step(folder))


def test_the_key_is_owner_only_and_made_once(tmp_path: Path, folder: Path) -> None:
    ws = Workspace(tmp_path / "ws")
    key_file = ws.secrets_dir / KEY_FILE
    fingerprint(ws, _step(folder))
    assert not key_file.exists()  # no secret, no key
    fingerprint(ws, _step(folder, HF_TOKEN=TOKEN))
    assert stat.S_ISREG(key_file.lstat().st_mode) and stat.S_IMODE(key_file.stat().st_mode) == 0o600
    made = key_file.read_bytes()
    assert TOKEN.encode() not in made
    fingerprint(ws, _step(folder, HF_TOKEN="another"))
    assert key_file.read_bytes() == made
    key_file.chmod(0o644)  # loosened by hand: made owner-only again when it is read
    fingerprint(ws, _step(folder, HF_TOKEN=TOKEN))
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600 and key_file.read_bytes() == made


def test_a_link_at_the_keys_place_is_never_followed(tmp_path: Path, folder: Path) -> None:
    """A link planted where the key is kept (to a key its planter knows, or to a file to overwrite) is
    neither read nor written through: it is replaced by a new key of the workspace's own."""
    planted = tmp_path / "known.key"
    planted.write_text("00" * 32)
    reference = Workspace(tmp_path / "ref")
    (reference.secrets_dir / KEY_FILE).write_text("00" * 32)
    known = fingerprint(reference, _step(folder, HF_TOKEN=TOKEN))  # what a digest with the planted key is
    ws = Workspace(tmp_path / "ws")
    os.symlink(planted, ws.secrets_dir / KEY_FILE)
    assert fingerprint(ws, _step(folder, HF_TOKEN=TOKEN)) != known
    assert planted.read_text() == "00" * 32
    key_file = ws.secrets_dir / KEY_FILE
    assert not key_file.is_symlink() and stat.S_IMODE(key_file.stat().st_mode) == 0o600
    assert key_file.read_text() != "00" * 32


def test_a_secrets_folder_that_is_a_link_is_one_error(tmp_path: Path, folder: Path) -> None:
    ws = Workspace(tmp_path / "ws")
    outside = tmp_path / "outside"
    outside.mkdir()
    ws.secrets_dir.rmdir()
    os.symlink(outside, ws.secrets_dir)
    with pytest.raises(StorageError) as caught:
        fingerprint(ws, _step(folder, HF_TOKEN=TOKEN))
    assert str(ws.secrets_dir) in caught.value.message and "link" in caught.value.message
    assert caught.value.hint
    assert list(outside.iterdir()) == []


def test_a_folder_at_the_keys_place_is_one_error(tmp_path: Path, folder: Path) -> None:
    ws = Workspace(tmp_path / "ws")
    (ws.secrets_dir / KEY_FILE).mkdir()
    with pytest.raises(StorageError) as caught:
        fingerprint(ws, _step(folder, HF_TOKEN=TOKEN))
    assert str(ws.secrets_dir / KEY_FILE) in caught.value.message and "not a file" in caught.value.message
    assert caught.value.hint and "remove" in caught.value.hint
    assert TOKEN not in caught.value.render()


def test_a_key_file_that_holds_no_key_is_replaced(tmp_path: Path, folder: Path) -> None:
    ws = Workspace(tmp_path / "ws")
    (ws.secrets_dir / KEY_FILE).write_text("not a key")
    first = fingerprint(ws, _step(folder, HF_TOKEN=TOKEN))
    made = (ws.secrets_dir / KEY_FILE).read_text()
    assert made != "not a key" and len(bytes.fromhex(made)) == 32
    assert fingerprint(ws, _step(folder, HF_TOKEN=TOKEN)) == first
