"""No job output may be, hold or lie in a datastore's registry upload folders (``LocalUpload/`` for
models, ``DataUpload/`` for data assets): registering copies local files there, and a link a job left
there would take the copy (and the removal of a stale copy) wherever it points.

Checked as written and where the path physically is, on every datastore, in every mode; when a job is
planned, when it starts and in a pipeline's precheck (all ``WriteGuard.refuse``). Every link here is
made by the test in its own tmp folder and points at a decoy folder there."""

from __future__ import annotations

import os
import textwrap
from pathlib import Path

import pytest

from runner.errors import SpecError
from runner.jobs.run import resolve_stored_plan
from runner.jobs.submit import plan_job
from runner.modes import Mode, PathKind
from runner.pipelines.submit import plan_pipeline
from runner.spec.load import spec_from_data
from runner.spec.pipeline import load_pipeline_spec
from runner.workspace.data_assets import DATA_TABLE
from runner.workspace.datastores import AzureDatastore, DatastoreStore, FsspecDatastore, LocalDatastore
from runner.workspace.db import Workspace
from runner.workspace.models import MODEL_TABLE
from runner.workspace.protect import WriteGuard
from runner.workspace.resolve import Resolver
from runner.workspace.resolved import ResolvedPath

DS = "azureml://datastores/workspaceblobstore/paths"
MODES = [Mode.UPLOAD, Mode.RW_MOUNT, Mode.DIRECT]


@pytest.fixture
def ws(tmp_path: Path) -> Workspace:
    return Workspace(tmp_path / "ws")


def _refusal(ws: Workspace, uri: str, mode: Mode, *, is_file: bool = False) -> str | None:
    resolver = Resolver(ws)
    output = resolver.resolve_output(uri, job_name="j1", output_name="out")
    return WriteGuard(ws, resolver.datastores).refusal(output, job_name="j1", mode=mode, is_file=is_file)


def test_the_folder_names_come_from_the_asset_tables() -> None:
    assert (MODEL_TABLE.upload_folder, DATA_TABLE.upload_folder) == ("LocalUpload", "DataUpload")


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("path", ["LocalUpload/newname", "LocalUpload", "LocalUpload/newname/1/x",
                                  "DataUpload/d", "DataUpload"])
def test_an_output_in_an_upload_folder_is_refused_in_every_mode(ws: Workspace, mode: Mode, path: str) -> None:
    why = _refusal(ws, f"{DS}/{path}", mode)
    folder = path.split("/")[0]
    assert why is not None and f"{folder}/" in why and "datastore 'workspaceblobstore'" in why
    assert "registering" in why and "only the registry writes there" in why


def test_a_direct_file_output_whose_folder_is_an_upload_folder_is_refused(ws: Workspace) -> None:
    why = _refusal(ws, f"{DS}/LocalUpload/model.pkl", Mode.DIRECT, is_file=True)
    assert why is not None and "LocalUpload/" in why


@pytest.mark.parametrize("mode", MODES)
def test_an_output_holding_another_datastores_upload_folders_is_refused(ws: Workspace, tmp_path: Path,
                                                                        mode: Mode) -> None:
    (tmp_path / "side").mkdir()
    DatastoreStore(ws).save(LocalDatastore(name="side", path=str(tmp_path / "side")))
    why = _refusal(ws, "azureml://datastores/side/paths/", mode)
    assert why is not None and "datastore 'side'" in why
    assert _refusal(ws, "azureml://datastores/side/paths/DataUpload/d/1", mode) is not None
    assert _refusal(ws, str(tmp_path / "side" / "LocalUpload" / "m"), mode) is not None  # a host path
    assert _refusal(ws, "azureml://datastores/side/paths/scratch/LocalUpload", mode) is None  # not the one
    assert _refusal(ws, "azureml://datastores/side/paths/LocalUploads", mode) is None


@pytest.mark.parametrize("protocol", ["file", "local"])
def test_an_fsspec_file_datastores_upload_folders_are_refused(ws: Workspace, tmp_path: Path,
                                                              protocol: str) -> None:
    (tmp_path / "fs").mkdir()
    DatastoreStore(ws).save(FsspecDatastore(name="fsfile", url=f"{protocol}://{tmp_path / 'fs'}"))
    why = _refusal(ws, "azureml://datastores/fsfile/paths/LocalUpload/new", Mode.UPLOAD)
    assert why is not None and "datastore 'fsfile'" in why


