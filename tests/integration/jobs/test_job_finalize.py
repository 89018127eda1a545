"""`runner job finalize`: an ended job's output that its end could not make durable is uploaded later from
its own staging folder, with the job's own upload (verified), by the CLI a user runs.

* an upload cut short by a storage outage (a private Azurite stopped once three of 40 files reached it, as in
  ``test_upload_cut_short``): finalize while the storage is still away fails again, the same clear error,
  its data kept; once it is back, finalize uploads all 40 files, the job (whose command exited 0) becomes
  Completed, its named output is registered as the job would have registered it, and download works;
* ``--no-upload-on-failure`` to Azure: uploaded later, the job stays Failed (its command failed), nothing
  registered;
* a local datastore: ``upload`` and ``rw_mount`` outputs moved into place later (a container job's staged
  artifacts too);
* refused: a job with nothing to finalize, an output that has nothing to finalize, a staging folder that is
  a link (never followed: what it points at is neither uploaded nor touched).
"""

from __future__ import annotations

import itertools
import os
import threading
from pathlib import Path
from typing import Any

import pytest
from jobs_support import cli, create_azure_datastore, datastore_file, show, write_job
from private_azurite import ACCOUNT, KEY, PrivateAzurite

from mounts.stores.azure import AzureBlobStore
from runner import Output, command
from runner.jobs import operations as jobs
from runner.workspace.db import JobStatus, Workspace
from runner.workspace.registry import DataRegistry

FILES = 40
CONTAINER = "finalizelater"


def _one_error(result: Any) -> str:
    assert result.returncode != 0, result.stdout
    assert "Traceback" not in result.stderr and "internal error" not in result.stderr, result.stderr
    return str(result.stderr)


@pytest.mark.azure
def test_an_upload_cut_short_is_finalized_later_and_the_job_completes(
        workspace_dir: Path, tmp_path: Path, private_azurite: PrivateAzurite,
        monkeypatch: pytest.MonkeyPatch) -> None:
    from azure.storage.blob import BlobServiceClient

    monkeypatch.setenv("RUNNER_RETRY_TOTAL_S", "3")  # the retries give up in seconds, not minutes
    service = BlobServiceClient.from_connection_string(private_azurite.connection_string)
    service.create_container(CONTAINER)
    spec = write_job(tmp_path, f"""
        name: az
        type: azure_blob
        account_name: {ACCOUNT}
        container_name: {CONTAINER}
        account_url: http://127.0.0.1:{private_azurite.port}/{ACCOUNT}
        credentials:
          account_key: {KEY}
        """, name="datastore.yml")
    cli(workspace_dir, "datastore", "create", "--file", str(spec), check=True)
    real, written, lock = AzureBlobStore.write_small, itertools.count(1), threading.Lock()

    def write_small(self: AzureBlobStore, path: str, data: bytes, md5: bytes | None) -> None:
        real(self, path, data, md5)
        with lock:
            if next(written) == 3:  # the storage goes away once three files are written
                private_azurite.stop()

    monkeypatch.setattr(AzureBlobStore, "write_small", write_small)
    job = command(command=f"for i in $(seq 1 {FILES}); do echo $i > ${{{{outputs.out}}}}/f$i.txt; done",
                  outputs={"out": Output(type="uri_folder", mode="upload", name="finalized-data", version="1",
                                         path="azureml://datastores/az/paths/out")},
                  environment="does-not-matter:1", compute="local-process")
    ws = Workspace(workspace_dir)
    jobs.JobOperations(ws).create_or_update(job, name="cut", stream=True, echo=lambda _chunk: None,
                                            quiet=True)
    monkeypatch.setattr(AzureBlobStore, "write_small", real)
    record = ws.get_job("cut")
    assert record.status is JobStatus.FAILED and record.exit_code == 0 and not record.registered_data
    staged = ws.job_dir("cut").outputs / "out"
    assert len(os.listdir(staged)) == FILES

    text = _one_error(cli(workspace_dir, "job", "download", "--name", "cut", "--output-name", "out",
                          "--download-path", str(tmp_path / "early")))
    assert "`runner job finalize --name cut` uploads it from there; or copy it" in text, text

    # the storage still away: a clear error, the data kept, the job as it was
    before = show(workspace_dir, "cut")["extra"]["outputs_not_durable"]
    assert before["out"]["total"] == FILES and 0 < before["out"]["failed"] <= FILES - 3
    text = _one_error(cli(workspace_dir, "job", "finalize", "--name", "cut"))
    assert "cannot connect to the storage service holding 'azureml://datastores/az/paths/out'" in text, text
    assert KEY not in text and len(os.listdir(staged)) == FILES
    after = show(workspace_dir, "cut")
    assert after["status"] == "Failed" and after["extra"]["outputs_not_durable"] == before

    private_azurite.start()
    done = cli(workspace_dir, "job", "finalize", "--name", "cut", "--output-name", "out")
    assert done.returncode == 0, done.stdout + done.stderr
    assert "cut: output 'out' uploaded" in done.stdout and "cut: Completed" in done.stdout
    assert "registered azureml:finalized-data:1" in done.stdout and KEY not in done.stdout + done.stderr
    container = service.get_container_client(CONTAINER)
    blobs = {b.name: container.download_blob(b.name).readall() for b in container.list_blobs("out/")}
    assert blobs == {f"out/f{i}.txt": f"{i}\n".encode() for i in range(1, FILES + 1)}
    record = show(workspace_dir, "cut")
    assert record["status"] == "Completed" and record["error"] is None and not record["outputs_partial"]
    assert record["registered_data"] == ["azureml:finalized-data:1"]
    assert "Completed" in record["extra"]["status_times"]
    assert record["extra"]["outputs_not_durable"] == {}
    notes = record["extra"]["finalized"]
    assert [n["outputs"] for n in notes] == [[], ["out"]] and notes[-1]["by"] == "runner job finalize"
    assert notes[-1]["status_before"] == "Failed" and notes[-1]["status"] == "Completed"
    assert "outputs could not be made durable" in notes[-1]["error_before"]
    assert not staged.exists() or not os.listdir(staged)
    version = DataRegistry(ws).get("finalized-data", version="1")
    assert version.path == "azureml://jobs/cut/outputs/out"
    dl = tmp_path / "dl"
    cli(workspace_dir, "job", "download", "--name", "cut", "--output-name", "out", "--download-path", str(dl),
        check=True)
    assert len(os.listdir(dl / "named-outputs" / "out")) == FILES
    text = _one_error(cli(workspace_dir, "job", "finalize", "--name", "cut"))
    assert "job 'cut' has no output to finalize: it completed" in text


