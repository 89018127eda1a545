"""Outputs of a job as the run enters and finalizes them: the artifacts written in place or staged for
``--no-upload-on-failure``, held back or moved into place."""

from __future__ import annotations

import os
import shutil
import stat
import tempfile
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import fsspec
import pytest

from runner.jobs.materialize import Materializations, OutputSet
from runner.jobs.run import held_back_note
from runner.modes import PathKind
from runner.plan.stored import artifacts_binding
from runner.workspace.jobdir import JobDir
from runner.workspace.resolved import ResolvedPath


def _local_target(path: Path, root: Path | None = None) -> ResolvedPath:
    return ResolvedPath(uri=str(path), fs=fsspec.filesystem("file"), path=str(path), url=f"file://{path}",
                        kind=PathKind.ANY, local_path=path, local_root=root)


def test_artifacts_staged_for_no_upload_on_failure_are_held_back_or_moved_into_place(tmp_path: Path) -> None:
    for upload in (False, True):
        job_dir, store = JobDir(tmp_path / f"job-{upload}"), tmp_path / f"store-{upload}"
        outputs = OutputSet(stage_artifacts=True)
        mats = Materializations()
        targets = {"artifacts": _local_target(store / "art")}
        outputs.enter((artifacts_binding("j", job_dir),), targets, job_dir, mats)
        staged = Path(mats.host_paths["outputs/artifacts"])
        assert staged == job_dir.outputs / "artifacts"  # not the datastore folder itself
        (staged / "user_logs").mkdir()
        (staged / "user_logs" / "std_log.txt").write_text("log")
        assert outputs.close(upload=upload) == {}
        if upload:
            assert (store / "art" / "user_logs" / "std_log.txt").read_text() == "log"
            assert outputs.held_back == {}
        else:
            assert not (store / "art").exists() and (staged / "user_logs" / "std_log.txt").exists()
            assert outputs.held_back == {"artifacts": staged}
            assert held_back_note(outputs) == ("outputs not uploaded (--no-upload-on-failure); kept staged: "
                                               f"artifacts in {staged}")


def test_artifacts_are_written_in_place_without_the_flag(tmp_path: Path) -> None:
    outputs = OutputSet()
    mats = Materializations()
    job_dir = JobDir(tmp_path / "job")
    outputs.enter((artifacts_binding("j", job_dir),), {"artifacts": _local_target(tmp_path / "art")},
                  job_dir, mats)
    assert mats.host_paths["outputs/artifacts"] == str(tmp_path / "art")
    outputs.close(upload=False)
    assert outputs.held_back == {} and outputs.written_in_place == ["artifacts"]


def _reachable_by_others_and_writable(ws: Path) -> list[Path]:
    """The folders under ``ws`` another user of the host could write into: writable by every user, and
    every folder on the way from ``ws`` (itself included) searchable by every user. Links not followed."""
    found: list[Path] = []
    pending = [ws] if ws.stat().st_mode & stat.S_IXOTH else []
    while pending:
        folder = pending.pop()
        if folder.stat().st_mode & stat.S_IWOTH:
            found.append(folder)
        for child in folder.iterdir():
            info = child.lstat()
            if stat.S_ISDIR(info.st_mode) and info.st_mode & stat.S_IXOTH:
                pending.append(child)
    return found


def _premade_workspace(tmp_path: Path) -> tuple[Path, JobDir, Path]:
    """A workspace its user made beforehand (0755, not runner's 0700), the job's folder in it as a 0022
    umask leaves it, and where the job's artifacts go on its default datastore."""
    ws = tmp_path / "ws"
    ws.mkdir()
    ws.chmod(0o755)
    job_dir = JobDir(ws / "jobs" / "j")
    job_dir.root.mkdir(parents=True)
    job_dir.root.chmod(0o755)
    return ws, job_dir, ws / "datastores" / "workspaceblobstore" / "ExperimentRun" / "dcid.j"


def test_in_a_container_the_artifacts_are_written_under_the_owner_only_job_folder(tmp_path: Path) -> None:
    """The container's user may be anyone, so the folder it writes is writable by every user: it is the
    staging folder in the job's folder, made owner-only whatever its mode was, never the datastore folder,
    which no other user of the host can then write into (not while the job runs, not after)."""
    ws, job_dir, target = _premade_workspace(tmp_path)
    outputs, mats = OutputSet(), Materializations(in_container=True)
    outputs.enter((artifacts_binding("j", job_dir),), {"artifacts": _local_target(target)}, job_dir, mats)
    written = Path(mats.host_paths["outputs/artifacts"])
    assert written == job_dir.outputs / "artifacts"
    assert written.stat().st_mode & 0o777 == 0o777  # the container's user, whoever it is, writes there
    assert stat.S_IMODE(job_dir.root.stat().st_mode) == 0o700
    assert _reachable_by_others_and_writable(ws) == []
    (written / "m.txt").write_text("logged")
    assert outputs.close() == {}
    assert (target / "m.txt").read_text() == "logged"
    assert _reachable_by_others_and_writable(ws) == []


def test_a_job_on_the_host_writes_its_artifacts_in_place_and_only_its_user_can(tmp_path: Path) -> None:
    """A command on the host (``--backend process``) runs as runner's user: nothing is opened to others."""
    ws, job_dir, target = _premade_workspace(tmp_path)
    outputs, mats = OutputSet(), Materializations()
    outputs.enter((artifacts_binding("j", job_dir),), {"artifacts": _local_target(target)}, job_dir, mats)
    assert mats.host_paths["outputs/artifacts"] == str(target)
    assert _reachable_by_others_and_writable(ws) == []
    outputs.close()
    assert _reachable_by_others_and_writable(ws) == []