def test_an_azure_datastores_upload_folders_are_refused(ws: Workspace) -> None:
    DatastoreStore(ws).save(AzureDatastore(name="az", type="azure_blob", account_name="acct",
                                           container_name="models"))
    guard = WriteGuard(ws, DatastoreStore(ws))
    uri = "azureml://datastores/az/paths/LocalUpload/new"
    output = ResolvedPath(uri=uri, fs=None, path="models/LocalUpload/new", kind=PathKind.ANY,
                          url="az://models/LocalUpload/new", datastore="az")
    why = guard.refusal(output, job_name="j1", mode=Mode.UPLOAD)
    assert why is not None and "datastore 'az'" in why and "azure://acct/models/LocalUpload" in why


def test_a_link_in_the_upload_folder_is_refused_as_written_and_where_it_leads(ws: Workspace,
                                                                              tmp_path: Path) -> None:
    decoy = tmp_path / "decoy"
    decoy.mkdir()
    upload = ws.default_datastore_root / "LocalUpload"
    upload.mkdir(parents=True)
    os.symlink(decoy, upload / "newname")  # as a job's direct output could have left it
    assert _refusal(ws, f"{DS}/LocalUpload/newname", Mode.DIRECT) is not None  # leads out: as written
    os.symlink(upload, ws.default_datastore_root / "alias")
    assert _refusal(ws, f"{DS}/alias/other", Mode.UPLOAD) is not None  # written elsewhere: where it is


def test_the_upload_folder_being_a_link_is_refused_where_it_leads(ws: Workspace, tmp_path: Path) -> None:
    decoy = tmp_path / "decoy"
    decoy.mkdir()
    ws.default_datastore_root.mkdir(parents=True, exist_ok=True)
    os.symlink(decoy, ws.default_datastore_root / "DataUpload")
    assert _refusal(ws, str(decoy / "x"), Mode.UPLOAD) is not None


def test_an_ordinary_output_is_still_allowed(ws: Workspace) -> None:
    assert _refusal(ws, f"{DS}/scratch/out", Mode.DIRECT) is None
    assert _refusal(ws, f"{DS}/LocalUploadX/out", Mode.UPLOAD) is None


def test_the_refusal_names_the_output_and_hints_like_the_others(ws: Workspace) -> None:
    spec = spec_from_data({"command": "true", "environment": {"image": "runner/busybox:latest"},
                           "outputs": {"out": {"type": "uri_folder", "mode": "direct",
                                               "path": f"{DS}/LocalUpload/newname"}}})
    with pytest.raises(SpecError) as refused:
        plan_job(spec, workspace=ws, job_name="j1")
    assert refused.value.field == "outputs.out.path" and refused.value.message.startswith(
        "output 'out' cannot be written there: ")
    assert refused.value.hint is not None and "write the output somewhere else" in refused.value.hint


def test_it_is_refused_again_when_the_job_starts(ws: Workspace) -> None:
    spec = spec_from_data({"command": "true", "environment": {"image": "runner/busybox:latest"},
                           "outputs": {"out": {"type": "uri_folder", "mode": "direct",
                                               "path": f"{DS}/shared/later"}}})
    plan = plan_job(spec, workspace=ws, job_name="queued1")  # accepted: nothing is there yet
    shared = ws.default_datastore_root / "shared"
    shared.mkdir(parents=True)
    os.symlink("../LocalUpload", shared / "later")  # what another job's direct output could do
    with pytest.raises(SpecError, match="LocalUpload/") as refused:
        resolve_stored_plan(ws, plan)
    assert refused.value.field == "outputs.out"


PIPELINE = """\
type: pipeline
settings:
  default_compute: local-process
jobs:
  make:
    type: command
    command: echo made > ${{outputs.out}}/made.txt
    environment: {image: unused:1}
    outputs:
      out: {mode: upload}
  keep:
    type: command
    command: cp ${{inputs.src}}/made.txt ${{outputs.kept}}/
    environment: {image: unused:1}
    inputs:
      src: ${{parent.jobs.make.outputs.out}}
    outputs:
      kept: {type: uri_folder, mode: direct, path: azureml://datastores/workspaceblobstore/paths/DataUpload/n}
"""


def test_a_pipeline_steps_output_there_is_refused_by_the_precheck(ws: Workspace, tmp_path: Path) -> None:
    path = tmp_path / "pipeline.yml"
    path.write_text(textwrap.dedent(PIPELINE))
    with pytest.raises(SpecError, match="DataUpload/") as refused:
        plan_pipeline(ws, load_pipeline_spec(path), name="p1")
    assert refused.value.where is not None and refused.value.where.line == 18
