"""After the job: collecting its ./outputs, ./logs, user_logs/ and MLflow store never follows a link it
planted, at the source or at the destination.

Hostile set-ups only inside ``tmp_path``: every link points at a decoy the test made there, and every
test checks the decoy is unchanged afterwards.
"""

from __future__ import annotations

import logging
import os
import shutil
from pathlib import Path

import pytest
import yaml
from jobs_support import tree_without_links

from runner.jobs.artifacts import collect_artifacts
from runner.jobs.mlflow import MlflowRun, collect_logged_models, finish_run, prepare_run
from runner.workspace.db import JobStatus
from runner.workspace.jobdir import JobDir
from runner.workspace.nofollow import MAX_DEPTH

JOB = "j1"


def _job(tmp_path: Path) -> tuple[JobDir, MlflowRun]:
    """A job folder as ``run_job`` leaves it when the command has ended (artifacts written in place)."""
    job_dir = JobDir(tmp_path / "ws" / "jobs" / JOB)
    job_dir.make_code_dirs()
    artifacts = tmp_path / "ws" / "datastore" / "ExperimentRun" / f"dcid.{JOB}"
    run = prepare_run(job_dir, JOB, None, in_container=True, artifacts=artifacts)
    job_dir.user_logs.mkdir()
    job_dir.std_log.write_text("the job's log\n")
    return job_dir, run


def _sources(job_dir: JobDir) -> dict[str, Path]:
    """Where each artifacts folder is collected from."""
    return {"outputs": job_dir.code_outputs, "logs": job_dir.code_logs, "user_logs": job_dir.user_logs}


def _decoy(tmp_path: Path) -> Path:
    decoy = tmp_path / "decoy"
    (decoy / "nested").mkdir(parents=True)
    (decoy / "secret.txt").write_text("DECOY SECRET\n")
    (decoy / "nested" / "key.txt").write_text("DECOY KEY\n")
    (decoy / "meta.yaml").write_text("status: 1\nend_time: null\nname: leak\nsource_run_id: j1\n")
    return decoy




def _warnings(caplog: pytest.LogCaptureFixture, path: Path) -> list[str]:
    return [r.getMessage() for r in caplog.records
            if r.levelno == logging.WARNING and str(path) in r.getMessage()]


def test_regular_files_and_folders_are_copied_as_before(tmp_path: Path) -> None:
    job_dir, run = _job(tmp_path)
    (job_dir.code_outputs / "sub" / "deep").mkdir(parents=True)
    (job_dir.code_outputs / "sub" / "deep" / "a.txt").write_text("a")
    tool = job_dir.code_outputs / "tool.sh"
    tool.write_text("#!/bin/sh\n")
    tool.chmod(0o750)
    os.utime(tool, ns=(1_000_000_000, 1_000_000_000))
    (job_dir.code_logs / "extra.log").write_text("log line")
    (run.artifacts / "outputs").mkdir()
    (run.artifacts / "outputs" / "tool.sh").write_text("older copy")  # overwritten, as copytree did
    collect_artifacts(run, job_dir, JobStatus.COMPLETED)
    expected = {"sub/deep/a.txt": b"a", "tool.sh": b"#!/bin/sh\n"}
    assert tree_without_links(run.artifacts / "outputs") == expected
    copied = run.artifacts / "outputs" / "tool.sh"
    assert copied.stat().st_mode & 0o777 == 0o750 and copied.stat().st_mtime_ns == 1_000_000_000
    assert (run.artifacts / "logs" / "extra.log").read_text() == "log line"
    assert (run.artifacts / "user_logs" / "std_log.txt").read_text() == "the job's log\n"
    assert [p.name for p in (run.artifacts / "outputs").iterdir() if p.name.startswith(".")] == []


@pytest.mark.parametrize("name", ["outputs", "logs", "user_logs"])
def test_a_link_planted_where_the_artifacts_go_is_replaced_not_written_through(
        tmp_path: Path, caplog: pytest.LogCaptureFixture, name: str) -> None:
    job_dir, run = _job(tmp_path)
    decoy = _decoy(tmp_path)
    before = tree_without_links(decoy)
    source = _sources(job_dir)[name]
    (source / "secret.txt").write_text("written by the job\n")
    planted = run.artifacts / name
    planted.symlink_to(decoy)  # the job did this through /mnt/runner/artifacts
    with caplog.at_level(logging.WARNING):
        noted = collect_artifacts(run, job_dir, JobStatus.COMPLETED)
    assert tree_without_links(decoy) == before
    assert not planted.is_symlink() and planted.is_dir()
    assert (planted / "secret.txt").read_text() == "written by the job\n"
    assert len(_warnings(caplog, planted)) == 1
    assert noted == [f"{planted} -> {decoy} (replaced by a folder)"]


