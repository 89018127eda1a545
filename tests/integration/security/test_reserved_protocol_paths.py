"""A user never writes the runner's own protocol names (``runner-abfs://``, ``runner-az://``,
``runner-abfss://``: the retrying adlfs the runner registers in its process for its Azure reads). The
review's repro: with an Azure input (abfs://) in the job, those names were registered and an output at
``runner-abfs://<container>/azureml/victim/x`` was written, past the job-folder rule that refuses the same
place as azureml://datastores/blob/paths/..., abfs:// or az://. Now ``job validate`` and ``job create``
each end with one error at the output's ``path:`` line (exit 2), saying to write abfs://, az:// or
abfss://; nothing is written. Everything is this test's own: its workspace in tmp_path, its container on
Azurite (deleted afterwards)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from jobs_support import cli, create_azure_datastore, write_job

pytestmark = pytest.mark.azure


def _blobs(azure_container: Any) -> dict[str, bytes]:
    from azure.storage.blob import ContainerClient

    container = ContainerClient.from_connection_string(azure_container.azurite.connection_string,
                                                      azure_container.name)
    return {b.name: container.download_blob(b.name).readall() for b in container.list_blobs()}


@pytest.mark.parametrize("output", ["runner-abfs://{c}/azureml/victim/x", "runner-az://{c}/azureml/victim/x",
                                    "simplecache::runner-abfs://{c}/elsewhere/x"])
def test_a_runner_only_protocol_in_a_path_is_refused_at_its_line(
        workspace_dir: Path, tmp_path: Path, azure_container: Any, output: str) -> None:
    from azure.storage.blob import ContainerClient

    ws, c = workspace_dir, azure_container.name
    create_azure_datastore(ws, tmp_path, azure_container, name="blob")
    ContainerClient.from_connection_string(azure_container.azurite.connection_string, c).upload_blob(
        "in/a.txt", b"input")
    before = _blobs(azure_container)
    path = output.format(c=c)
    job = write_job(tmp_path, f"""
        command: echo FORGED > ${{{{outputs.out}}}}/f
        inputs:
          a: {{type: uri_folder, mode: download, path: "abfs://{c}/in"}}
        outputs:
          out: {{type: uri_folder, mode: upload, path: "{path}"}}
        environment: {{image: runner/busybox:latest}}
        """, name="forge.yml")
    env = {"AZURE_STORAGE_CONNECTION_STRING": azure_container.azurite.connection_string}
    for verb in (("validate",), ("create", "--stream", "--name", "forger")):
        result = cli(ws, "job", *verb, "--file", str(job), env=env)
        err = result.stderr
        assert result.returncode == 2, result.stdout + err
        assert err.count("error:") == 1 and "Traceback" not in err, err
        assert "forge.yml:5:" in err and "outputs.out.path" in err, err
        assert "runner-a" in err and "a path or URL may not use it" in err, err
        assert "hint:" in err and "abfs://, az:// or abfss://" in err, err
    assert cli(ws, "job", "show", "--name", "forger").returncode != 0  # nothing was recorded
    assert _blobs(azure_container) == before  # nothing was written
