"""Pure parts of the job lifecycle: the stored plan round trip, the MLflow file store written by hand,
recovery's process identity, registration names, CLI exit codes."""

from __future__ import annotations

import json
import os
from pathlib import Path

import fsspec
import yaml

from runner.job_materialize import Materializations, OutputSet
from runner.job_plan import artifacts_binding, plan_from_dict
from runner.job_recovery import process_start_time
from runner.job_register import parse_registered_as
from runner.job_run import held_back_note
from runner.mlflow_env import collect_logged_models, finish_run, prepare_run
from runner.modes import AssetType, Direction, Mode, PathKind
from runner.plan_types import Binding, Resources, RunPlan
from runner.resolved import ResolvedPath


def test_plan_survives_the_json_round_trip(tmp_path: Path) -> None:
    binding = Binding("d", Direction.INPUT, AssetType.URI_FILE, Mode.DOWNLOAD, "/data/x.csv", PathKind.FILE,
                      "/ws/jobs/j/inputs/d", "/mnt/runner/inputs/d", "/mnt/runner/inputs/d/x.csv",
                      "/ws/jobs/j/inputs/d/x.csv")
    out = artifacts_binding("j", tmp_path)
    plan = RunPlan(job_name="j", image="img", build_context=None, dockerfile=None, command="c",
                   host_command="h", env={"A": "1"}, code_dir="/c", working_dir="/mnt/runner/code",
                   inputs=(binding,), outputs=(out,), literals={"n": "3"}, timeout_s=5.0,
                   resources=Resources(shm_size="1g", docker_args=("--ipc=host",), gpu_count=-1),
                   warnings=("w",))
    again = plan_from_dict(json.loads(json.dumps(plan.to_dict())))
    assert again == plan
    assert again.inputs[0].mode is Mode.DOWNLOAD and again.resources.docker_args == ("--ipc=host",)


def test_mlflow_file_store_is_valid_yaml(tmp_path: Path) -> None:
    run = prepare_run(tmp_path, "job_1", "my 'exp'", in_container=True)
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
    run = prepare_run(tmp_path, "job_2", None, in_container=False, artifacts=tmp_path / "art")
    assert run.env(in_container=False)["MLFLOW_TRACKING_URI"] == f"file://{tmp_path / 'mlruns'}"
    for model_id, source_run in (("m-1", "job_2"), ("m-2", "other")):
        folder = tmp_path / "mlruns" / "0" / "models" / model_id
        (folder / "artifacts").mkdir(parents=True)
        (folder / "artifacts" / "MLmodel").write_text(model_id)
        (folder / "meta.yaml").write_text(f"model_id: {model_id}\nname: model\nsource_run_id: {source_run}\n")
    assert collect_logged_models(run) == ["model"]
    assert (tmp_path / "art" / "model" / "MLmodel").read_text() == "m-1"


def test_process_identity() -> None:
    mine = process_start_time(os.getpid())
    assert mine is not None and mine == process_start_time(os.getpid())
    assert process_start_time(2**22 + 12345) is None


def test_registered_as_names() -> None:
    assert parse_registered_as("azureml:my-model:3") == ("my-model", "3")
    assert parse_registered_as("azureml:my-model") == ("my-model", None)


def _local_target(path: Path) -> ResolvedPath:
    return ResolvedPath(uri=str(path), fs=fsspec.filesystem("file"), path=str(path), url=f"file://{path}",
                        kind=PathKind.ANY, local_path=path)


def test_artifacts_staged_for_no_upload_on_failure_are_held_back_or_moved_into_place(tmp_path: Path) -> None:
    for upload in (False, True):
        job_dir, store = tmp_path / f"job-{upload}", tmp_path / f"store-{upload}"
        outputs = OutputSet(stage_artifacts=True)
        mats = Materializations()
        targets = {"artifacts": _local_target(store / "art")}
        outputs.enter((artifacts_binding("j", job_dir),), targets, job_dir, mats)
        staged = Path(mats.host_paths["artifacts"])
        assert staged == job_dir / "outputs" / "artifacts"  # not the datastore folder itself
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
    outputs.enter((artifacts_binding("j", tmp_path / "job"),), {"artifacts": _local_target(tmp_path / "art")},
                  tmp_path / "job", mats)
    assert mats.host_paths["artifacts"] == str(tmp_path / "art")
    outputs.close(upload=False)
    assert outputs.held_back == {} and outputs.written_in_place == ["artifacts"]
