"""A ``uri_file`` output without a ``path`` gets a FILE, as in Azure ML: the file named after the output
(no extension) in its default folder, ``azureml://datastores/<default>/paths/azureml/<job>/<o>/<o>``. The
job gets that file's path at ``${{outputs.o}}`` in every mode the matrix allows for a uri_file output
(upload, rw_mount, direct); the recorded location is the file; a named one registers as a uri_file data
asset. A command job and a pipeline step alike (on a pipeline's own default datastore too)."""

from __future__ import annotations

from pathlib import Path

import pytest

from runner import MLClient
from runner.jobs.submit import plan_job
from runner.modes import Mode, PathKind
from runner.pipelines.reuse import _own_location
from runner.pipelines.submit import plan_pipeline
from runner.plan.types import AssetRef
from runner.spec.load import load_job_spec
from runner.spec.pipeline import load_pipeline_spec
from runner.workspace.db import JobRecord, JobStatus, Workspace

JOB = """\
command: echo data > ${{outputs.o}}
environment: {image: runner/busybox:latest}
outputs:
  o: {type: uri_file, mode: MODE NAME}
"""
PIPELINE = """\
type: pipeline
settings: {default_datastore: DATASTORE}
jobs:
  make:
    type: command
    command: echo made > ${{outputs.out}}
    environment: {image: unused:1}
    outputs:
      out: {type: uri_file, mode: upload}
  keep:
    type: command
    command: cp ${{inputs.src}} ${{outputs.kept}}
    environment: {image: unused:1}
    inputs:
      src: {type: uri_file, path: '${{parent.jobs.make.outputs.out}}'}
    outputs:
      kept: {type: uri_file, name: kept-data}
"""
STORE = "azureml://datastores/workspaceblobstore/paths"
DEFAULT = f"{STORE}/azureml/j1/o/o"


@pytest.mark.parametrize("mode", ["upload", "rw_mount", "direct"])
@pytest.mark.parametrize("name", ["", ", name: d"])
def test_a_uri_file_output_without_a_path_is_a_file_named_after_it(tmp_path: Path, mode: str,
                                                                    name: str) -> None:
    path = tmp_path / "job.yml"
    path.write_text(JOB.replace("MODE", mode).replace(" NAME", name))
    ws = Workspace(tmp_path / "ws")
    planned = plan_job(load_job_spec(path), workspace=ws, job_name="j1")
    b = planned.outputs[0]
    assert (b.uri, b.kind, b.mode) == (DEFAULT, PathKind.FILE, Mode(mode))
    assert b.registered_as == (AssetRef("data", "d") if name else None)
    if mode == "direct":  # the local default datastore's file itself
        assert b.value == str(ws.default_datastore_root / "azureml/j1/o/o")
    else:
        assert b.value == "/mnt/runner/outputs/o/o" and b.host_value.endswith("/outputs/o/o")
    assert planned.command == f"echo data > {b.value}" and planned.env["AZURE_ML_OUTPUT_o"] == b.value


@pytest.mark.parametrize(("given", "value"), [(f"{STORE}/r/o.txt", "o.txt"), (f"{STORE}/r/out", "out")])
def test_an_explicit_path_is_still_the_file(tmp_path: Path, given: str, value: str) -> None:
    path = tmp_path / "job.yml"
    path.write_text(JOB.replace("MODE", f"upload, path: '{given}'").replace(" NAME", ""))
    b = plan_job(load_job_spec(path), workspace=Workspace(tmp_path / "ws"), job_name="j1").outputs[0]
    assert (b.uri, b.kind, b.value) == (given, PathKind.FILE, f"/mnt/runner/outputs/o/{value}")


def test_a_uri_folder_output_without_a_path_is_still_its_folder(tmp_path: Path) -> None:
    path = tmp_path / "job.yml"
    path.write_text(JOB.replace("uri_file", "uri_folder").replace("MODE", "upload").replace(" NAME", ""))
    b = plan_job(load_job_spec(path), workspace=Workspace(tmp_path / "ws"), job_name="j1").outputs[0]
    assert (b.uri, b.kind, b.value) == (DEFAULT[:-2], PathKind.FOLDER, "/mnt/runner/outputs/o")


@pytest.mark.parametrize("datastore", ["workspaceblobstore", "other"])
def test_a_steps_uri_file_output_without_a_path_is_a_file(tmp_path: Path, datastore: str) -> None:
    (tmp_path / "other").mkdir()  # a pipeline's own default datastore too
    ws = Workspace(tmp_path / "ws")
    MLClient(workspace_dir=ws.root).datastores.create_or_update(
        {"name": "other", "type": "local", "path": str(tmp_path / "other")})
    path = tmp_path / "pipeline.yml"
    path.write_text(PIPELINE.replace("DATASTORE", datastore))
    graph, locations = plan_pipeline(ws, load_pipeline_spec(path), name="p1")
    expected = {step: f"azureml://datastores/{datastore}/paths/azureml/p1-{step}/{out}/{out}"
                for step, out in (("make", "out"), ("keep", "kept"))}
    assert {step: next(iter(found.values())) for step, found in locations.items()} == expected
    made = (ws.default_datastore_root if datastore == "workspaceblobstore" else tmp_path / "other")
    (made / "azureml/p1-make/out").mkdir(parents=True)
    (made / "azureml/p1-make/out/out").write_text("made\n")  # as if upstream ran
    ws.create_job(JobRecord(name="p1-make", status=JobStatus.COMPLETED, outputs={"out": expected["make"]}))
    for step, node in graph.steps.items():  # the plan its step runs with (once upstream ran) agrees
        b = plan_job(node.spec, workspace=ws, job_name=node.job_name).outputs[0]
        assert (b.uri, b.kind) == (expected[step], PathKind.FILE)
    kept = plan_job(graph.steps["keep"].spec, workspace=ws, job_name="p1-keep").outputs[0]
    assert kept.registered_as == AssetRef("data", "kept-data")


def test_a_steps_default_file_is_its_default_location_for_reuse() -> None:
    for out in ("azureml://datastores/other/paths/azureml/p1-keep/kept/kept",
                "azureml://datastores/other/paths/azureml/p1-keep/kept/"):
        assert _own_location(out, "kept") == "<default location on other>"
    assert _own_location("azureml://datastores/other/paths/azureml/p1-keep/kept/x", "kept").endswith("/x")
