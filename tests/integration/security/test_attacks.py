"""Hostile jobs against registered models: every backend x every input mode, and outputs aimed at the
registered files. Afterwards every registered model is byte-identical (names, content) to what was
registered.

The attacks run inside the job (a container, or a host process in this test's throwaway workspace)
and act only on what the job was given: its input path (or, for ``direct`` on Azure, the URL and the
credentials it got). They never plant or follow a link out of the job's folders.
"""

from __future__ import annotations

import hashlib
import textwrap
from pathlib import Path
from typing import Any

import pytest
from jobs_support import cli, create_azure_datastore, sha256_tree, write_job

pytestmark = pytest.mark.azure  # docker and fuse: on the cases that run a container or mount (CASES)

FILES = {"MLmodel": b"flavors: {}\n", "weights/w.bin": b"\x00weights" * 4096, "conf.json": b"{}"}

# Every way to change a file or folder through a path; each prints ATTACK-OK when the OS let it happen.
PATH_ATTACK = '''
import os, sys
root = sys.argv[1]
if os.path.isfile(root):
    root = os.path.dirname(root)
def attempt(what, action):
    try:
        action()
    except OSError as exc:
        print("refused", what, exc.strerror)
    else:
        print("ATTACK-OK", what)
files = [os.path.join(d, f) for d, _, names in os.walk(root) for f in names]
for path in files:
    attempt("write " + path, lambda: open(path, "r+b").write(b"pwned"))
    attempt("append " + path, lambda: open(path, "ab").write(b"pwned"))
    attempt("truncate " + path, lambda: os.truncate(path, 0))
    attempt("chmod " + path, lambda: os.chmod(path, 0o666))
    attempt("utime " + path, lambda: os.utime(path, (0, 0)))
    attempt("rename " + path, lambda: os.rename(path, path + ".moved"))
    attempt("unlink " + path, lambda: os.unlink(path))
attempt("create", lambda: open(os.path.join(root, "planted"), "wb").write(b"x"))
attempt("mkdir", lambda: os.mkdir(os.path.join(root, "planted-dir")))
attempt("symlink", lambda: os.symlink("MLmodel", os.path.join(root, "planted-link")))
attempt("chmod folder", lambda: os.chmod(root, 0o777))
print("attacks done")
'''

# ``direct`` on Azure: the job gets a URL and credentials; it tries to write and delete with them.
URL_ATTACK = '''
import os, sys
from adlfs import AzureBlobFileSystem
url = sys.argv[1]
fs = AzureBlobFileSystem(connection_string=os.environ["AZURE_STORAGE_CONNECTION_STRING"])
path = url.split("://", 1)[1]
print("can read:", len(fs.cat_file(path + "/MLmodel")))
for what, action in (("overwrite", lambda: fs.pipe_file(path + "/MLmodel", b"pwned")),
                     ("delete", lambda: fs.rm(path + "/weights/w.bin")),
                     ("create", lambda: fs.pipe_file(path + "/planted", b"x"))):
    try:
        action()
    except Exception as exc:
        print("refused", what, type(exc).__name__)
    else:
        print("ATTACK-OK", what)
print("attacks done")
'''


def _mounts(model: str, mode: str, backend: str) -> bool:
    """Whether the job's input is a FUSE mount: ro_mount of Azure, or a host process's read-only view
    of a local or cached input (a container gets those bound read-only, no FUSE)."""
    if model == "az-m" and mode == "ro_mount":
        return True
    return backend == "process" and not (model == "az-m" and mode == "direct")


CASES = [pytest.param(model, mode, backend, id=f"{model}-{mode}-{backend}",
                      marks=[*([pytest.mark.docker] if backend == "docker" else []),
                             *([pytest.mark.fuse] if _mounts(model, mode, backend) else [])])
         for model in ("local-m", "az-m") for mode in ("download", "ro_mount", "direct")
         for backend in ("docker", "process")]


