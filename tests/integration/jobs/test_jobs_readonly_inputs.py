"""Inputs are read-only for real: a job tries to write into its input (create a file, overwrite one,
delete one) from a real container and from a real host process (``--backend process``), in every input
mode the matrix allows for a model folder (download, ro_mount, direct), with the model registered on the
local default datastore and on an Azure Blob datastore (Azurite). Every write must be refused, and the
registered model, on its datastore and in the download cache, must be byte-identical afterwards.

``direct`` on Azure gets the URL and credentials narrowed to reading: the job's write through them is
refused by the store. A remote folder that cannot be cached is downloaded into the job's own folder:
bound read-only into a container, a host process's own copy (docs/design/guarantees.md), whose writes
never reach the store.

Until issue 20 the process backend handed a job the registry's own folder (``ro_mount``/``direct`` on a
local datastore) or hard links into it or into the cache (``download``), and root wrote there; those
cases were strict xfails until the fix (read-only views for host processes) landed.
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

def _probe_job(tmp_path: Path, mode: str, backend: str, name: str, folder: str | None = None) -> Path:
    """A job that runs ``PROBE`` against model ``m:1`` (or a plain ``folder`` URI) as input ``m``."""
    command = "\n".join("  " + line for line in PROBE.strip().splitlines())
    compute = "compute: local-process\n" if backend == "process" else ""
    source = f"type: uri_folder, path: '{folder}'" if folder else "type: custom_model, path: 'azureml:m:1'"
    return write_job(tmp_path, f"command: |\n{command}\n"
                               f"inputs:\n  m: {{{source}, mode: {mode}}}\n"
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
    # a plain folder (not a model version): no cache key, downloaded into the job's own data/ (bound
    # read-only into a container; a host process's own copy, see test_a_host_process_may_write_its_own_copy)
    pytest.param("docker", "azure-folder", "download", marks=[pytest.mark.docker, pytest.mark.azure]),
    # a host process gets a read-only FUSE view of a local path or a cache entry
    pytest.param("process", "local", "download", marks=pytest.mark.fuse),
    pytest.param("process", "local", "ro_mount", marks=pytest.mark.fuse),
    pytest.param("process", "local", "direct", marks=pytest.mark.fuse),
    pytest.param("process", "azure", "download", marks=[pytest.mark.azure, pytest.mark.fuse]),
    pytest.param("process", "azure", "ro_mount", marks=[pytest.mark.azure, pytest.mark.fuse]),
]


@pytest.mark.parametrize(("backend", "store", "mode"), CASES)
def test_a_job_cannot_write_into_its_input(request: pytest.FixtureRequest, workspace_dir: Path,
                                          tmp_path: Path, backend: str, store: str, mode: str) -> None:
    ws = workspace_dir
    if backend == "docker":
        request.getfixturevalue("docker_client")
    if request.node.get_closest_marker("fuse") is not None:
        request.getfixturevalue("fuse_available")
    source = _register_local(ws, tmp_path) if store == "local" else \
        _register_azure(ws, tmp_path, request.getfixturevalue("azure_container"))
    name = f"ro-{backend}-{store}-{mode}".replace("_", "-")
    folder = "azureml://datastores/az/paths/models/m" if store == "azure-folder" else None
    job = _probe_job(tmp_path, mode, backend, name, folder)
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


@pytest.mark.azure
def test_a_host_process_may_write_its_own_copy_of_an_uncacheable_download_but_not_the_source(
        workspace_dir: Path, tmp_path: Path, azure_container: Any) -> None:
    """docs/design/guarantees.md: a remote folder with no content identity is downloaded into the job's
    own folder; a host process gets that copy as it is. Its writes stay there: the store is unchanged."""
    ws = workspace_dir
    source = _register_azure(ws, tmp_path, azure_container)
    job = _probe_job(tmp_path, "download", "process", "own-copy", "azureml://datastores/az/paths/models/m")
    result = cli(ws, "job", "create", "--file", str(job), "--stream", "--name", "own-copy")
    assert result.returncode == 0, result.stdout + result.stderr
    assert _probes(result.stdout)["overwrite"] == "allowed"  # its own copy
    assert source() == _expected()
    assert not (ws / "jobs" / "own-copy" / "inputs").exists()  # and the copy is gone with the job


# A job that tries to write through the direct input's URL with the credentials it was given.
DIRECT_WRITE = """python -c "
import fsspec, sys
fs, root = fsspec.core.url_to_fs(sys.argv[1])
print('DIRECT read', sorted(p.rsplit('/', 1)[-1] for p in fs.ls(root, detail=False)))
try:
    fs.pipe_file(root.rstrip('/') + '/sub/config.json', b'tampered')
    print('DIRECT write allowed')
except Exception as exc:
    print('DIRECT write refused', type(exc).__name__)
" ${{inputs.m}}"""


@pytest.mark.azure
@pytest.mark.parametrize("backend", [pytest.param("docker", marks=pytest.mark.docker), "process"])
def test_a_direct_input_on_azure_comes_with_credentials_that_cannot_write(
        request: pytest.FixtureRequest, workspace_dir: Path, tmp_path: Path, backend: str,
        azure_container: Any) -> None:
    """``direct`` hands the job the URL and credentials narrowed to reading (docs/design/guarantees.md):
    the job can list and read its input, and its write is refused by the store."""
    if backend == "docker":
        request.getfixturevalue("docker_client")
    ws = workspace_dir
    source = _register_azure(ws, tmp_path, azure_container)
    compute = "compute: local-process\n" if backend == "process" else ""
    job = write_job(tmp_path, f"command: {json.dumps(DIRECT_WRITE)}\n"
                              "inputs:\n  m: {type: custom_model, path: 'azureml:m:1', mode: direct}\n"
                              f"{compute}environment:\n  image: runner/python:3.11\n", name="direct.yml")
    result = cli(ws, "job", "create", "--file", str(job), "--stream", "--name", f"direct-{backend}")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "DIRECT read ['MLmodel', 'sub', 'weights.bin']" in result.stdout
    assert "DIRECT write refused" in result.stdout, result.stdout
    assert source() == _expected()


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
