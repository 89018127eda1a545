"""The pure run plan: bindings by mode, values in the container and on the host, env vars, rendering."""

from __future__ import annotations

import json
from pathlib import Path

import fsspec
import pytest

from runner.errors import ModeError, SpecError
from runner.modes import Mode, PathKind
from runner.plan.build import build_plan, check_resolved, names_a_file
from runner.plan.render import render_plan
from runner.plan.types import AssetRef, RunPlan
from runner.spec.job import CommandJobSpec
from runner.spec.load import load_job_spec, spec_from_data
from runner.workspace.environments import ResolvedEnvironment
from runner.workspace.jobdir import JobDir
from runner.workspace.resolved import ResolvedPath

JOB_DIR = JobDir(Path("/ws/jobs/j1"))


def local(path: str, kind: PathKind) -> ResolvedPath:
    return ResolvedPath(uri=path, fs=fsspec.filesystem("file"), path=path, url="file://" + path, kind=kind,
                        local_path=Path(path))


def remote(uri: str, path: str, kind: PathKind) -> ResolvedPath:
    return ResolvedPath(uri=uri, fs=fsspec.filesystem("memory"), path=path, url=f"abfs://c/{path}", kind=kind,
                        env={"AZURE_STORAGE_KEY": "secret-key"})


def plan(spec: CommandJobSpec, inputs: dict[str, ResolvedPath] | None = None,
         outputs: dict[str, ResolvedPath] | None = None) -> RunPlan:
    return build_plan(spec, job_name="j1", job_dir=JOB_DIR, inputs=inputs or {}, outputs=outputs or {},
                      environment=ResolvedEnvironment("python:3.11"))


def job(command: str, **fields: object) -> CommandJobSpec:
    return spec_from_data({"command": command, "environment": "python:3.11", **fields})


def test_folder_input_default_ro_mount() -> None:
    spec = job("ls ${{inputs.d}}", inputs={"d": {"path": "data"}})
    p = plan(spec, {"d": local("/src/data", PathKind.FOLDER)})
    b = p.inputs[0]
    assert (b.mode, b.kind, b.uri) == (Mode.RO_MOUNT, PathKind.FOLDER, "/src/data")
    assert (b.container_path, b.value) == ("/mnt/runner/inputs/d", "/mnt/runner/inputs/d")
    assert (b.host_path, b.host_value) == ("/ws/jobs/j1/inputs/d", "/ws/jobs/j1/inputs/d")
    assert p.command == "ls /mnt/runner/inputs/d" and p.host_command == "ls /ws/jobs/j1/inputs/d"
    assert p.env["AZURE_ML_INPUT_d"] == "/mnt/runner/inputs/d"
    assert p.host_env["AZURE_ML_INPUT_d"] == "/ws/jobs/j1/inputs/d"


def test_file_input_value_is_the_file_inside_its_folder() -> None:
    spec = job("head ${{inputs.f}}", inputs={"f": {"type": "uri_file", "path": "x.csv", "mode": "download"}})
    b = plan(spec, {"f": local("/src/iris.csv", PathKind.FILE)}).inputs[0]
    assert b.container_path == "/mnt/runner/inputs/f" and b.value == "/mnt/runner/inputs/f/iris.csv"
    assert b.host_value == "/ws/jobs/j1/inputs/f/iris.csv"


def test_direct_local_is_the_host_path_at_the_same_place() -> None:
    spec = job("ls ${{inputs.m}}", inputs={"m": {"type": "custom_model", "path": "m", "mode": "direct"}})
    b = plan(spec, {"m": local("/ws/datastores/workspaceblobstore/m", PathKind.FOLDER)}).inputs[0]
    assert b.value == b.host_value == b.container_path == b.host_path == "/ws/datastores/workspaceblobstore/m"


