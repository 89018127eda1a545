"""The stored plan: the JSON round trip the run rebuilds the plan from, and the artifacts binding."""

from __future__ import annotations

import json
from pathlib import Path

from runner.modes import AssetType, Direction, Mode, PathKind
from runner.plan.stored import artifacts_binding, binding_from_dict, plan_from_dict
from runner.plan.types import AssetRef, Binding, Resources, RunPlan
from runner.workspace.jobdir import JobDir


def test_plan_survives_the_json_round_trip(tmp_path: Path) -> None:
    binding = Binding("d", Direction.INPUT, AssetType.URI_FILE, Mode.DOWNLOAD, "/data/x.csv", PathKind.FILE,
                      "/ws/jobs/j/inputs/d", "/mnt/runner/inputs/d", "/mnt/runner/inputs/d/x.csv",
                      "/ws/jobs/j/inputs/d/x.csv")
    out = artifacts_binding("j", JobDir(tmp_path))
    plan = RunPlan(job_name="j", image="img", build_context=None, dockerfile=None, command="c",
                   host_command="h", env={"A": "1"}, code_dir="/c", working_dir="/mnt/runner/code",
                   inputs=(binding,), outputs=(out,), literals={"n": "3"}, timeout_s=5.0,
                   resources=Resources(shm_size="1g", docker_args=("--ipc=host",), gpu_count=-1),
                   warnings=("w",))
    again = plan_from_dict(json.loads(json.dumps(plan.to_dict())))
    assert again == plan
    assert again.inputs[0].mode is Mode.DOWNLOAD and again.resources.docker_args == ("--ipc=host",)


def test_registration_is_typed_and_records_before_it_still_load() -> None:
    binding = Binding("m", Direction.OUTPUT, AssetType.MLFLOW_MODEL, Mode.UPLOAD, "azureml://x",
                      PathKind.FOLDER,
                      "/h", "/c", "/c", "/h", AssetRef("model", "my-model", "3"))
    plan = RunPlan(job_name="j", image="img", build_context=None, dockerfile=None, command="c",
                   host_command="h", env={}, code_dir="/c", working_dir="/mnt/runner/code", inputs=(),
                   outputs=(binding,), literals={}, timeout_s=None)
    data = json.loads(json.dumps(plan.to_dict()))["outputs"][0]
    assert data["registered_as"] == {"kind": "model", "name": "my-model", "version": "3"}
    assert binding_from_dict(data) == binding
    data_output = {**data, "registered_as": {"kind": "data", "name": "features", "version": None}}
    assert binding_from_dict(data_output).registered_as == AssetRef("data", "features")
    untyped = {"name": "my-model", "version": "3", "label": None, "registry": None}  # before it had a kind
    assert binding_from_dict({**data, "registered_as": untyped}).registered_as == binding.registered_as
    old = {**data, "registered_as": "azureml:my-model:3"}  # a record written before it was typed
    assert binding_from_dict(old).registered_as == AssetRef("model", "my-model", "3")
    old = {**data, "registered_as": "azureml:my-model"}
    assert binding_from_dict(old).registered_as == AssetRef("model", "my-model", None)
    assert str(AssetRef("model", "my-model", "3")) == "model azureml:my-model:3"
    assert str(AssetRef("data", "d")) == "data asset azureml:d"
