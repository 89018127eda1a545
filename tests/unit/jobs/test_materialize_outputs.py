"""Outputs of a job as the run enters and finalizes them: the artifacts written in place or staged for
``--no-upload-on-failure``, held back or moved into place."""

from __future__ import annotations

import stat
from pathlib import Path

import fsspec

from runner.jobs.materialize import Materializations, OutputSet
from runner.jobs.run import held_back_note
from runner.modes import PathKind
from runner.plan.stored import artifacts_binding
from runner.workspace.jobdir import JobDir
from runner.workspace.resolved import ResolvedPath


def _local_target(path: Path) -> ResolvedPath:
    return ResolvedPath(uri=str(path), fs=fsspec.filesystem("file"), path=str(path), url=f"file://{path}",
                        kind=PathKind.ANY, local_path=path)


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