def test_direct_remote_is_the_url_and_secrets_stay_out_of_the_plan() -> None:
    spec = job("ls ${{inputs.m}}", inputs={"m": {"type": "uri_folder", "path": "azureml://datastores/b/paths/m",
                                                  "mode": "direct"}})
    p = plan(spec, {"m": remote("azureml://datastores/b/paths/m", "c/m", PathKind.FOLDER)})
    assert p.inputs[0].value == "abfs://c/c/m" and p.command == "ls abfs://c/c/m"
    assert "secret-key" not in json.dumps(p.to_dict())


def test_outputs_default_rw_mount_and_registration() -> None:
    spec = job("cp -r . ${{outputs.o}}", outputs={"o": {"type": "mlflow_model", "name": "m", "version": 2},
                                                   "p": {"name": "q"}})
    p = plan(spec, outputs={"o": remote("azureml://datastores/w/paths/azureml/j1/o/", "w/o", PathKind.ANY),
                            "p": remote("azureml://datastores/w/paths/azureml/j1/p/", "w/p", PathKind.ANY)})
    o, q = p.outputs
    assert (o.mode, o.container_path) == (Mode.RW_MOUNT, "/mnt/runner/outputs/o")
    assert o.value == "/mnt/runner/outputs/o"
    assert o.host_path == "/ws/jobs/j1/outputs/o"
    assert o.registered_as == AssetRef("model", "m", "2") and q.registered_as == AssetRef("data", "q")
    assert p.env["AZURE_ML_OUTPUT_o"] == "/mnt/runner/outputs/o"


def test_uri_file_output_value_is_the_file() -> None:
    spec = job("echo 1 > ${{outputs.r}}", outputs={"r": {"type": "uri_file", "path": "out/result.txt"}})
    b = plan(spec, outputs={"r": local("/src/out/result.txt", PathKind.ANY)}).outputs[0]
    assert b.value == "/mnt/runner/outputs/r/result.txt"


def test_literals_optional_fragments_and_job_name() -> None:
    spec = job("t --n ${{inputs.n}} --b ${{inputs.b}} $[[--lr ${{inputs.lr}}]] "
               "$[[--d ${{inputs.d}}]] ${{name}}",
               inputs={"n": 3, "b": True, "lr": {"type": "number", "optional": True},
                       "d": {"type": "uri_folder", "optional": True}})
    p = plan(spec)
    assert p.command == "t --n 3 --b True   j1"
    assert p.literals == {"n": "3", "b": "True"}
    assert p.env["AZURE_ML_INPUT_n"] == "3" and "AZURE_ML_INPUT_lr" not in p.env


def test_environment_variables_kept_as_written() -> None:
    p = plan(job("echo $A", environment_variables={"A": "${{inputs.x}}", "B": "b"}))
    assert p.env["A"] == "${{inputs.x}}" and p.env["B"] == "b"


def test_custom_model_file_input_is_refused_with_hint(tmp_path: Path) -> None:
    yml = tmp_path / "job.yml"
    yml.write_text("command: ls ${{inputs.m}}\nenvironment: img\ninputs:\n  m:\n    type: custom_model\n"
                   "    path: model.pkl\n")
    with pytest.raises(ModeError) as info:
        plan(load_job_spec(yml), {"m": local("/src/model.pkl", PathKind.FILE)})
    assert "custom_model file input has no supported mode" in info.value.message
    assert str(info.value.where) == f"{yml}:4:3"
    assert "uri_file" in (info.value.hint or "") and "folder" in (info.value.hint or "")


@pytest.mark.parametrize("asset_type,kind,hint", [
    ("uri_file", PathKind.FOLDER, "uri_folder"), ("uri_folder", PathKind.FILE, "uri_file"),
    ("mlflow_model", PathKind.FILE, "folder"), ("triton_model", PathKind.FILE, "folder"),
])
def test_path_kind_must_fit_the_type(asset_type: str, kind: PathKind, hint: str) -> None:
    spec = job("ls ${{inputs.x}}", inputs={"x": {"type": asset_type, "path": "p"}})
    with pytest.raises(SpecError) as info:
        plan(spec, {"x": local("/src/p", kind)})
    assert f"must be a {'file' if kind is PathKind.FOLDER else 'folder'}" in info.value.message
    assert hint in (info.value.hint or "")


