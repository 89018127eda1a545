"""The download content cache through real jobs (local-process: each job gets its input through a
read-only FUSE view, hence the fuse marker): a model version on an Azure Blob datastore is fetched
by its first job only; later jobs get it from the cache (a version's content never changes); a datastore
file changed in place is fetched fresh by the next job (its key names its etag, or mtime and size)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from jobs_support import cli, create_azure_datastore, write_job


def _register_model(ws: Path, tmp_path: Path, azure_container: Any) -> Any:
    """A datastore on the test's container, and model ``folded:1`` as a folder on it."""
    from azure.storage.blob import ContainerClient

    container = ContainerClient.from_connection_string(azure_container.azurite.connection_string,
                                                       azure_container.name)
    container.upload_blob("models/folded/MLmodel", b"flavors: {}\n")
    container.upload_blob("models/folded/weights/w.txt", b"weights v1\n")
    create_azure_datastore(ws, tmp_path, azure_container)
    cli(ws, "model", "create", "--name", "folded", "--version", "1", "--type", "custom_model",
        "--path", "azureml://datastores/az/paths/models/folded", check=True)
    return container


def _model_job(tmp_path: Path, command: str, name: str = "job.yml") -> Path:
    """A local-process job running ``command`` with model ``folded:1`` downloaded as ``inputs.model``."""
    return write_job(tmp_path, f"""
        command: {command}
        inputs:
          model:
            type: custom_model
            path: azureml:folded:1
            mode: download
        compute: local-process
        environment:
          image: runner/busybox:latest
        """, name=name)


def _cache_keys(ws: Path) -> list[str]:
    return [row["key"] for row in json.loads(cli(ws, "cache", "list", "-o", "json", check=True).stdout)]


@pytest.mark.azure
@pytest.mark.fuse
def test_a_model_folder_is_downloaded_by_the_first_job_only(workspace_dir: Path, tmp_path: Path,
                                                            azure_container: Any) -> None:
    ws = workspace_dir
    container = _register_model(ws, tmp_path, azure_container)
    job = _model_job(tmp_path, "cat ${{inputs.model}}/weights/w.txt")
    first = cli(ws, "job", "create", "--file", str(job), "--stream", "--name", "cache1")
    assert first.returncode == 0, first.stdout + first.stderr
    assert "weights v1" in first.stdout
    assert _cache_keys(ws) == ["model:folded:1"]

    # Same size, other bytes, behind the registry's back: only a download would see them.
    container.upload_blob("models/folded/weights/w.txt", b"WEIGHTS V1\n", overwrite=True)
    second = cli(ws, "job", "create", "--file", str(job), "--stream", "--name", "cache2")
    assert second.returncode == 0, second.stdout + second.stderr
    assert "weights v1" in second.stdout  # linked from the cache: no request for the content
    assert _cache_keys(ws) == ["model:folded:1"]

    # The same folder as a plain path has no content identity, so it is fetched fresh.
    plain = write_job(tmp_path, """
        command: cat ${{inputs.data}}/weights/w.txt
        inputs:
          data:
            type: uri_folder
            path: azureml://datastores/az/paths/models/folded
            mode: download
        compute: local-process
        environment:
          image: runner/busybox:latest
        """, name="plain.yml")
    third = cli(ws, "job", "create", "--file", str(plain), "--stream", "--name", "cache3")
    assert third.returncode == 0, third.stdout + third.stderr
    assert "WEIGHTS V1" in third.stdout


@pytest.mark.azure
@pytest.mark.fuse
def test_a_job_writing_into_its_cached_input_does_not_change_the_next_jobs(
        workspace_dir: Path, tmp_path: Path, azure_container: Any) -> None:
    """A local-process job runs as this user (root here, for whom read-only files are writable): its
    download input is the cache entry seen through a read-only mount, so what it tries to write there
    is refused (EROFS) and never reaches the next job."""
    ws = workspace_dir
    _register_model(ws, tmp_path, azure_container)
    writer = _model_job(tmp_path, "if echo tampered > ${{inputs.model}}/weights/w.txt; then echo WROTE; "
                                  "else echo REFUSED; fi; rm -f ${{inputs.model}}/weights/w.txt; "
                                  "chmod 777 ${{inputs.model}}/weights/w.txt; "
                                  "cat ${{inputs.model}}/weights/w.txt")
    first = cli(ws, "job", "create", "--file", str(writer), "--stream", "--name", "writer")
    assert first.returncode == 0, first.stdout + first.stderr
    assert "REFUSED" in first.stdout and "WROTE" not in first.stdout
    assert "Read-only file system" in first.stdout and "weights v1" in first.stdout
    reader = _model_job(tmp_path, "cat ${{inputs.model}}/weights/w.txt", name="reader.yml")
    second = cli(ws, "job", "create", "--file", str(reader), "--stream", "--name", "reader")
    assert second.returncode == 0, second.stdout + second.stderr
    assert "weights v1" in second.stdout and "tampered" not in second.stdout
    assert _cache_keys(ws) == ["model:folded:1"]  # the same entry: it never changed


