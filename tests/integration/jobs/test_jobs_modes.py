"""Every input mode (download, ro_mount, direct) and every output mode (upload, rw_mount, direct) inside a
real container, against the local default datastore and an Azure Blob datastore on Azurite (FUSE for
the mounts); content checked by SHA-256 inside the job and after it."""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path
from typing import Any

import pytest
from jobs_support import (
    assert_no_leftovers,
    cli,
    create_azure_datastore,
    datastore_file,
    make_tree,
    sha256_tree,
    show,
    write_job,
)

FILES = {
    "a.txt": b"alpha\n",
    "sub/b.bin": os.urandom(3 * 1024 * 1024 + 17),
    "sub/deeper/c.json": b'{"c": 3}',
}

CHECK = """\
import hashlib, json, os, sys
import fsspec

def local_tree(root):
    out = {}
    for folder, _, files in os.walk(root):
        for name in files:
            path = os.path.join(folder, name)
            with open(path, "rb") as handle:
                out[os.path.relpath(path, root)] = hashlib.sha256(handle.read()).hexdigest()
    return out

def remote_tree(url):
    fs, root = fsspec.core.url_to_fs(url)
    out = {}
    for path in fs.find(root):
        with fs.open(path, "rb") as handle:
            out[path[len(root.rstrip("/")) + 1:]] = hashlib.sha256(handle.read()).hexdigest()
    return out

def write(value, files):
    if "://" in value:
        fs, root = fsspec.core.url_to_fs(value)
        for rel, data in files.items():
            with fs.open(root.rstrip("/") + "/" + rel, "wb") as handle:
                handle.write(data)
        return
    for rel, data in files.items():
        path = os.path.join(value, rel)
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with open(path, "wb") as handle:
            handle.write(data)

seen = {}
for name in ("dl", "ro", "direct"):
    value = os.environ["AZURE_ML_INPUT_" + name]
    seen[name] = remote_tree(value) if "://" in value else local_tree(value)
print("SEEN " + json.dumps(seen, sort_keys=True))
source = os.environ["AZURE_ML_INPUT_ro"]
files = {}
for rel in seen["ro"]:
    with open(os.path.join(source, rel), "rb") as handle:
        files[rel] = handle.read()
for name in ("up", "rw", "dout"):
    write(os.environ["AZURE_ML_OUTPUT_" + name], files)
if "--try-write" in sys.argv:
    try:
        open(os.path.join(os.environ["AZURE_ML_INPUT_ro"], "x"), "w")
        print("RO-WRITE allowed")
    except OSError as exc:
        print("RO-WRITE refused", exc.errno)
"""

JOB = """
    command: python check.py --try-write
    code: src
    inputs:
      dl: {{type: uri_folder, path: "{base}/data", mode: download}}
      ro: {{type: uri_folder, path: "{base}/data", mode: ro_mount}}
      direct: {{type: uri_folder, path: "{base}/data", mode: direct}}
    outputs:
      up: {{type: uri_folder, mode: upload{up}}}
      rw: {{type: uri_folder, mode: rw_mount{rw}}}
      dout: {{type: uri_folder, mode: direct{dout}}}
    environment:
      image: runner/python:3.11
    """


def seen_by_job(stdout: str) -> dict[str, dict[str, str]]:
    line = next(line for line in stdout.splitlines() if line.startswith("SEEN "))
    return dict(json.loads(line[len("SEEN "):]))


def run_all_modes(ws: Path, tmp_path: Path, name: str, base: str, outputs: dict[str, str]) -> str:
    (tmp_path / "src").mkdir(exist_ok=True)
    (tmp_path / "src" / "check.py").write_text(CHECK)
    extra = {k: f', path: "{v}"' if v else "" for k, v in outputs.items()}
    job = write_job(tmp_path, JOB.format(base=base, **extra), name=f"{name}.yml")
    result = cli(ws, "job", "create", "--file", str(job), "--stream", "--name", name)
    assert result.returncode == 0, result.stdout + result.stderr
    return result.stdout