@pytest.mark.parametrize("name", ["outputs", "logs", "user_logs"])
def test_a_job_folder_replaced_by_a_link_is_not_read(tmp_path: Path, caplog: pytest.LogCaptureFixture,
                                                     name: str) -> None:
    job_dir, run = _job(tmp_path)
    decoy = _decoy(tmp_path)
    before = tree_without_links(decoy)
    source = _sources(job_dir)[name]
    shutil.rmtree(source)
    source.symlink_to(decoy)  # `rm -rf outputs && ln -s /host/dir outputs` in its working directory
    with caplog.at_level(logging.WARNING):
        noted = collect_artifacts(run, job_dir, JobStatus.FAILED)
    assert tree_without_links(decoy) == before
    assert not (run.artifacts / name).exists()
    assert "DECOY" not in str(tree_without_links(run.artifacts))
    assert len(_warnings(caplog, source)) == 1 and noted == [f"{source} -> {decoy} (skipped)"]


def test_links_inside_outputs_are_skipped_with_one_warning_each(tmp_path: Path,
                                                                caplog: pytest.LogCaptureFixture) -> None:
    job_dir, run = _job(tmp_path)
    decoy = _decoy(tmp_path)
    before = tree_without_links(decoy)
    out = job_dir.code_outputs
    (out / "kept.txt").write_text("kept")
    (out / "sub").mkdir()
    (out / "sub" / "deep.txt").write_text("deep")
    links = {out / "leak.txt": decoy / "secret.txt", out / "leakdir": decoy, out / "latest": Path("kept.txt"),
             out / "sub" / "leak2": decoy / "nested" / "key.txt", out / "dangling": tmp_path / "nothing"}
    for link, target in links.items():
        link.symlink_to(target)
    with caplog.at_level(logging.WARNING):
        noted = collect_artifacts(run, job_dir, JobStatus.COMPLETED)
    assert tree_without_links(decoy) == before
    assert tree_without_links(run.artifacts / "outputs") == {"kept.txt": b"kept", "sub/deep.txt": b"deep"}
    for link, target in links.items():
        assert len(_warnings(caplog, link)) == 1, link
        assert f"{link} -> {target} (skipped)" in noted
    assert len(noted) == len(links)


