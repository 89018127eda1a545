"""Every storage URL form Azure accepts, against Azurite: each maps to the registered datastore of its
account and container (its key and endpoint are used), a URL no datastore names is read anonymously
(public container; no credential chain), and a job's run-time errors say not found / access denied,
naming the input and the URL. Jobs run on the process backend (the host reads the blobs)."""

from __future__ import annotations

import logging
import textwrap
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from azure.storage.blob import BlobServiceClient
from jobs_support import cli, create_azure_datastore, show

from runner.modes import PathKind
from runner.workspace.db import Workspace
from runner.workspace.resolve import Resolver

pytestmark = pytest.mark.azure


def _service(azurite: Any) -> BlobServiceClient:
    return BlobServiceClient.from_connection_string(azurite.connection_string)


def _upload(azurite: Any, container: str, name: str, data: bytes) -> None:
    _service(azurite).get_blob_client(container, name).upload_blob(data, overwrite=True)


@pytest.fixture
def public_container(azurite: Any) -> Iterator[str]:
    """A container with anonymous read access (as Azure's open datasets are)."""
    name = f"pub{uuid.uuid4().hex[:20]}"
    _service(azurite).create_container(name, public_access="container")
    yield name
    _service(azurite).delete_container(name)


def forms(account: str, container: str, path: str) -> list[str]:
    return [f"wasbs://{container}@{account}.blob.core.windows.net/{path}",
            f"wasb://{container}@{account}.blob.core.windows.net/{path}",
            f"https://{account}.blob.core.windows.net/{container}/{path}",
            f"abfss://{container}@{account}.dfs.core.windows.net/{path}",
            f"azureml://subscriptions/s/resourceGroups/rg/workspaces/w/datastores/az/paths/{path}"]


def test_every_form_reads_through_the_datastore(workspace_dir: Path, tmp_path: Path,
                                                azure_container: Any) -> None:
    _upload(azure_container.azurite, azure_container.name, "iris/iris.csv", b"a,b\n1,2\n")
    create_azure_datastore(workspace_dir, tmp_path, azure_container)
    resolver = Resolver(Workspace(workspace_dir))
    for url in forms(azure_container.azurite.account, azure_container.name, "iris/iris.csv"):
        resolved = resolver.resolve(url, field="inputs.iris")
        assert resolved.uri == "azureml://datastores/az/paths/iris/iris.csv", url
        assert resolved.kind is PathKind.FILE and resolved.cache_key
        with resolved.fs.open(resolved.path, "rb") as handle:
            assert handle.read() == b"a,b\n1,2\n"
    folder = resolver.resolve(f"wasbs://{azure_container.name}@devstoreaccount1.blob.core.windows.net/iris")
    assert folder.kind is PathKind.FOLDER


def test_a_job_reads_a_wasbs_input_in_download_and_direct_modes(workspace_dir: Path, tmp_path: Path,
                                                               azure_container: Any) -> None:
    _upload(azure_container.azurite, azure_container.name, "iris.csv", b"sepal,petal\n5.1,1.4\n")
    create_azure_datastore(workspace_dir, tmp_path, azure_container)
    url = f"wasbs://{azure_container.name}@devstoreaccount1.blob.core.windows.net/iris.csv"
    job = tmp_path / "job.yml"
    job.write_text(textwrap.dedent(f"""\
        command: >-
          cat ${{{{inputs.local}}}} &&
          python -c "import sys, fsspec; print(fsspec.open(sys.argv[1]).open().read().decode())"
          ${{{{inputs.remote}}}}
        inputs:
          local: {{type: uri_file, path: "{url}", mode: download}}
          remote: {{type: uri_file, path: "{url}", mode: direct}}
        environment: python:3.11
        compute: local-process
        """))
    result = cli(workspace_dir, "job", "create", "--file", str(job), "--name", "wasbs-job", "--stream")
    assert result.returncode == 0, result.stderr
    assert result.stdout.count("sepal,petal") == 2
    record = show(workspace_dir, "wasbs-job")
    assert record["inputs"]["local"] == "azureml://datastores/az/paths/iris.csv"


def test_no_datastore_means_anonymous_access(workspace_dir: Path, azurite: Any, public_container: str,
                                             caplog: pytest.LogCaptureFixture) -> None:
    _upload(azurite, public_container, "open/iris.csv", b"open data\n")
    url = f"{azurite.blob_endpoint}/{public_container}/open/iris.csv"  # path-style, as emulators serve it
    with caplog.at_level(logging.DEBUG):
        resolved = Resolver(Workspace(workspace_dir)).resolve(url)
    assert resolved.uri == url and resolved.kind is PathKind.FILE
    with resolved.fs.open(resolved.path, "rb") as handle:
        assert handle.read() == b"open data\n"
    assert not [r for r in caplog.records if r.name.startswith("azure.identity")]  # no credential chain
    assert "AccountKey" not in resolved.env["AZURE_STORAGE_CONNECTION_STRING"]


def test_run_time_errors_name_the_input_and_url(workspace_dir: Path, tmp_path: Path, azurite: Any,
                                               azure_container: Any, public_container: str) -> None:
    """A private container read anonymously: access denied; a missing blob: does not exist."""
    private = f"{azurite.blob_endpoint}/{azure_container.name}/secret.csv"
    _upload(azurite, azure_container.name, "secret.csv", b"x")
    missing = f"{azurite.blob_endpoint}/{public_container}/nothing-here.csv"
    for name, url, expected in (("denied", private, f"inputs.data: access to '{private}' was denied"),
                                ("missing", missing, f"inputs.data: '{missing}' does not exist")):
        job = tmp_path / f"{name}.yml"
        job.write_text("command: cat ${{inputs.data}}\nenvironment: python:3.11\ncompute: local-process\n"
                       f"inputs:\n  data: {{type: uri_file, path: '{url}', mode: download}}\n")
        validated = cli(workspace_dir, "job", "validate", "--file", str(job))
        assert validated.returncode == 0, validated.stderr  # nothing is read before the run
        result = cli(workspace_dir, "job", "create", "--file", str(job), "--name", name, "--stream")
        assert result.returncode == 1
        record = show(workspace_dir, name)
        assert record["status"] == "Failed" and record["error"].startswith(expected), record["error"]