@pytest.mark.docker
def test_all_modes_local_datastore(workspace_dir: Path, tmp_path: Path, docker_client: Any) -> None:
    ws = workspace_dir
    expected = make_tree(datastore_file(ws, "data"), FILES)
    stdout = run_all_modes(ws, tmp_path, "modes_local", "azureml://datastores/workspaceblobstore/paths",
                           {"up": "", "rw": "", "dout": ""})
    seen = seen_by_job(stdout)
    assert seen == {"dl": expected, "ro": expected, "direct": expected}
    assert "RO-WRITE refused 30" in stdout  # EROFS: the read-only bind
    for out in ("up", "rw", "dout"):
        assert sha256_tree(datastore_file(ws, f"azureml/modes_local/{out}")) == expected, out
    record = show(ws, "modes_local")
    assert record["inputs"]["ro"] == "azureml://datastores/workspaceblobstore/paths/data"
    download = tmp_path / "dl"
    cli(ws, "job", "download", "--name", "modes_local", "--output-name", "rw", "--download-path",
        str(download), check=True)
    assert sha256_tree(download / "named-outputs" / "rw") == expected
    assert_no_leftovers(docker_client, ws, "modes_local")


@pytest.mark.docker
@pytest.mark.fuse
@pytest.mark.azure
def test_all_modes_azure_datastore(workspace_dir: Path, tmp_path: Path, docker_client: Any,
                                   fuse_available: bool, azure_container: Any) -> None:
    from azure.storage.blob import ContainerClient

    ws = workspace_dir
    container = ContainerClient.from_connection_string(azure_container.azurite.connection_string,
                                                       azure_container.name)
    for rel, data in FILES.items():
        container.upload_blob(f"data/{rel}", data)
    expected = {rel: hashlib.sha256(data).hexdigest() for rel, data in FILES.items()}
    create_azure_datastore(ws, tmp_path, azure_container)
    stdout = run_all_modes(ws, tmp_path, "modes_az", "azureml://datastores/az/paths",
                           {k: f"azureml://datastores/az/paths/out/{k}" for k in ("up", "rw", "dout")})
    assert seen_by_job(stdout) == {"dl": expected, "ro": expected, "direct": expected}
    assert "RO-WRITE refused 30" in stdout  # EROFS from the read-only FUSE mount
    assert azure_container.azurite.key not in stdout
    for out in ("up", "rw", "dout"):
        blobs = {b.name[len(f"out/{out}/"):]: b.name for b in container.list_blobs(f"out/{out}/")}
        digests = {rel: hashlib.sha256(container.download_blob(name).readall()).hexdigest()
                   for rel, name in blobs.items()}
        assert digests == expected, out
    cli(ws, "job", "download", "--name", "modes_az", "--output-name", "rw", "--download-path",
        str(tmp_path / "dl"), check=True)  # through the download engine
    assert sha256_tree(tmp_path / "dl" / "named-outputs" / "rw") == expected
    record = json.dumps(show(ws, "modes_az"))
    assert azure_container.azurite.key not in record  # no secret in the record
    assert_no_leftovers(docker_client, ws, "modes_az")


