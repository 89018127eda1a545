"""A job whose input is on an Azure endpoint nothing listens on (a closed 127.0.0.1 port: Azurite not
running, a wrong account URL) fails, when it runs, with the one clear "cannot connect" error naming what
the user gave (the URL, or the datastore), once the retry window is spent (``RUNNER_RETRY_TOTAL_S``,
shortened here: a refused connection may be a storage restart, retried from the first request on): an
archive chain over Azure (``zip://a.txt::abfs://c/d.zip``, read by fsspec as it makes the filesystem) and a
datastore's path. The process backend: no container, no service needed."""

from __future__ import annotations

import socket
from pathlib import Path

import pytest
from jobs_support import cli, write_job

KEY = "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw=="


pytestmark = pytest.mark.usefixtures("short_retry_window")  # a closed port: said in seconds


def _closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.mark.parametrize(("path", "hint"), [
    ("zip://a.txt::abfs://c/d.zip", "check the URL's host and port"),
    ("azureml://datastores/down/paths/a.txt", "account_url / endpoint of datastore 'down'"),
])
def test_an_unreachable_azure_input_is_one_clear_error(workspace_dir: Path, tmp_path: Path, path: str,
                                                       hint: str) -> None:
    endpoint = f"http://127.0.0.1:{_closed_port()}/devstoreaccount1"
    datastore = write_job(tmp_path, f"""\
        name: down
        type: azure_blob
        account_name: devstoreaccount1
        container_name: c
        account_url: {endpoint}
        credentials:
          account_key: {KEY}
        """, name="datastore.yml")
    cli(workspace_dir, "datastore", "create", "--file", str(datastore), check=True)
    job = write_job(tmp_path, f"""\
        command: cat ${{{{inputs.d}}}}
        environment: python:3.11
        inputs:
          d: {{type: uri_file, path: "{path}", mode: download}}
        """)
    env = {"AZURE_STORAGE_CONNECTION_STRING": f"DefaultEndpointsProtocol=http;AccountName=devstoreaccount1;"
                                              f"AccountKey={KEY};BlobEndpoint={endpoint};"}
    ran = cli(workspace_dir, "job", "create", "--file", str(job), "--stream", "--backend", "process", env=env)
    shown = ran.stdout + ran.stderr
    assert ran.returncode != 0, shown
    assert f"cannot connect to the storage service holding '{path}' (" in shown, shown
    assert endpoint.split("//")[1].split("/")[0] in shown and hint in shown, shown  # 127.0.0.1:<port>
    assert "Traceback" not in shown and "internal error" not in shown, shown