def _file_job(tmp_path: Path, path: str) -> Path:
    return write_job(tmp_path, f"""
        command: cat ${{{{inputs.f}}}}
        inputs:
          f: {{type: uri_file, path: "{path}", mode: download}}
        compute: local-process
        environment:
          image: runner/busybox:latest
        """, name="file.yml")


@pytest.mark.fuse
@pytest.mark.parametrize("store", [pytest.param("azure", marks=pytest.mark.azure), "local"])
def test_a_datastore_file_changed_in_place_is_fetched_fresh_by_the_next_job(
        request: pytest.FixtureRequest, workspace_dir: Path, tmp_path: Path, store: str) -> None:
    """Same name, same size, other bytes: the next job reads the new bytes (not a cached copy)."""
    ws = workspace_dir
    if store == "azure":
        from azure.storage.blob import ContainerClient

        azure_container = request.getfixturevalue("azure_container")
        container = ContainerClient.from_connection_string(azure_container.azurite.connection_string,
                                                           azure_container.name)
        container.upload_blob("data/f.txt", b"version one\n")
        create_azure_datastore(ws, tmp_path, azure_container)
        job = _file_job(tmp_path, "azureml://datastores/az/paths/data/f.txt")

        def change() -> None:
            container.upload_blob("data/f.txt", b"VERSION TWO\n", overwrite=True)
    else:
        local = ws / "datastores" / "workspaceblobstore" / "data" / "f.txt"
        local.parent.mkdir(parents=True)
        local.write_bytes(b"version one\n")
        job = _file_job(tmp_path, "azureml://datastores/workspaceblobstore/paths/data/f.txt")

        def change() -> None:
            with local.open("r+b") as handle:  # in place: the same inode
                handle.write(b"VERSION TWO\n")

    first = cli(ws, "job", "create", "--file", str(job), "--stream", "--name", "read1")
    assert first.returncode == 0, first.stdout + first.stderr
    assert "version one" in first.stdout
    keys = _cache_keys(ws)
    change()
    second = cli(ws, "job", "create", "--file", str(job), "--stream", "--name", "read2")
    assert second.returncode == 0, second.stdout + second.stderr
    assert "VERSION TWO" in second.stdout and "version one" not in second.stdout
    if store == "azure":  # one entry per etag: the new content has a key of its own
        assert len(keys) == 1 and len(_cache_keys(ws)) == 2 and keys[0] in _cache_keys(ws)


@pytest.mark.azure
@pytest.mark.fuse
def test_a_cache_entry_changed_behind_the_caches_back_is_fetched_again_by_the_next_job(
        workspace_dir: Path, tmp_path: Path, azure_container: Any) -> None:
    """Someone (not a job: jobs get the entry read-only) rewrites a cached file in place, same size and
    modification time: the next job reads the model's real content, fetched again."""
    import os

    ws = workspace_dir
    _register_model(ws, tmp_path, azure_container)
    job = _model_job(tmp_path, "cat ${{inputs.model}}/weights/w.txt")
    first = cli(ws, "job", "create", "--file", str(job), "--stream", "--name", "fill")
    assert first.returncode == 0 and "weights v1" in first.stdout, first.stdout + first.stderr
    [cached] = list((ws / "cache" / "entries").glob("*/data/weights/w.txt"))
    before = cached.stat()
    cached.chmod(0o644)
    cached.write_bytes(b"WEIGHTS V2\n")  # same size
    os.utime(cached, ns=(before.st_atime_ns, before.st_mtime_ns))  # and the same mtime
    second = cli(ws, "job", "create", "--file", str(job), "--stream", "--name", "after")
    assert second.returncode == 0, second.stdout + second.stderr
    assert "weights v1" in second.stdout and "WEIGHTS V2" not in second.stdout
    assert _cache_keys(ws) == ["model:folded:1"]
