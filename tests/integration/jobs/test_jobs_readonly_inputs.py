"""Inputs are read-only for real: a job tries to write into its input (create a file, overwrite one,
delete one) from a real container and from a real host process (``--backend process``), in every input
mode the matrix allows for a model folder (download, ro_mount, direct), with the model registered on the
local default datastore and on an Azure Blob datastore (Azurite). Every write must be refused, and the
registered model, on its datastore and in the download cache, must be byte-identical afterwards.

``direct`` on Azure is left out: the job gets the URI and the datastore's credentials and opens the store
itself, so what it may write is what the credentials allow (as in Azure ML), not something the runner
can refuse.

Today the process backend hands a job the registry's own folder (``ro_mount``/``direct`` on a local
datastore) or hard links into it or into the cache (``download``), and root writes there: issue 20
fixes that. Those cases are strict xfails, so they turn into failures the moment the fix lands (the fixer
removes the marks).
"""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path
from typing import Any

import pytest
from jobs_support import cli, create_azure_datastore, datastore_file, make_tree, sha256_tree, write_job

MODEL = {"MLmodel": b"flavors: {}\n", "weights.bin": os.urandom(300_000), "sub/config.json": b'{"a": 1}\n'}

# The job probes each kind of write and prints one line per probe with the shell's error (or "allowed").
PROBE = r"""
probe() {
  what=$1; shift
  if err=$( { "$@"; } 2>&1 ); then echo "WRITE $what allowed"; else echo "WRITE $what refused: $err"; fi
}
probe create sh -c 'echo new > "$0/new.txt"' ${{inputs.m}}
probe overwrite sh -c 'echo tampered > "$0/weights.bin"' ${{inputs.m}}
probe append sh -c 'echo tampered >> "$0/sub/config.json"' ${{inputs.m}}
probe delete rm "${{inputs.m}}/MLmodel"
probe mkdir mkdir "${{inputs.m}}/newdir"
echo PROBED
"""
PROBES = ("create", "overwrite", "append", "delete", "mkdir")

ISSUE_20 = pytest.mark.xfail(strict=True, reason="issue 20: the process backend hands the job the "
                             "registry's own folder or hard links into it (or into the download cache), "
                             "writable by root")


def _probe_job(tmp_path: Path, mode: str, backend: str, name: str) -> Path:
    """A job that runs ``PROBE`` against model ``m:1`` as input ``m`` in ``mode``."""
    command = "\n".join("  " + line for line in PROBE.strip().splitlines())
    compute = "compute: local-process\n" if backend == "process" else ""
    return write_job(tmp_path, f"command: |\n{command}\n"
                               f"inputs:\n  m: {{type: custom_model, path: 'azureml:m:1', mode: {mode}}}\n"
                               f"{compute}environment:\n  image: runner/busybox:latest\n", name=f"{name}.yml")


def _probes(stdout: str) -> dict[str, str]:
    assert "PROBED" in stdout, stdout
    found = {}
    for line in stdout.splitlines():
        if line.startswith("WRITE "):
            what, outcome = line[len("WRITE "):].split(" ", 1)
            found[what] = outcome
    assert set(found) == set(PROBES), stdout
    return found


def _cache_trees(ws: Path) -> dict[str, dict[str, str]]:
    """key -> SHA-256 of every file of every download-cache entry of the workspace."""
    entries = ws / "cache" / "entries"
    found = {}
    for meta in sorted(entries.glob("*/entry.json")) if entries.is_dir() else []:
        found[json.loads(meta.read_text())["key"]] = sha256_tree(meta.parent / "data")
    return found


def _register_local(ws: Path, tmp_path: Path) -> Any:
    make_tree(tmp_path / "model", MODEL)
    cli(ws, "model", "create", "--name", "m", "--version", "1", "--type", "custom_model",
        "--path", str(tmp_path / "model"), check=True)
    folder = datastore_file(ws, "LocalUpload/m/1/model")
    assert sha256_tree(folder) == _expected()
    return lambda: sha256_tree(folder)


def _register_azure(ws: Path, tmp_path: Path, azure_container: Any) -> Any:
    from azure.storage.blob import ContainerClient

    container = ContainerClient.from_connection_string(azure_container.azurite.connection_string,
                                                       azure_container.name)
    for rel, data in MODEL.items():
        container.upload_blob(f"models/m/{rel}", data)
    create_azure_datastore(ws, tmp_path, azure_container)
    cli(ws, "model", "create", "--name", "m", "--version", "1", "--type", "custom_model",
        "--path", "azureml://datastores/az/paths/models/m", check=True)

    def blobs() -> dict[str, str]:
        return {b.name[len("models/m/"):]:
                hashlib.sha256(container.download_blob(b.name).readall()).hexdigest()
                for b in container.list_blobs("models/m/")}

    return blobs