@pytest.mark.azure
def test_a_held_back_output_is_uploaded_later_and_the_failed_job_stays_failed(
        workspace_dir: Path, tmp_path: Path, azure_container: Any) -> None:
    from azure.storage.blob import ContainerClient

    create_azure_datastore(workspace_dir, tmp_path, azure_container)
    job = write_job(tmp_path, """
        command: echo held > ${{outputs.u}}/u.txt && exit 2
        outputs:
          u: {type: uri_folder, mode: upload, path: "azureml://datastores/az/paths/held/u",
              name: held-data, version: "1"}
        compute: local-process
        environment:
          image: not-used:1
        """)
    result = cli(workspace_dir, "job", "create", "--file", str(job), "--stream", "--name", "held",
                 "--no-upload-on-failure")
    assert result.returncode == 1, result.stdout + result.stderr
    container = ContainerClient.from_connection_string(azure_container.azurite.connection_string,
                                                       azure_container.name)
    assert list(container.list_blobs("held/")) == []
    text = _one_error(cli(workspace_dir, "job", "download", "--name", "held", "--output-name", "u",
                          "--download-path", str(tmp_path / "dl")))
    assert "`runner job finalize --name held` uploads them from there" in text

    text = _one_error(cli(workspace_dir, "job", "finalize", "--name", "held", "--output-name", "nope"))
    assert "job 'held' has nothing to finalize for output(s) nope" in text and "artifacts, u" in text
    done = cli(workspace_dir, "job", "finalize", "--name", "held")
    assert done.returncode == 0, done.stdout + done.stderr
    assert "held: Failed" in done.stdout and "registered" not in done.stdout
    assert container.download_blob("held/u/u.txt").readall() == b"held\n"
    record = show(workspace_dir, "held")
    assert record["status"] == "Failed" and record["exit_code"] == 2 and record["registered_data"] == []
    assert "held_back_outputs" not in record["extra"]
    assert "output(s) artifacts, u uploaded later by `runner job finalize` at " in record["error"]
    assert azure_container.azurite.key not in done.stdout + done.stderr + str(record)