def test_unresolved_input_is_an_error() -> None:
    with pytest.raises(SpecError, match="input 'd' was not resolved"):
        plan(job("ls ${{inputs.d}}", inputs={"d": {"path": "data"}}))


def test_resources_limits_build_and_code(tmp_path: Path) -> None:
    spec = spec_from_data({"command": "ls", "code": "src", "environment": {"build": {"path": "ctx"}},
                           "resources": {"gpu_count": "all", "shm_size": "2g", "docker_args": "--ipc=host"},
                           "limits": {"timeout": 90}}, base_dir=tmp_path)
    p = plan(spec)
    res = p.resources
    assert (res.gpu_count, res.shm_size, res.docker_args) == (-1, "2g", ("--ipc=host",))
    assert p.timeout_s == 90.0
    assert p.build_context == str(tmp_path / "ctx") and p.dockerfile == "Dockerfile"
    assert p.code_source == str(tmp_path / "src") and p.code_dir == "/ws/jobs/j1/code"
    assert p.working_dir == "/mnt/runner/code"


def test_plan_is_json_and_readable() -> None:
    spec = job("ls ${{inputs.d}} ${{outputs.o}} ${{inputs.n}}", inputs={"d": {"path": "d"}, "n": 1},
               outputs={"o": {"type": "custom_model"}}, compute="azureml:cpu")
    p = plan(spec, {"d": local("/src/d", PathKind.FOLDER)},
             {"o": remote("azureml://datastores/w/paths/o", "o", PathKind.ANY)})
    data = json.loads(json.dumps(p.to_dict()))
    assert data["inputs"][0]["mode"] == "ro_mount" and data["outputs"][0]["type"] == "custom_model"
    text = render_plan(p)
    for expected in ("job          j1", "image        python:3.11", "/mnt/runner/inputs/d", "ro_mount",
                     "rw_mount", "azureml://datastores/w/paths/o", "AZURE_ML_OUTPUT_o", "compute is ignored",
                     "literal inputs"):
        assert expected in text


def test_plan_is_deterministic() -> None:
    spec = job("ls ${{inputs.d}}", inputs={"d": {"path": "d"}})
    resolved = {"d": local("/src/d", PathKind.FOLDER)}
    assert plan(spec, resolved) == plan(spec, resolved)


@pytest.mark.parametrize(("path", "named"), [
    ("azureml://datastores/w/paths/out/model.pkl", True), ("out/model.pkl", True),
    ("azureml://datastores/w/paths/out/model.pkl/", False),
    ("azureml://datastores/w/paths/out/models", False),
    ("azureml://datastores/w/paths/out/.hidden", False), (None, False),
])
def test_an_output_path_names_a_file_by_its_extension(path: str | None, named: bool) -> None:
    assert names_a_file(path) is named


@pytest.mark.parametrize("mode", ["upload", "rw_mount", "direct"])
def test_a_custom_file_output_gives_the_job_a_file_path(mode: str) -> None:
    """The seed's "custom file | Output" row: upload, rw_mount and direct give the job the file's path."""
    uri = "azureml://datastores/w/paths/out/model.pkl"
    spec = job("save ${{outputs.m}}", outputs={"m": {"type": "custom_model", "mode": mode, "path": uri}})
    b = plan(spec, outputs={"m": remote(uri, "c/out/model.pkl", PathKind.ANY)}).outputs[0]
    assert b.kind is PathKind.FILE
    assert b.value == ("abfs://c/c/out/model.pkl" if mode == "direct" else "/mnt/runner/outputs/m/model.pkl")
    folder = job("save ${{outputs.m}}",
                 outputs={"m": {"type": "custom_model", "mode": mode, "path": uri + "/"}})
    assert plan(folder, outputs={"m": remote(uri, "c/out/model.pkl", PathKind.ANY)}).outputs[0].kind is \
        PathKind.FOLDER


