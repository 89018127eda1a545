"""Outputs of a job as the run enters and finalizes them: the artifacts written in place or staged for
``--no-upload-on-failure``, held back or moved into place."""

from __future__ import annotations

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