def test_a_fifo_in_outputs_is_skipped_not_opened(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    job_dir, run = _job(tmp_path)
    os.mkfifo(job_dir.code_outputs / "pipe")
    (job_dir.code_outputs / "kept.txt").write_text("kept")
    with caplog.at_level(logging.WARNING):
        collect_artifacts(run, job_dir, JobStatus.COMPLETED)
    assert tree_without_links(run.artifacts / "outputs") == {"kept.txt": b"kept"}
    assert len(_warnings(caplog, job_dir.code_outputs / "pipe")) == 1


def test_a_file_where_the_artifacts_go_is_replaced_not_written_through(tmp_path: Path) -> None:
    """A hard link (or any file) already at the destination gets a new file, not the job's bytes."""
    job_dir, run = _job(tmp_path)
    decoy = _decoy(tmp_path)
    before = tree_without_links(decoy)
    (job_dir.code_outputs / "secret.txt").write_text("written by the job\n")
    (run.artifacts / "outputs").mkdir()
    os.link(decoy / "secret.txt", run.artifacts / "outputs" / "secret.txt")
    collect_artifacts(run, job_dir, JobStatus.COMPLETED)
    assert tree_without_links(decoy) == before
    assert (run.artifacts / "outputs" / "secret.txt").read_text() == "written by the job\n"


def test_folders_nested_deeper_than_the_limit_are_not_copied(tmp_path: Path,
                                                             caplog: pytest.LogCaptureFixture) -> None:
    job_dir, run = _job(tmp_path)
    deep = job_dir.code_outputs.joinpath(*["d"] * (MAX_DEPTH + 5))
    deep.mkdir(parents=True)
    (deep / "bottom.txt").write_text("bottom")
    (job_dir.code_outputs / "top.txt").write_text("top")
    with caplog.at_level(logging.WARNING):
        collect_artifacts(run, job_dir, JobStatus.COMPLETED)
    assert (run.artifacts / "outputs" / "top.txt").read_text() == "top"
    assert (run.artifacts / "outputs").joinpath(*["d"] * MAX_DEPTH).is_dir()
    assert not (run.artifacts / "outputs").joinpath(*["d"] * (MAX_DEPTH + 1)).exists()
    assert len([r for r in caplog.records if "folders deep" in r.getMessage()]) == 1


# ---- the MLflow store -----------------------------------------------------------------------------
def test_finish_run_replaces_a_linked_meta_yaml_and_leaves_its_target(
        tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    job_dir, run = _job(tmp_path)
    decoy = _decoy(tmp_path)
    before = tree_without_links(decoy)
    meta = run.run_dir / "meta.yaml"
    started = yaml.safe_load(meta.read_text())
    meta.unlink()
    meta.symlink_to(decoy / "meta.yaml")
    with caplog.at_level(logging.WARNING):
        finish_run(run, status="FAILED")
    assert tree_without_links(decoy) == before
    assert not meta.is_symlink()
    written = yaml.safe_load(meta.read_text())
    assert written["status"] == 4 and isinstance(written["end_time"], int)
    assert written["artifact_uri"] == started["artifact_uri"] == "file:///mnt/runner/artifacts"
    assert written["start_time"] == started["start_time"]
    assert len(_warnings(caplog, meta)) == 1


def test_finish_run_keeps_what_the_job_wrote_in_a_regular_meta_yaml(tmp_path: Path) -> None:
    _job_dir, run = _job(tmp_path)
    meta = run.run_dir / "meta.yaml"
    meta.write_text(meta.read_text().replace("run_name: 'j1'", "run_name: 'renamed'"))
    finish_run(run, status="KILLED")
    written = yaml.safe_load(meta.read_text())
    assert written["run_name"] == "renamed" and written["status"] == 5
    assert sorted(p.name for p in run.run_dir.iterdir()) == ["meta.yaml", "metrics", "params", "tags"]


def test_finish_run_does_not_follow_a_linked_run_folder(tmp_path: Path) -> None:
    _job_dir, run = _job(tmp_path)
    decoy = _decoy(tmp_path)
    before = tree_without_links(decoy)
    shutil.rmtree(run.run_dir)
    run.run_dir.symlink_to(decoy)
    finish_run(run, status="FINISHED")
    assert tree_without_links(decoy) == before


def _logged_model(run: MlflowRun, model_id: str = "m1", name: str = "leak") -> Path:
    folder = run.mlruns / "0" / "models" / model_id
    folder.mkdir(parents=True)
    (folder / "meta.yaml").write_text(f"model_id: {model_id}\nname: {name}\nsource_run_id: {run.run_id}\n")
    return folder


def test_a_logged_models_linked_artifacts_are_not_copied(tmp_path: Path,
                                                         caplog: pytest.LogCaptureFixture) -> None:
    _job_dir, run = _job(tmp_path)
    decoy = _decoy(tmp_path)
    before = tree_without_links(decoy)
    folder = _logged_model(run)
    (folder / "artifacts").symlink_to(decoy)
    with caplog.at_level(logging.WARNING):
        assert collect_logged_models(run) == []
    assert tree_without_links(decoy) == before
    assert not (run.artifacts / "leak").exists()
    assert len(_warnings(caplog, folder / "artifacts")) == 1


def test_a_logged_models_linked_meta_yaml_is_not_read(tmp_path: Path) -> None:
    _job_dir, run = _job(tmp_path)
    decoy = _decoy(tmp_path)
    folder = run.mlruns / "0" / "models" / "m1"
    (folder / "artifacts").mkdir(parents=True)
    (folder / "artifacts" / "MLmodel").write_text("flavors: {}\n")
    (folder / "meta.yaml").symlink_to(decoy / "meta.yaml")  # names the run: read, it would be copied
    assert collect_logged_models(run) == []
    assert not (run.artifacts / "leak").exists()


def test_a_linked_models_folder_is_not_read(tmp_path: Path) -> None:
    _job_dir, run = _job(tmp_path)
    decoy = tmp_path / "decoy-models"
    (decoy / "m1" / "artifacts").mkdir(parents=True)
    (decoy / "m1" / "meta.yaml").write_text(f"name: leak\nsource_run_id: {run.run_id}\n")
    (decoy / "m1" / "artifacts" / "secret.txt").write_text("DECOY SECRET\n")
    before = tree_without_links(decoy)
    (run.mlruns / "0" / "models").symlink_to(decoy)
    assert collect_logged_models(run) == []
    assert tree_without_links(decoy) == before and not (run.artifacts / "leak").exists()
    (run.mlruns / "0" / "models").unlink()
    (run.mlruns / "0" / "models").mkdir()
    (run.mlruns / "0" / "models" / "m1").symlink_to(decoy / "m1")
    assert collect_logged_models(run) == []
    assert tree_without_links(decoy) == before and not (run.artifacts / "leak").exists()


def test_links_inside_a_logged_model_are_skipped(tmp_path: Path) -> None:
    _job_dir, run = _job(tmp_path)
    decoy = _decoy(tmp_path)
    before = tree_without_links(decoy)
    folder = _logged_model(run, name="model")
    (folder / "artifacts").mkdir()
    (folder / "artifacts" / "MLmodel").write_text("flavors: {}\n")
    (folder / "artifacts" / "leak.txt").symlink_to(decoy / "secret.txt")
    assert collect_logged_models(run) == ["model"]
    assert tree_without_links(run.artifacts / "model") == {"MLmodel": b"flavors: {}\n"}
    assert tree_without_links(decoy) == before


def test_a_link_planted_where_a_logged_model_goes_is_replaced(tmp_path: Path) -> None:
    _job_dir, run = _job(tmp_path)
    decoy = _decoy(tmp_path)
    before = tree_without_links(decoy)
    folder = _logged_model(run, name="model")
    (folder / "artifacts").mkdir()
    (folder / "artifacts" / "secret.txt").write_text("the model\n")
    (run.artifacts / "model").symlink_to(decoy)
    assert collect_logged_models(run) == ["model"]
    assert tree_without_links(decoy) == before
    assert tree_without_links(run.artifacts / "model") == {"secret.txt": b"the model\n"}
