"""A storage outage in the middle of an output's upload, on a private Azurite (stopped once three of the
job's 40 files have reached it, for longer than the retries last): the job fails, its staged data kept;
once the storage is back, `runner job download` (one output, and --all) and `runner model create` /
``ml_client.data.create_or_update`` of ``azureml://jobs/<job>/outputs/out`` refuse with one error that
says the output was not fully uploaded, how many of its files could not be, and where its whole data is
kept, rather than handing over or registering the few files that got there as if they were the output.

The outage is forced, not timed: the store's upload of a small file stops Azurite (the private one of this
test, never the shared one) right after the third one is written. The job runs in this process
(local-process) so that the fault can be put there; everything else is the CLI a user runs."""

from __future__ import annotations

import itertools
import os
import re
import threading
from pathlib import Path
from typing import Any

import pytest
from jobs_support import cli, write_job
from private_azurite import ACCOUNT, KEY, PrivateAzurite

from mounts.stores.azure import AzureBlobStore
from runner import Output, command
from runner.client import MLClient
from runner.errors import RegistryError
from runner.jobs import operations as jobs
from runner.spec.data import Data
from runner.workspace.db import JobStatus, Workspace

pytestmark = pytest.mark.azure

FILES = 40
CONTAINER = "cutshort"


@pytest.fixture
def outage_after_three(private_azurite: PrivateAzurite, monkeypatch: pytest.MonkeyPatch) -> None:
    """The storage goes away once three files are written, until the test starts it again."""
    monkeypatch.setenv("RUNNER_RETRY_TOTAL_S", "3")  # the retries give up in seconds, not minutes
    real = AzureBlobStore.write_small
    written = itertools.count(1)
    lock = threading.Lock()

    def write_small(self: AzureBlobStore, path: str, data: bytes, md5: bytes | None) -> None:
        real(self, path, data, md5)
        with lock:
            if next(written) == 3:
                private_azurite.stop()

    monkeypatch.setattr(AzureBlobStore, "write_small", write_small)


def _datastore(ws: Path, folder: Path, server: PrivateAzurite) -> None:
    from azure.storage.blob import BlobServiceClient

    BlobServiceClient.from_connection_string(server.connection_string).create_container(CONTAINER)
    spec = write_job(folder, f"""
        name: az
        type: azure_blob
        account_name: {ACCOUNT}
        container_name: {CONTAINER}
        account_url: http://127.0.0.1:{server.port}/{ACCOUNT}
        credentials:
          account_key: {KEY}
        """, name="datastore.yml")
    cli(ws, "datastore", "create", "--file", str(spec), check=True)


def _blobs(server: PrivateAzurite, prefix: str) -> list[str]:
    from azure.storage.blob import BlobServiceClient

    container = BlobServiceClient.from_connection_string(server.connection_string).get_container_client(
        CONTAINER)
    return sorted(b.name for b in container.list_blobs(name_starts_with=prefix))


def _one_error(result: Any) -> str:
    assert result.returncode != 0, result.stdout
    assert "Traceback" not in result.stderr and "internal error" not in result.stderr, result.stderr
    return str(result.stderr)


def test_an_upload_cut_short_by_an_outage_is_neither_downloaded_nor_registered(
        workspace_dir: Path, tmp_path: Path, private_azurite: PrivateAzurite, outage_after_three: None
) -> None:
    _datastore(workspace_dir, tmp_path, private_azurite)
    job = command(command=f"for i in $(seq 1 {FILES}); do echo $i > ${{{{outputs.out}}}}/f$i.txt; done",
                  outputs={"out": Output(type="uri_folder", mode="upload",
                                         path="azureml://datastores/az/paths/out")},
                  environment="does-not-matter:1", compute="local-process")
    ws = Workspace(workspace_dir)
    jobs.JobOperations(ws).create_or_update(job, name="out1", stream=True, echo=lambda _chunk: None,
                                            quiet=True)
    record = ws.get_job("out1")
    assert record.status is JobStatus.FAILED and record.exit_code == 0  # the command wrote all 40
    staged = ws.job_dir("out1").outputs / "out"
    assert len(os.listdir(staged)) == FILES  # kept whole

    private_azurite.start()  # the storage is back: what got there is readable, and is not the output
    uploaded = len(_blobs(private_azurite, "out/"))
    assert 3 <= uploaded < FILES

    dl = tmp_path / "dl"
    text = _one_error(cli(workspace_dir, "job", "download", "--name", "out1", "--output-name", "out",
                          "--download-path", str(dl)))
    assert "output 'out' was not fully uploaded" in text and "never uploaded" not in text
    said = re.search(rf"\((\d+) of {FILES} files could not be uploaded\)", text)
    assert said is not None, text  # as the runner counted them: a write cut off may have landed all the same
    assert FILES - uploaded <= int(said.group(1)) <= FILES - 3
    assert f"its whole data is kept in {staged} ({FILES} files)" in text
    assert f"cp -r {staged} DEST" in text and "run the job again" in text
    assert not (dl / "named-outputs").exists()

    text = _one_error(cli(workspace_dir, "job", "download", "--name", "out1", "--all",
                          "--download-path", str(dl)))
    assert "output 'out' was not fully uploaded" in text and f"downloaded: {dl / 'artifacts'}" in text
    assert not (dl / "named-outputs").exists()

    text = _one_error(cli(workspace_dir, "model", "create", "--name", "m", "--path",
                          "azureml://jobs/out1/outputs/out"))
    assert "output 'out' was not fully uploaded" in text and str(staged) in text
    assert "may be partial" not in text
    assert "m" not in [m.name for m in MLClient(workspace_dir=workspace_dir).models.list()]

    with pytest.raises(RegistryError, match="output 'out' was not fully uploaded"):
        MLClient(workspace_dir=workspace_dir).data.create_or_update(
            Data(name="d", path="azureml://jobs/out1/outputs/out", type="uri_folder"))