@pytest.fixture
def registry(request: pytest.FixtureRequest, workspace_dir: Path, tmp_path: Path,
             azure_container: Any) -> dict[str, Any]:
    """Model ``local-m:1`` (copied into the workspace) and ``az-m:1`` (on an Azurite datastore)."""
    from azure.storage.blob import ContainerClient

    for marker, fixture in (("docker", "docker_client"), ("fuse", "fuse_available")):
        if request.node.get_closest_marker(marker) is not None:
            request.getfixturevalue(fixture)

    source = tmp_path / "model"
    for rel, data in FILES.items():
        (source / rel).parent.mkdir(parents=True, exist_ok=True)
        (source / rel).write_bytes(data)
    ws = workspace_dir
    cli(ws, "model", "create", "--name", "local-m", "--version", "1", "--path", str(source), check=True)
    container = ContainerClient.from_connection_string(azure_container.azurite.connection_string,
                                                       azure_container.name)
    for rel, data in FILES.items():
        container.upload_blob(f"models/az-m/{rel}", data)
    create_azure_datastore(ws, tmp_path, azure_container)
    cli(ws, "model", "create", "--name", "az-m", "--version", "1", "--path",
        "azureml://datastores/az/paths/models/az-m", check=True)
    code = tmp_path / "code"
    code.mkdir()
    (code / "path_attack.py").write_text(PATH_ATTACK)
    (code / "url_attack.py").write_text(URL_ATTACK)
    return {"ws": ws, "container": container, "code": code, "local": _local_files(ws)}


def _local_files(ws: Path) -> Path:
    return ws / "datastores" / "workspaceblobstore" / "LocalUpload" / "local-m" / "1" / "model"


def _azure_tree(container: Any) -> dict[str, str]:
    return {blob.name: hashlib.sha256(container.download_blob(blob.name).readall()).hexdigest()
            for blob in container.list_blobs(name_starts_with="models/az-m/")}


def _expected_azure() -> dict[str, str]:
    return {f"models/az-m/{rel}": hashlib.sha256(data).hexdigest() for rel, data in FILES.items()}


def _expected_local() -> dict[str, str]:
    return {rel: hashlib.sha256(data).hexdigest() for rel, data in FILES.items()}


def _assert_untouched(registry: dict[str, Any]) -> None:
    assert sha256_tree(registry["local"]) == _expected_local()
    assert _azure_tree(registry["container"]) == _expected_azure()


@pytest.mark.parametrize(("model", "mode", "backend"), CASES)
def test_a_hostile_input_cannot_change_a_registered_model(registry: dict[str, Any], tmp_path: Path,
                                                          backend: str, mode: str, model: str) -> None:
    url_input = mode == "direct" and model == "az-m"
    script = "url_attack.py" if url_input else "path_attack.py"
    job = write_job(tmp_path / "jobs", f"""
        command: python3 {script} ${{{{inputs.model}}}}
        code: {registry["code"]}
        inputs:
          model:
            type: custom_model
            path: azureml:{model}:1
            mode: {mode}
        environment:
          image: runner/python:3.11
        """, name=f"{backend}-{mode}-{model}.yml")
    result = cli(registry["ws"], "job", "create", "--file", str(job), "--stream", "--backend", backend)
    log = result.stdout + result.stderr
    assert result.returncode == 0, log
    assert "attacks done" in log and "ATTACK-OK" not in log
    assert log.count("refused") >= (3 if url_input else 20)
    _assert_untouched(registry)


@pytest.mark.parametrize("mode", ["upload", "rw_mount", "direct"])
def test_an_output_aimed_at_a_registered_model_is_refused_before_the_job_runs(
        registry: dict[str, Any], tmp_path: Path, mode: str) -> None:
    ws = registry["ws"]
    targets = {
        "the model's datastore path": "azureml://datastores/workspaceblobstore/paths/LocalUpload/local-m/1",
        "a file inside it": "azureml://datastores/workspaceblobstore/paths/LocalUpload/local-m/1/model/MLmodel",
        "a folder holding it": "azureml://datastores/workspaceblobstore/paths/LocalUpload",
        "its host path": str(registry["local"]),
        "an Azure model's folder": "azureml://datastores/az/paths/models/az-m",
        "the download cache": str(ws / "cache"),
        "another job's outputs": "azureml://datastores/workspaceblobstore/paths/azureml/some-other-job/out",
        "the folder of every job's outputs": "azureml://datastores/workspaceblobstore/paths/azureml",
        "the default datastore's root": "azureml://datastores/workspaceblobstore/paths/",
        "a folder holding the workspace": str(ws.parent),
        # the same places as fsspec URLs (the Azure ones reuse the datastore's credentials)
        "an abfs URL of the Azure model": f"abfs://{registry['container'].container_name}/models/az-m",
        "an az URL with the account": (f"az://{registry['container'].container_name}"
                                       "@devstoreaccount1.blob.core.windows.net/models/az-m/"),
        "a local:// URL of its host path": f"local://{registry['local']}",
        "a file:// URL of the download cache": f"file://{ws / 'cache'}",
    }
    for what, path in targets.items():
        job = write_job(tmp_path, textwrap.dedent(f"""
            command: echo pwned > ${{{{outputs.out}}}}/MLmodel
            outputs:
              out:
                type: custom_model
                path: {path}
                mode: {mode}
            environment:
              image: runner/busybox:latest
            """), name="out.yml")
        for verb in ("validate", "create"):
            result = cli(ws, "job", verb, "--file", str(job))
            assert result.returncode == 2, (what, result.stdout + result.stderr)
            assert "outputs.out.path: output 'out' cannot be written there" in result.stderr, what
            assert "Traceback" not in result.stderr
    _assert_untouched(registry)


