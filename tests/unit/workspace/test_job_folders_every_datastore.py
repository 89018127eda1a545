"""Jobs' folders are protected on every datastore, not only on the default one: a pipeline's
``settings.default_datastore`` and a Ray compute's datastore get jobs' default outputs (``azureml/<job>/``),
artifacts (``ExperimentRun/dcid.<job>/``) and, for Ray, the node's control files
(``runner/ray-jobs/<job>/``: its result, which the follower records). A job writes ``azureml/`` and
``ExperimentRun/`` of any datastore only below its own name, ``runner/ray-jobs/`` never, and no output may
hold those folders (a datastore's root). A ``direct`` output gets credentials for its whole container, so
it is refused in a container where runner keeps jobs' outputs: a Ray compute's datastore, one where a
recorded job's outputs lie in a job folder, or one whose job folder the output itself is in.

No service: the Azure datastores here are configs only (nothing is read or written), the local one is
the test's tmp_path."""

from __future__ import annotations

from pathlib import Path

import pytest

from runner.errors import SpecError
from runner.modes import Mode
from runner.workspace.computes import ComputeStore, RayCompute
from runner.workspace.datastores import AzureDatastore, DatastoreStore, LocalDatastore
from runner.workspace.db import JobRecord, JobStatus, Workspace
from runner.workspace.protect import WriteGuard
from runner.workspace.resolve import Resolver

BLOB = "azureml://datastores/blob/paths"
SIDE = "azureml://datastores/side/paths"
MODES = [Mode.UPLOAD, Mode.RW_MOUNT, Mode.DIRECT]
OTHERS = ["azureml/vp-train/model", "azureml/vp-train", "ExperimentRun/dcid.vp-train/outputs",
          "runner/ray-jobs/victimray/result.json", "runner/ray-jobs/victimray", "runner/ray-jobs/j1",
          "runner/ray-jobs/j1/result.json"]
HOLDERS = ["azureml", "ExperimentRun", "runner/ray-jobs", "runner", ""]


@pytest.fixture
def ws(tmp_path: Path) -> Workspace:
    workspace = Workspace(tmp_path / "ws")
    store = DatastoreStore(workspace)
    for name in ("blob", "blob2"):  # two datastores over one container
        store.save(AzureDatastore(name=name, type="azure_blob", account_name="acct", container_name="c"))
    store.save(AzureDatastore(name="free", type="azure_blob", account_name="acct", container_name="free"))
    (tmp_path / "side").mkdir()
    store.save(LocalDatastore(name="side", path=str(tmp_path / "side")))
    return workspace


def _explain(ws: Workspace, uri: str, mode: Mode, job_name: str = "j1") -> tuple[str, str] | None:
    resolver = Resolver(ws)
    output = resolver.resolve_output(uri, job_name=job_name, output_name="o", check=False)
    return WriteGuard(ws, resolver.datastores).explain(output, job_name=job_name, mode=mode)


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("base", [BLOB, SIDE, "azureml://datastores/blob2/paths"])
@pytest.mark.parametrize("rel", OTHERS)
def test_another_jobs_folder_on_any_datastore_is_refused(ws: Workspace, base: str, rel: str,
                                                         mode: Mode) -> None:
    found = _explain(ws, f"{base}/{rel}", mode)
    assert found is not None, (base, rel, mode)
    why, hint = found
    folder = rel.split("/")[0] if not rel.startswith("runner/") else "runner/ray-jobs"
    assert f"'{base}/{rel}' lies in {folder}/ of datastore '" in why or \
           (mode is Mode.DIRECT and "credentials for the whole container" in why), why
    assert "where runner keeps every" in why, why
    if folder == "runner/ray-jobs" and mode is not Mode.DIRECT:
        assert "only runner writes there" in why, why
        assert "runner/ray-jobs/<job>/" in why and "result" in why, why
    elif mode is not Mode.DIRECT:
        assert "a job writes there only under its own name" in why, why
    assert "leave out path:" in hint or "mode: upload or rw_mount" in hint, hint


