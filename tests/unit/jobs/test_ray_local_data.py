"""A Ray compute's nodes cannot reach this machine's folders: a binding (or the compute's datastore) on a
datastore whose folder is on this machine is refused before anything is submitted, whatever its kind
(``local``, or ``fsspec`` with a ``file://``/``local://`` URL or a plain path), and so is an fsspec store
in this process's memory (``memory://``) or reached through one of them (a chained URL, a
``target_protocol``); a remote one is not."""

from __future__ import annotations

from pathlib import Path

import pytest

from runner.errors import SpecError
from runner.jobs.ray_submit import refuse_local_data
from runner.modes import AssetType, Direction, Mode, PathKind
from runner.plan.types import Binding, RunPlan
from runner.workspace.computes import RayCompute
from runner.workspace.datastores import AzureDatastore, DatastoreStore, FsspecDatastore
from runner.workspace.db import Workspace

COMPUTE = RayCompute(name="cluster", address="http://127.0.0.2:8265", datastore="az")


def _plan(uri: str) -> RunPlan:
    binding = Binding("d", Direction.INPUT, AssetType.URI_FOLDER, Mode.DOWNLOAD, uri, PathKind.FOLDER,
                      "/ws/jobs/j1/inputs/d", "/mnt/runner/inputs/d", "/mnt/runner/inputs/d",
                      "/ws/jobs/j1/inputs/d")
    plan = RunPlan(job_name="j1", image="runner/busybox:latest", build_context=None, dockerfile=None,
                   command="echo", host_command="echo", env={}, code_dir="/ws/jobs/j1/code",
                   working_dir="/mnt/runner/code", inputs=(binding,), outputs=(), literals={}, timeout_s=None)
    return plan


@pytest.fixture
def ws(tmp_path: Path) -> Workspace:
    workspace = Workspace(tmp_path / "ws")
    stores = DatastoreStore(workspace)
    stores.save(AzureDatastore(name="az", type="azure_blob", account_name="acct", container_name="c"))
    (tmp_path / "folder").mkdir()
    for name, url in {"fsfile": f"file://{tmp_path / 'folder'}", "fslocal": f"local://{tmp_path / 'folder'}",
                      "fsplain": str(tmp_path / "folder"), "fsremote": "s3://bucket/prefix"}.items():
        stores.save(FsspecDatastore(name=name, url=url))
    return workspace


@pytest.mark.parametrize("name", ["fsfile", "fslocal", "fsplain", "workspaceblobstore"])
def test_a_binding_on_a_folder_of_this_machine_is_refused(ws: Workspace, name: str) -> None:
    uri = f"azureml://datastores/{name}/paths/data"
    with pytest.raises(SpecError) as refused:
        refuse_local_data(ws, _plan(uri), COMPUTE)
    found = refused.value.message
    assert f"input 'd' ({uri}) is on the datastore '{name}', a folder on this machine (" in found
    assert refused.value.field == "compute"


@pytest.mark.parametrize("name", ["fsremote", "az"])
def test_a_remote_datastore_is_reachable(ws: Workspace, name: str) -> None:
    refuse_local_data(ws, _plan(f"azureml://datastores/{name}/paths/data"), COMPUTE)


def test_a_compute_datastore_on_this_machine_is_refused(ws: Workspace) -> None:
    with pytest.raises(SpecError, match="the compute's datastore 'fsfile' .* is a folder on this machine"):
        refuse_local_data(ws, _plan("azureml://datastores/az/paths/data"),
                          COMPUTE.model_copy(update={"datastore": "fsfile"}))


@pytest.mark.parametrize(("url", "shown"), [
    ("memory://bucket/data", "memory://"), ("simplecache::memory://bucket", "memory://"),
    ("zip://inner::file:///tmp/archive.zip", "file://"), ("git:///srv/repo", "git://")])
def test_an_fsspec_datastore_local_to_this_process_or_machine_is_refused(ws: Workspace, url: str,
                                                                         shown: str) -> None:
    DatastoreStore(ws).save(FsspecDatastore(name="fsnear", url=url))
    uri = "azureml://datastores/fsnear/paths/data"
    with pytest.raises(SpecError) as refused:
        refuse_local_data(ws, _plan(uri), COMPUTE)
    assert f"input 'd' ({uri}) is on the datastore 'fsnear', fsspec {shown} " in refused.value.message
    assert "on this machine" in refused.value.message and refused.value.field == "compute"
    with pytest.raises(SpecError, match="the compute's datastore 'fsnear' .* fsspec "):
        refuse_local_data(ws, _plan("azureml://datastores/az/paths/data"),
                          COMPUTE.model_copy(update={"datastore": "fsnear"}))


def test_a_target_protocol_in_storage_options_counts(ws: Workspace) -> None:
    DatastoreStore(ws).save(FsspecDatastore(name="cached", url="simplecache://bucket",
                                            storage_options={"target_protocol": "memory"}))
    with pytest.raises(SpecError, match="'cached', fsspec memory:// "):
        refuse_local_data(ws, _plan("azureml://datastores/cached/paths/data"), COMPUTE)


@pytest.mark.parametrize("url", ["memory://bucket/data", "zip://inner::file:///tmp/archive.zip"])
def test_an_fsspec_url_local_to_this_machine_is_refused(ws: Workspace, url: str) -> None:
    with pytest.raises(SpecError, match="is on this machine"):
        refuse_local_data(ws, _plan(url), COMPUTE)


def test_a_chained_remote_url_is_reachable(ws: Workspace) -> None:
    DatastoreStore(ws).save(FsspecDatastore(name="cachedremote", url="simplecache::s3://bucket/prefix"))
    refuse_local_data(ws, _plan("azureml://datastores/cachedremote/paths/data"), COMPUTE)
