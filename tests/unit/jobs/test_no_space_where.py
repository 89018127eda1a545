"""A full disk met with an ``OSError`` that names no file (``ENOSPC`` from a write, a ``close`` or a
``copy_file_range``) is reported on the place being written, never on the runner's working directory:
collecting a job's artifacts names the folder they are copied into; with nothing to name, the message says so
rather than guessing."""

from __future__ import annotations

import errno
import os
from pathlib import Path

import pytest

from runner import command
from runner.jobs import operations as jobs
from runner.jobs import run as run_module
from runner.workspace.db import JobStatus, Workspace
from runner.workspace.transfers import no_space_error


def no_space() -> OSError:
    return OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))  # no filename, as a write's error has none


@pytest.fixture
def elsewhere(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The runner's working directory: not where anything is written."""
    cwd = tmp_path / "the-runners-cwd"
    cwd.mkdir()
    monkeypatch.chdir(cwd)
    return cwd


def test_collecting_the_artifacts_on_a_full_disk_names_the_jobs_artifacts_folder(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, elsewhere: Path) -> None:
    def full(*_args: object, **_kwargs: object) -> list[str]:
        raise no_space()

    monkeypatch.setattr(run_module, "collect_artifacts", full)
    ws = Workspace(tmp_path / "ws")
    job = command(command="true", environment="does-not-matter:1", compute="local-process")
    jobs.JobOperations(ws).create_or_update(job, name="full1", stream=True, echo=lambda _chunk: None)
    record = ws.get_job("full1")
    assert record.status is JobStatus.FAILED
    error = record.error or ""
    assert "collecting the artifacts" in error and "no space left on " in error, error
    assert str(elsewhere) not in error, error
    # the artifacts folder it was writing to (here written in place on the local datastore)
    assert f"(writing {ws.root}/" in error and "dcid.full1" in error, error


def test_the_file_the_error_names_comes_first(tmp_path: Path, elsewhere: Path) -> None:
    named = OSError(errno.ENOSPC, os.strerror(errno.ENOSPC), str(tmp_path / "a" / "file.bin"))
    message = no_space_error(named, "writing", tmp_path / "b").render()
    assert str(tmp_path / "a" / "file.bin") in message and str(tmp_path / "b") not in message
    assert str(elsewhere) not in message


def test_the_place_given_is_named_when_the_error_names_no_file(tmp_path: Path, elsewhere: Path) -> None:
    message = no_space_error(no_space(), "writing", tmp_path / "out").render()
    assert str(tmp_path / "out") in message and str(elsewhere) not in message
    assert "hint: free space" in message


def test_with_nothing_to_name_the_working_directory_is_not_guessed(elsewhere: Path) -> None:
    message = no_space_error(no_space(), "writing the output").render()
    assert message.startswith("writing the output: no space left")
    assert str(elsewhere) not in message
    assert "named no file" in message