@pytest.mark.parametrize("base", [BLOB, SIDE])
@pytest.mark.parametrize("rel", HOLDERS)
def test_a_folder_holding_jobs_folders_is_refused(ws: Workspace, base: str, rel: str) -> None:
    uri = f"{base}/{rel}"
    found = _explain(ws, uri, Mode.UPLOAD)
    assert found is not None, uri
    why, _ = found
    assert f"'{uri}' " in why and (" holds " in why or " is " in why), why
    if rel:
        assert "of datastore '" in why and "where runner keeps every" in why, why
    else:  # the root holds the registry's upload folders too: named first, as before
        assert "holds LocalUpload/ on datastore '" in why, why


@pytest.mark.parametrize("mode", [Mode.UPLOAD, Mode.RW_MOUNT])
@pytest.mark.parametrize("base", [BLOB, SIDE])
@pytest.mark.parametrize("rel", ["azureml/j1/o", "ExperimentRun/dcid.j1/o", "shared/o", "azureml-not/x",
                                 "runner/other/x"])
def test_the_jobs_own_folders_and_other_paths_stay_writable(ws: Workspace, base: str, rel: str,
                                                            mode: Mode) -> None:
    assert _explain(ws, f"{base}/{rel}", mode) is None


def test_the_refusal_is_one_spec_error_naming_the_datastore_in_the_hint(ws: Workspace) -> None:
    resolver = Resolver(ws)
    output = resolver.resolve_output(f"{BLOB}/azureml/vp-train/model", job_name="j1", output_name="o",
                                     check=False)
    with pytest.raises(SpecError) as caught:
        WriteGuard(ws, resolver.datastores).refuse(output, name="o", job_name="j1", mode=Mode.UPLOAD)
    err = caught.value
    assert err.field == "outputs.o" and "output 'o' cannot be written there" in err.message
    assert "azureml/ of datastore 'blob'" in err.message, err.message
    assert "azureml://datastores/blob/paths/<something>" in (err.hint or ""), err.hint


def test_a_direct_output_in_a_container_without_jobs_folders_is_accepted(ws: Workspace) -> None:
    assert _explain(ws, f"{BLOB}/elsewhere/d", Mode.DIRECT) is None
    _record(ws, "plain", {"o": f"{BLOB}/out/o"})  # an output outside any job folder: no job folder there
    assert _explain(ws, f"{BLOB}/elsewhere/d", Mode.DIRECT) is None


def _record(ws: Workspace, name: str, outputs: dict[str, str]) -> None:
    ws.create_job(JobRecord(name=name, status=JobStatus.COMPLETED, backend="docker", outputs=outputs))


def _direct_refusal(ws: Workspace, uri: str = f"{BLOB}/elsewhere/d") -> str:
    found = _explain(ws, uri, Mode.DIRECT)
    assert found is not None, uri
    why, hint = found
    assert "a direct output gets credentials for the whole container azure://acct/c" in why, why
    assert "a job writes there only under its own name" in why, why
    assert "mode: upload or rw_mount" in hint, hint
    assert _explain(ws, uri, Mode.UPLOAD) is None  # upload writes only its own path
    return why


def test_a_direct_output_on_a_ray_computes_datastore_is_refused(ws: Workspace) -> None:
    ComputeStore(ws).save(RayCompute(name="gpu", address="http://127.0.0.1:9", datastore="blob"))
    why = _direct_refusal(ws)
    assert "Ray compute 'gpu'" in why and "(blob)" in why, why
    assert _direct_refusal(ws, "azureml://datastores/blob2/paths/x")  # the same container, another name
    assert _explain(ws, "azureml://datastores/free/paths/x", Mode.DIRECT) is None


def test_a_direct_output_where_a_recorded_job_keeps_outputs_is_refused(ws: Workspace) -> None:
    _record(ws, "vp-train", {"model": f"{BLOB}/azureml/vp-train/model",
                             "artifacts": "azureml://datastores/workspaceblobstore/paths/ExperimentRun/dcid.vp-train/"})
    why = _direct_refusal(ws)
    assert f"output 'model' of job 'vp-train' ({BLOB}/azureml/vp-train/model)" in why, why
    assert _explain(ws, "azureml://datastores/free/paths/x", Mode.DIRECT) is None


def test_a_direct_output_in_a_job_folder_of_its_own_is_refused(ws: Workspace) -> None:
    """Its own folder on a non-default datastore (a pipeline's default_datastore, an output without path):
    the container is one where jobs' outputs go."""
    why = _direct_refusal(ws, f"{BLOB}/azureml/j1/d")
    assert f"'{BLOB}/azureml/j1/d' lies in azureml/ of datastore 'blob'" in why, why