def test_a_direct_output_is_refused_in_a_container_that_holds_a_registered_model(
        registry: dict[str, Any], tmp_path: Path) -> None:
    """A direct output's credentials reach its whole container: elsewhere in the container of ``az-m``
    is refused for direct, while upload (which writes only its own path) may write there."""
    ws = registry["ws"]
    for mode, expected in (("direct", 2), ("upload", 0)):
        job = write_job(tmp_path, f"""
            command: echo ok > ${{{{outputs.out}}}}/f
            outputs:
              out:
                type: uri_folder
                path: azureml://datastores/az/paths/elsewhere/{mode}
                mode: {mode}
            environment:
              image: runner/busybox:latest
            """, name=f"{mode}.yml")
        result = cli(ws, "job", "validate", "--file", str(job))
        assert result.returncode == expected, (mode, result.stdout + result.stderr)
        if expected:
            assert "credentials for the whole container" in result.stderr
            assert "az-m:1" in result.stderr and "Traceback" not in result.stderr
    _assert_untouched(registry)


@pytest.mark.parametrize("mode", ["upload", "rw_mount", "direct"])
def test_an_output_through_a_link_left_in_a_datastore_is_refused(registry: dict[str, Any], tmp_path: Path,
                                                                 mode: str) -> None:
    """An earlier job's direct output could leave a link in a local datastore (here the test plants it,
    inside its own workspace, pointing at the registered model's folder in that workspace). An output
    whose path goes through it is judged where it really goes: refused before anything runs."""
    ws = registry["ws"]
    scratch = ws / "datastores" / "workspaceblobstore" / "scratch"
    scratch.mkdir(parents=True, exist_ok=True)
    if not (scratch / "evil").is_symlink():
        (scratch / "evil").symlink_to("../LocalUpload/local-m/1/model")
    job = write_job(tmp_path, f"""
        command: echo pwned > ${{{{outputs.out}}}}/MLmodel
        outputs:
          out:
            type: uri_folder
            path: azureml://datastores/workspaceblobstore/paths/scratch/evil
            mode: {mode}
        environment:
          image: runner/busybox:latest
        """, name="through-link.yml")
    result = cli(ws, "job", "validate", "--file", str(job))
    assert result.returncode == 2, result.stdout + result.stderr
    assert "cannot be written there" in result.stderr and "local-m:1" in result.stderr
    _assert_untouched(registry)


def test_a_direct_file_output_is_judged_by_the_folder_it_binds(registry: dict[str, Any],
                                                               tmp_path: Path) -> None:
    """A direct ``uri_file`` output on the host is bound as its folder: a file at the datastore's root
    would hand the job every registered model and job output there, and a file beside the workspace
    the workspace itself. A file in a folder of its own is fine."""
    ws = registry["ws"]
    refused = ["azureml://datastores/workspaceblobstore/paths/result.txt", str(ws.parent / "result.txt")]
    accepted = "azureml://datastores/workspaceblobstore/paths/results/result.txt"
    for path in [*refused, accepted]:
        job = write_job(tmp_path, f"""
            command: echo ok > ${{{{outputs.f}}}}
            outputs:
              f:
                type: uri_file
                path: {path}
                mode: direct
            environment:
              image: runner/busybox:latest
            """, name="direct-file.yml")
        result = cli(ws, "job", "validate", "--file", str(job))
        if path == accepted:
            assert result.returncode == 0, result.stdout + result.stderr
            continue
        assert result.returncode == 2, (path, result.stdout + result.stderr)
        assert "a direct file output is bound as its folder" in result.stderr, path
        assert "local-m:1" in result.stderr and "Traceback" not in result.stderr, path  # the folder holds it
    _assert_untouched(registry)
