"""Registering a datastore path by reference is refused while a job that has not ended writes an output
at, inside or above it (the write guard's overlap rule, turned round): the job would change the version's
files after it was registered. The error names the job and output, and says to wait for the job or to
register its output (``azureml://jobs/<job>/outputs/<o>``) once it ended. The check and the insert are
one transaction. A job's own registration of its outputs as it ends, a step's while its pipeline runs,
and any registration once the job ended are not refused."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from runner.client import MLClient
from runner.errors import RegistryError
from runner.jobs.submit import plan_job, queued_record
from runner.spec.data import Data
from runner.spec.load import spec_from_data
from runner.spec.model import Model
from runner.workspace.datastores import AzureDatastore, DatastoreStore
from runner.workspace.db import JobRecord, JobStatus, Workspace
from runner.workspace.registry import DataRegistry, ModelRegistry

DS = "azureml://datastores/workspaceblobstore/paths"


@pytest.fixture
def ws(tmp_path: Path) -> Workspace:
    workspace = Workspace(tmp_path / "ws")
    for folder in ("racem3/sub", "racem3x", "d"):
        (workspace.default_datastore_root / folder).mkdir(parents=True)
    (workspace.default_datastore_root / "racem3" / "f").write_text("old")
    (workspace.default_datastore_root / "racem3x" / "f").write_text("other")
    (workspace.default_datastore_root / "d" / "one.txt").write_text("one")
    (workspace.default_datastore_root / "d" / "two.txt").write_text("two")
    return workspace


def _queue(ws: Workspace, name: str, outputs: dict[str, Any], status: JobStatus = JobStatus.RUNNING) -> None:
    """A job recorded as ``submit_job`` records it (its stored plan has each output's mode), then moved to
    ``status``."""
    spec = spec_from_data({"command": "true", "environment": {"image": "runner/busybox:latest"},
                           "outputs": outputs})
    ws.create_job(queued_record(ws, spec, plan_job(spec, workspace=ws, job_name=name), backend="process"))
    if status is not JobStatus.QUEUED:
        ws.update_job(name, ending=status.is_terminal, status=status)


def _model(path: str, name: str = "racem3") -> Model:
    return Model(name=name, type="custom_model", path=path)


@pytest.mark.parametrize("status", [JobStatus.QUEUED, JobStatus.PREPARING, JobStatus.RUNNING,
                                    JobStatus.FINALIZING])
def test_the_place_an_active_job_uploads_to_is_not_registered(ws: Workspace, status: JobStatus) -> None:
    _queue(ws, "j1", {"o": {"type": "uri_folder", "mode": "upload", "path": f"{DS}/racem3/"}}, status)
    with pytest.raises(RegistryError) as info:
        ModelRegistry(ws).create(_model(f"{DS}/racem3/"))
    err = info.value
    assert f"job 'j1' ({status.value}) writes its output 'o'" in err.message, err.message
    assert "registered versions never change" in err.message
    assert err.field == "path"
    assert "runner job stream --name j1" in (err.hint or "")
    assert "azureml://jobs/j1/outputs/o" in (err.hint or "")
    assert "ml_client.jobs.stream('j1')" in (err.python_hint or "")
    assert ModelRegistry(ws).list() == []  # no version, no container row left half-made


@pytest.mark.parametrize(("written", "registered"), [("racem3", "racem3"), ("racem3", "racem3/sub"),
                                                    ("racem3/sub", "racem3")], ids=["at", "inside", "above"])
def test_inside_and_above_an_active_output_are_refused_too(ws: Workspace, written: str,
                                                           registered: str) -> None:
    _queue(ws, "j2", {"o": {"type": "uri_folder", "mode": "upload", "path": f"{DS}/{written}"}})
    with pytest.raises(RegistryError, match="job 'j2' .* writes its output 'o'"):
        DataRegistry(ws).create(Data(name="d", type="uri_folder", path=f"{DS}/{registered}"))


def test_a_sibling_with_a_common_prefix_is_registered(ws: Workspace) -> None:
    _queue(ws, "j3", {"o": {"type": "uri_folder", "mode": "upload", "path": f"{DS}/racem3"}})
    assert ModelRegistry(ws).create(_model(f"{DS}/racem3x")).version == "1"


def test_the_python_client_and_data_assets_are_refused(ws: Workspace) -> None:
    _queue(ws, "j4", {"o": {"type": "uri_folder", "mode": "rw_mount", "path": f"{DS}/racem3"}})
    client = MLClient(workspace_dir=ws.root)
    with pytest.raises(RegistryError, match="job 'j4' .* writes its output 'o'"):
        client.models.create_or_update(_model(f"{DS}/racem3/"))
    with pytest.raises(RegistryError, match="job 'j4' .* writes its output 'o'"):
        client.data.create_or_update(Data(name="d", type="uri_folder", path=f"{DS}/racem3"))


def test_a_jobs_default_output_location_by_datastore_path_is_refused(ws: Workspace) -> None:
    _queue(ws, "j5", {"o": {"type": "uri_folder", "mode": "upload"}})
    (ws.default_datastore_root / "azureml" / "j5" / "o").mkdir(parents=True)  # part of it there already
    with pytest.raises(RegistryError, match="job 'j5' .* writes its output 'o'"):
        ModelRegistry(ws).create(_model(f"{DS}/azureml/j5/o"))


def test_a_direct_file_output_is_bound_as_its_folder(ws: Workspace) -> None:
    """As the write guard judges it: the job can write anything in the folder of a ``direct`` file."""
    _queue(ws, "j6", {"o": {"type": "uri_file", "mode": "direct", "path": f"{DS}/d/one.txt"}})
    with pytest.raises(RegistryError, match="job 'j6' .* writes its output 'o'"):
        DataRegistry(ws).create(Data(name="two", type="uri_file", path=f"{DS}/d/two.txt"))


def test_an_older_record_without_a_plan_is_judged_by_its_outputs(ws: Workspace) -> None:
    ws.create_job(JobRecord(name="j7", status=JobStatus.RUNNING, outputs={"o": f"{DS}/racem3"}))
    with pytest.raises(RegistryError, match="job 'j7' .* writes its output 'o'"):
        ModelRegistry(ws).create(_model(f"{DS}/racem3"))


@pytest.mark.parametrize("status", [JobStatus.COMPLETED, JobStatus.FAILED, JobStatus.CANCELED])
def test_once_the_job_ended_the_place_is_registered(ws: Workspace, status: JobStatus) -> None:
    _queue(ws, "j8", {"o": {"type": "uri_folder", "mode": "upload", "path": f"{DS}/racem3"}}, status)
    assert ModelRegistry(ws).create(_model(f"{DS}/racem3")).version == "1"


def test_the_jobs_own_registration_and_a_steps_under_its_pipeline_are_not_refused(ws: Workspace) -> None:
    """A job registers its outputs as it ends (its record still active); a step's output that is also its
    pipeline's is in the pipeline's record, which stays active meanwhile."""
    _queue(ws, "p1-train", {"o": {"type": "uri_folder", "mode": "upload", "path": f"{DS}/racem3"}},
           JobStatus.FINALIZING)
    ws.update_job("p1-train", spec={**ws.get_job("p1-train").spec, "parent_job_name": "p1"})
    ws.create_job(JobRecord(name="p1", status=JobStatus.RUNNING, spec={"type": "pipeline"},
                            outputs={"trained": f"{DS}/racem3"}))
    created = ModelRegistry(ws).create(_model("azureml://jobs/p1-train/outputs/o"))
    assert created.job_name == "p1-train"


def _raw(ws: Workspace, name: str, uri: str, mode: str) -> None:
    """A running job's record as stored: its plan's one output, with its mode."""
    ws.create_job(JobRecord(name=name, status=JobStatus.RUNNING, outputs={"o": uri}, extra={
        "plan": {"outputs": [{"name": "o", "uri": uri, "mode": mode, "kind": "folder"}]}}))


@pytest.mark.parametrize(("mode", "refused"), [("direct", True), ("upload", False)])
def test_a_direct_output_on_a_remote_store_reaches_its_whole_container(ws: Workspace, mode: str,
                                                                       refused: bool) -> None:
    """As the write guard judges it: a ``direct`` output gets credentials for the whole container."""
    DatastoreStore(ws).save(AzureDatastore(name="az", type="azure_blob", account_name="acct",
                                           container_name="c"))
    _raw(ws, "j9", "azureml://datastores/az/paths/out", mode)
    elsewhere = Data(name="d", type="uri_folder", path="azureml://datastores/az/paths/elsewhere")
    if refused:
        with pytest.raises(RegistryError, match="job 'j9' .* writes its output 'o'"):
            DataRegistry(ws).create(elsewhere)
    else:
        assert DataRegistry(ws).create(elsewhere).version == "1"