def test_local_datastore_outputs_are_moved_into_place_later(workspace_dir: Path, tmp_path: Path) -> None:
    job = write_job(tmp_path, """
        command: >-
          echo up > ${{outputs.u}}/u.txt && mkdir ${{outputs.r}}/deep && echo rw > ${{outputs.r}}/deep/r.txt
          && exit 1
        outputs:
          u: {type: uri_folder, mode: upload, path: "azureml://datastores/workspaceblobstore/paths/later/u"}
          r: {type: uri_folder, mode: rw_mount, path: "azureml://datastores/workspaceblobstore/paths/later/r"}
        compute: local-process
        environment:
          image: not-used:1
        """)
    result = cli(workspace_dir, "job", "create", "--file", str(job), "--stream", "--name", "loc",
                 "--no-upload-on-failure")
    assert result.returncode == 1, result.stdout + result.stderr
    assert not datastore_file(workspace_dir, "later").exists()
    done = cli(workspace_dir, "job", "finalize", "--name", "loc", "--output-name", "u", "--output-name", "r")
    assert done.returncode == 0, done.stdout + done.stderr
    assert datastore_file(workspace_dir, "later/u/u.txt").read_text() == "up\n"
    assert datastore_file(workspace_dir, "later/r/deep/r.txt").read_text() == "rw\n"
    record = show(workspace_dir, "loc")
    assert record["status"] == "Failed" and set(record["extra"]["held_back_outputs"]) == {"artifacts"}
    done = cli(workspace_dir, "job", "finalize", "--name", "loc")  # the rest: its artifacts
    assert done.returncode == 0 and "loc: output 'artifacts' uploaded" in done.stdout, done.stderr
    assert "held_back_outputs" not in show(workspace_dir, "loc")["extra"]


def test_a_staging_folder_that_is_a_link_is_not_followed(workspace_dir: Path, tmp_path: Path) -> None:
    job = write_job(tmp_path, """
        command: echo mine > ${{outputs.u}}/u.txt && exit 1
        outputs:
          u: {type: uri_folder, mode: upload, path: "azureml://datastores/workspaceblobstore/paths/linked/u"}
        compute: local-process
        environment:
          image: not-used:1
        """)
    result = cli(workspace_dir, "job", "create", "--file", str(job), "--stream", "--name", "lnk",
                 "--no-upload-on-failure")
    assert result.returncode == 1, result.stdout + result.stderr
    staged = workspace_dir / "jobs" / "lnk" / "outputs" / "u"
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    (elsewhere / "secret.txt").write_text("not the job's\n")
    for child in staged.iterdir():
        child.unlink()
    staged.rmdir()
    staged.symlink_to(elsewhere)
    text = _one_error(cli(workspace_dir, "job", "finalize", "--name", "lnk", "--output-name", "u"))
    assert "output 'u' of job 'lnk' has no staged data to upload" in text and "link" in text
    assert (elsewhere / "secret.txt").read_text() == "not the job's\n"
    assert not datastore_file(workspace_dir, "linked").exists()
    assert show(workspace_dir, "lnk")["extra"]["held_back_outputs"]["u"] == str(staged)


@pytest.mark.docker
def test_a_container_jobs_held_back_outputs_are_moved_in_later(workspace_dir: Path, tmp_path: Path,
                                                               docker_client: Any) -> None:
    """A container's artifacts are staged even on a local datastore: held back with the output, then moved
    into place by finalize with the output, the job's log among them."""
    job = write_job(tmp_path, """
        command: echo boxed > ${{outputs.u}}/u.txt && echo said && exit 4
        outputs:
          u: {type: uri_folder, mode: upload, path: "azureml://datastores/workspaceblobstore/paths/boxed/u"}
        environment:
          image: runner/busybox:latest
        """)
    result = cli(workspace_dir, "job", "create", "--file", str(job), "--stream", "--name", "box",
                 "--no-upload-on-failure")
    assert result.returncode == 1, result.stdout + result.stderr
    assert set(show(workspace_dir, "box")["extra"]["held_back_outputs"]) == {"artifacts", "u"}
    done = cli(workspace_dir, "job", "finalize", "--name", "box")
    assert done.returncode == 0 and "box: Failed" in done.stdout, done.stdout + done.stderr
    assert datastore_file(workspace_dir, "boxed/u/u.txt").read_text() == "boxed\n"
    logs = datastore_file(workspace_dir, "ExperimentRun/dcid.box/user_logs/std_log.txt")
    assert "said" in logs.read_text()
    record = show(workspace_dir, "box")
    assert record["status"] == "Failed" and record["exit_code"] == 4
    assert "held_back_outputs" not in record["extra"]
