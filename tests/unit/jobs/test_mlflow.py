"""The MLflow file store a job gets, written by hand (the package never imports mlflow)."""

from __future__ import annotations

from pathlib import Path

import yaml

from runner.jobs.mlflow import collect_logged_models, finish_run, prepare_run
from runner.workspace.jobdir import JobDir


def test_mlflow_file_store_is_valid_yaml(tmp_path: Path) -> None:
    run = prepare_run(JobDir(tmp_path), "job_1", "my 'exp'", in_container=True,
                      artifacts=tmp_path / "art")
    experiment = yaml.safe_load((tmp_path / "mlruns" / "0" / "meta.yaml").read_text())
    assert experiment["name"] == "my 'exp'" and experiment["experiment_id"] == "0"
    meta = yaml.safe_load((run.run_dir / "meta.yaml").read_text())
    assert meta["run_id"] == "job_1" and meta["status"] == 1
    assert meta["artifact_uri"] == "file:///mnt/runner/artifacts"
    assert run.env(in_container=True) == {"MLFLOW_TRACKING_URI": "file:///mnt/runner/mlruns",
                                          "MLFLOW_RUN_ID": "job_1", "MLFLOW_EXPERIMENT_ID": "0"}
    finish_run(run, status="FINISHED")
    meta = yaml.safe_load((run.run_dir / "meta.yaml").read_text())
    assert meta["status"] == 3 and isinstance(meta["end_time"], int)


def test_mlflow3_logged_models_are_copied_into_artifacts(tmp_path: Path) -> None:
    run = prepare_run(JobDir(tmp_path), "job_2", None, in_container=False, artifacts=tmp_path / "art")
    assert run.env(in_container=False)["MLFLOW_TRACKING_URI"] == f"file://{tmp_path / 'mlruns'}"
    for model_id, source_run in (("m-1", "job_2"), ("m-2", "other")):
        folder = tmp_path / "mlruns" / "0" / "models" / model_id
        (folder / "artifacts").mkdir(parents=True)
        (folder / "artifacts" / "MLmodel").write_text(model_id)
        (folder / "meta.yaml").write_text(f"model_id: {model_id}\nname: model\nsource_run_id: {source_run}\n")
    assert collect_logged_models(run) == ["model"]
    assert (tmp_path / "art" / "model" / "MLmodel").read_text() == "m-1"