@pytest.mark.docker
@pytest.mark.fuse
@pytest.mark.azure
def test_sigkilled_runner_leaves_no_stale_mount(workspace_dir: Path, tmp_path: Path, docker_client: Any,
                                                fuse_available: bool, azure_container: Any) -> None:
    import signal
    import time

    from azure.storage.blob import ContainerClient
    from jobs_support import containers_of, mounts_under, wait_for_status, watchdog_pids

    ws = workspace_dir
    container = ContainerClient.from_connection_string(azure_container.azurite.connection_string,
                                                       azure_container.name)
    container.upload_blob("data/a.txt", b"alpha\n")
    create_azure_datastore(ws, tmp_path, azure_container)
    job = write_job(tmp_path, """
        command: cp ${{inputs.d}}/a.txt ${{outputs.o}}/copied.txt && echo started && sleep 120
        inputs:
          d: {type: uri_folder, path: "azureml://datastores/az/paths/data", mode: ro_mount}
        outputs:
          o: {type: uri_folder, path: "azureml://datastores/az/paths/out", mode: rw_mount}
        environment:
          image: runner/busybox:latest
        """)
    cli(ws, "job", "create", "--file", str(job), "--name", "fusekill", check=True)
    log = ws / "jobs" / "fusekill" / "user_logs" / "std_log.txt"
    deadline = time.monotonic() + 120
    while not (log.exists() and "started" in log.read_text()):
        assert time.monotonic() < deadline
        time.sleep(0.3)
    record = wait_for_status(ws, "fusekill", {"Running"})
    assert len(mounts_under(ws)) == 2  # the ro and rw FUSE mounts
    for pid in (*watchdog_pids(ws, "fusekill"), record["runner_pid"]):  # a live watchdog would keep it
        os.kill(pid, signal.SIGKILL)
    time.sleep(0.5)
    cli(ws, "job", "list", check=True)  # the next runner command recovers
    record = show(ws, "fusekill")
    assert record["status"] == "Failed" and "died while the job was Running" in record["error"]
    assert mounts_under(ws) == []
    assert containers_of(docker_client, "fusekill") == []
    assert not (ws / "jobs" / "fusekill" / "inputs").exists()  # input scratch removed
    # written and closed before the kill: durable on the store
    assert container.download_blob("out/copied.txt").readall() == b"alpha\n"


@pytest.mark.fuse
@pytest.mark.azure
def test_no_upload_on_failure_records_the_outputs_it_could_not_hold_back(
        workspace_dir: Path, tmp_path: Path, fuse_available: bool, azure_container: Any) -> None:
    """``--no-upload-on-failure`` keeps a failed job's staged outputs out of the datastores, but a
    ``direct`` output and an ``rw_mount`` output on Azure reach their targets while the job runs (the
    mount uploads each file as it is closed): the record says they could not be held back, and they
    are there; the upload output is held back, staged, and is not."""
    from azure.storage.blob import ContainerClient

    ws = workspace_dir
    container = ContainerClient.from_connection_string(azure_container.azurite.connection_string,
                                                       azure_container.name)
    create_azure_datastore(ws, tmp_path, azure_container)
    job = write_job(tmp_path, """
        command: >-
          echo staged > ${{outputs.u}}/u.txt &&
          echo mounted > ${{outputs.r}}/r.txt &&
          python3 -c "import fsspec, sys; fs, p = fsspec.core.url_to_fs(sys.argv[1]);
          fs.pipe_file(p.rstrip('/') + '/d.txt', b'direct')" ${{outputs.d}} &&
          exit 2
        outputs:
          u: {type: uri_folder, mode: upload, path: "azureml://datastores/az/paths/out/u"}
          r: {type: uri_folder, mode: rw_mount, path: "azureml://datastores/az/paths/out/r"}
          d: {type: uri_folder, mode: direct, path: "azureml://datastores/az/paths/out/d"}
        compute: local-process
        environment:
          image: not-used:1
        """)
    result = cli(ws, "job", "create", "--file", str(job), "--stream", "--name", "held",
                 "--no-upload-on-failure")
    assert result.returncode == 1, result.stdout + result.stderr
    record = show(ws, "held")
    assert record["status"] == "Failed" and record["exit_code"] == 2
    staged = ws / "jobs" / "held" / "outputs"
    assert record["extra"]["held_back_outputs"] == {"artifacts": str(staged / "artifacts"),
                                                    "u": str(staged / "u")}
    assert (f"outputs not uploaded (--no-upload-on-failure); kept staged: artifacts in {staged / 'artifacts'}"
            f", u in {staged / 'u'}; written to their targets while the job ran, so not held back: d, r"
            ) in record["error"]
    assert (staged / "u" / "u.txt").read_text() == "staged\n"
    blobs = {b.name: container.download_blob(b.name).readall() for b in container.list_blobs("out/")}
    assert blobs == {"out/r/r.txt": b"mounted\n", "out/d/d.txt": b"direct"}
    assert azure_container.azurite.key not in result.stdout + result.stderr + json.dumps(record)