def _container_job(tmp_path: Path, store: Path, *, stage_artifacts: bool = False
                   ) -> tuple[OutputSet, dict[str, Path]]:
    """A container job's artifacts (to ``store``/ExperimentRun/dcid.j) and its ``upload`` output ``o`` (to
    ``store``/azureml/j/o), entered, each holding a file the job wrote; their staging folders by name."""
    job_dir = JobDir(tmp_path / "ws" / "jobs" / "j")
    artifacts = artifacts_binding("j", job_dir)
    named = replace(artifacts, name="o", uri="azureml://datastores/workspaceblobstore/paths/azureml/j/o/")
    outputs, mats = OutputSet(stage_artifacts=stage_artifacts), Materializations(in_container=True)
    targets = {"artifacts": _local_target(store / "ExperimentRun" / "dcid.j", store),
               "o": _local_target(store / "azureml" / "j" / "o", store)}
    outputs.enter((named, artifacts), targets, job_dir, mats)
    staged = {name: Path(mats.host_paths[f"outputs/{name}"]) for name in ("artifacts", "o")}
    (staged["artifacts"] / "m").mkdir()
    (staged["artifacts"] / "m" / "a.txt").write_text("art")
    (staged["o"] / "r.txt").write_text("result")
    return outputs, staged


def test_an_error_after_the_command_moves_the_artifacts_in_and_holds_back_the_outputs(tmp_path: Path) -> None:
    """An unexpected error ends the run: a container's artifacts (logs, not a named output) are moved into
    place as they would have been; the named outputs are not uploaded, kept staged, and say so."""
    store = tmp_path / "ws" / "datastores" / "workspaceblobstore"
    outputs, staged = _container_job(tmp_path, store)
    with pytest.raises(RuntimeError), outputs:
        raise RuntimeError("after the command ran")
    assert (store / "ExperimentRun" / "dcid.j" / "m" / "a.txt").read_text() == "art"
    assert outputs.moved_in == ["artifacts"] and outputs.errors == {}
    assert outputs.held_back == {"o": staged["o"]} and outputs.kept_staged() == {"o": staged["o"]}
    assert (staged["o"] / "r.txt").read_text() == "result" and not (store / "azureml").exists()


def test_an_error_holds_back_the_artifacts_of_a_job_run_with_no_upload_on_failure(tmp_path: Path) -> None:
    store = tmp_path / "ws" / "datastores" / "workspaceblobstore"
    outputs, staged = _container_job(tmp_path, store, stage_artifacts=True)
    with pytest.raises(RuntimeError), outputs:
        raise RuntimeError("after the command ran")
    assert outputs.moved_in == [] and outputs.kept_staged() == staged
    assert not (store / "ExperimentRun").exists()


def test_on_a_full_disk_the_artifacts_are_moved_in_on_the_same_filesystem(tmp_path: Path) -> None:
    """``close(hold_staged=True)`` (the disk was full when the command ended): a rename costs no space, so
    the artifacts reach their place; the named outputs, which may be incomplete, are held back."""
    store = tmp_path / "ws" / "datastores" / "workspaceblobstore"
    outputs, staged = _container_job(tmp_path, store)
    assert outputs.close(hold_staged=True) == {}
    assert (store / "ExperimentRun" / "dcid.j" / "m" / "a.txt").read_text() == "art"
    assert outputs.moved_in == ["artifacts"] and outputs.held_back == {"o": staged["o"]}
    assert held_back_note(outputs, "the disk was full") == (
        f"outputs not uploaded (the disk was full); kept staged: o in {staged['o']}; moved into place (the "
        "job's logs and artifacts, not a named output): artifacts")


@pytest.fixture
def other_filesystem(tmp_path: Path) -> Iterator[Path]:
    """A folder of this test on another filesystem than ``tmp_path`` (a tmpfs), removed after."""
    if not Path("/dev/shm").is_dir() or os.stat("/dev/shm").st_dev == os.stat(tmp_path).st_dev:
        pytest.skip("needs /dev/shm on another filesystem than the test's folder")
    folder = Path(tempfile.mkdtemp(dir="/dev/shm", prefix="runner-test-"))
    try:
        yield folder
    finally:
        shutil.rmtree(folder)


def test_on_a_full_disk_artifacts_on_another_filesystem_stay_staged_and_named(
        tmp_path: Path, other_filesystem: Path) -> None:
    """Moving to another filesystem is a copy, which needs space: the artifacts are held back instead."""
    outputs, staged = _container_job(tmp_path, other_filesystem)
    assert outputs.close(hold_staged=True) == {}
    assert outputs.moved_in == [] and outputs.held_back == staged
    assert (staged["artifacts"] / "m" / "a.txt").read_text() == "art"
    assert not (other_filesystem / "ExperimentRun").exists()


def test_artifacts_are_never_moved_through_a_link_the_job_planted(tmp_path: Path) -> None:
    """A link where the artifacts go (a job's direct output can make one in the datastore) is not followed:
    nothing reaches the folder it names, and the artifacts stay staged, named."""
    store = tmp_path / "ws" / "datastores" / "workspaceblobstore"
    decoy = tmp_path / "decoy"
    decoy.mkdir()
    outputs, staged = _container_job(tmp_path, store)
    (store / "ExperimentRun").mkdir(parents=True)
    (store / "ExperimentRun" / "dcid.j").symlink_to(decoy)
    with pytest.raises(RuntimeError), outputs:
        raise RuntimeError("after the command ran")
    assert list(decoy.iterdir()) == []
    assert outputs.moved_in == [] and outputs.kept_staged() == staged
    assert (staged["artifacts"] / "m" / "a.txt").read_text() == "art"