def test_a_remote_input_not_read_yet_takes_its_kind_from_its_type() -> None:
    spec = job("cat ${{inputs.f}} ${{inputs.m}}", inputs={
        "f": {"type": "uri_file", "path": "wasbs://c@a.blob.core.windows.net/iris.csv", "mode": "download"},
        "m": {"type": "custom_model", "path": "azureml:m:1", "mode": "download"}})
    p = plan(spec, {"f": remote("wasbs://c@a.blob.core.windows.net/iris.csv", "c/iris.csv", PathKind.ANY),
                    "m": remote("azureml://datastores/w/paths/m", "c/m", PathKind.ANY)})
    f, m = p.inputs
    assert (f.kind, f.value) == (PathKind.FILE, "/mnt/runner/inputs/f/iris.csv")
    assert (m.kind, m.value) == (PathKind.FOLDER, "/mnt/runner/inputs/m")  # a custom file input has no mode
    check_resolved(f, remote(f.uri, "c/iris.csv", PathKind.FILE))  # as planned
    with pytest.raises(SpecError, match="uri_file input 'f' is a folder .* a file was expected"):
        check_resolved(f, remote(f.uri, "c/iris.csv", PathKind.FOLDER))
    with pytest.raises(ModeError, match="a custom_model file input has no supported mode"):
        check_resolved(m, remote(m.uri, "c/m", PathKind.FILE))


def test_a_named_uri_file_output_without_a_path_plans_its_default_file(tmp_path: Path) -> None:
    """As in Azure ML (a deliberate reversal of the refusal this test asserted before): its default
    location is a file named after the output in its default folder (``resolve_output``); the job gets
    that file's path and the data asset registered from it is that file."""
    yml = tmp_path / "job.yml"
    yml.write_text("command: echo data > ${{outputs.o}}\nenvironment: img\noutputs:\n"
                   "  o: {type: uri_file, mode: upload, name: h6-uf2}\n")
    default = remote("azureml://datastores/w/paths/azureml/j1/o/o", "w/azureml/j1/o/o", PathKind.ANY)
    p = plan(load_job_spec(yml), outputs={"o": default})
    b = p.outputs[0]
    assert (b.uri, b.kind, b.registered_as) == (default.uri, PathKind.FILE, AssetRef("data", "h6-uf2"))
    assert (b.value, p.command) == ("/mnt/runner/outputs/o/o", "echo data > /mnt/runner/outputs/o/o")


def test_a_uri_file_output_registers_with_a_file_path_and_is_a_file_unnamed_without_one() -> None:
    named = job("echo 1 > ${{outputs.o}}", outputs={"o": {"type": "uri_file", "name": "d",
                                                           "path": "azureml://datastores/w/paths/r/x.csv"}})
    b = plan(named, outputs={"o": remote("azureml://datastores/w/paths/r/x.csv", "w/r/x.csv",
                                         PathKind.ANY)}).outputs[0]
    assert (b.kind, b.value, b.registered_as) == (PathKind.FILE, "/mnt/runner/outputs/o/x.csv",
                                                  AssetRef("data", "d"))
    unnamed = job("echo 1 > ${{outputs.o}}", outputs={"o": {"type": "uri_file"}})
    default = remote("azureml://datastores/w/paths/azureml/j1/o/o", "w/azureml/j1/o/o", PathKind.ANY)
    b = plan(unnamed, outputs={"o": default}).outputs[0]
    assert (b.kind, b.value, b.registered_as) == (PathKind.FILE, "/mnt/runner/outputs/o/o", None)