def _expected() -> dict[str, str]:
    return {rel: hashlib.sha256(data).hexdigest() for rel, data in MODEL.items()}


CASES = [
    # (backend, store, mode), marks
    pytest.param("docker", "local", "download", marks=pytest.mark.docker),
    pytest.param("docker", "local", "ro_mount", marks=pytest.mark.docker),
    pytest.param("docker", "local", "direct", marks=pytest.mark.docker),
    pytest.param("docker", "azure", "download", marks=[pytest.mark.docker, pytest.mark.azure]),
    pytest.param("docker", "azure", "ro_mount",
                 marks=[pytest.mark.docker, pytest.mark.azure, pytest.mark.fuse]),
    pytest.param("process", "local", "download", marks=ISSUE_20),
    pytest.param("process", "local", "ro_mount", marks=ISSUE_20),
    pytest.param("process", "local", "direct", marks=ISSUE_20),
    pytest.param("process", "azure", "download", marks=[pytest.mark.azure, ISSUE_20]),
    pytest.param("process", "azure", "ro_mount", marks=[pytest.mark.azure, pytest.mark.fuse]),
]


@pytest.mark.parametrize(("backend", "store", "mode"), CASES)
def test_a_job_cannot_write_into_its_input(request: pytest.FixtureRequest, workspace_dir: Path,
                                          tmp_path: Path, backend: str, store: str, mode: str) -> None:
    ws = workspace_dir
    if backend == "docker":
        request.getfixturevalue("docker_client")
    if store == "azure" and mode == "ro_mount":
        request.getfixturevalue("fuse_available")
    source = _register_local(ws, tmp_path) if store == "local" else \
        _register_azure(ws, tmp_path, request.getfixturevalue("azure_container"))
    name = f"ro-{backend}-{store}-{mode}".replace("_", "-")
    job = _probe_job(tmp_path, mode, backend, name)
    result = cli(ws, "job", "create", "--file", str(job), "--stream", "--name", name)
    assert result.returncode == 0, result.stdout + result.stderr
    probes = _probes(result.stdout)
    allowed = sorted(what for what, outcome in probes.items() if outcome == "allowed")
    assert allowed == [], f"the job wrote into its {mode} input: {allowed}\n{result.stdout}"
    if backend == "docker":  # a read-only bind (over a copy, a cache entry or a FUSE mount)
        assert all("Read-only file system" in outcome for outcome in probes.values()), probes
    assert source() == _expected(), "the registered model changed"
    for key, tree in _cache_trees(ws).items():
        assert tree == _expected(), f"cache entry {key} changed"


@pytest.mark.docker
@pytest.mark.azure
def test_a_container_writing_into_its_cached_download_input_gets_erofs_and_the_cache_stays_intact(
        workspace_dir: Path, tmp_path: Path, docker_client: Any, azure_container: Any) -> None:
    """The second job gets the model from the cache (hard links, bound read-only): its writes fail
    with EROFS, the entry is neither changed nor dropped, and a third job still reads the original."""
    ws = workspace_dir
    _register_azure(ws, tmp_path, azure_container)
    reader = write_job(tmp_path, """
        command: cat ${{inputs.m}}/sub/config.json
        inputs:
          m: {type: custom_model, path: "azureml:m:1", mode: download}
        environment:
          image: runner/busybox:latest
        """, name="reader.yml")
    cli(ws, "job", "create", "--file", str(reader), "--stream", "--name", "fill", check=True)
    entries = ws / "cache" / "entries"
    [meta] = list(entries.glob("*/entry.json"))
    before = (json.loads(meta.read_text()), sha256_tree(meta.parent / "data"))
    assert before[0]["key"] == "model:m:1" and before[1] == _expected()

    writer = _probe_job(tmp_path, "download", "docker", "writer")
    result = cli(ws, "job", "create", "--file", str(writer), "--stream", "--name", "writer")
    assert result.returncode == 0, result.stdout + result.stderr
    probes = _probes(result.stdout)
    assert all(outcome.startswith("refused") and "Read-only file system" in outcome
               for outcome in probes.values()), probes
    assert (json.loads(meta.read_text()), sha256_tree(meta.parent / "data")) == before  # same entry
    again = cli(ws, "job", "create", "--file", str(reader), "--stream", "--name", "again", check=True)
    assert '{"a": 1}' in again.stdout and "tampered" not in again.stdout
