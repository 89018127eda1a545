"""A container that runs as another user than root (``--user`` in ``resources.docker_args``, or an image's
``USER``) writes its outputs (upload, rw_mount on a local and on an Azure datastore), ``./outputs``,
``./logs``, its working directory and its MLflow artifacts, and every file arrives; the job's folder stays
owner-only, and in a workspace its user made beforehand (0755, not runner's 0700) no other user of the host
can write into any folder of it."""

from __future__ import annotations

import stat
from pathlib import Path
from typing import Any

import pytest
from jobs_support import cli, create_azure_datastore, datastore_file, show, write_job

pytestmark = [pytest.mark.docker]

COMMAND = ("id -u > ./whoami && echo up > ${{outputs.up}}/f.txt && mkdir ${{outputs.up}}/sub && "
           "echo deep > ${{outputs.up}}/sub/g.txt && echo rw > ${{outputs.rw}}/r.txt && "
           "echo out > ./outputs/h.txt && echo log > ./logs/l.txt && "
           "mkdir -p /mnt/runner/artifacts/model && echo art > /mnt/runner/artifacts/model/m.txt && "
           "echo '1 0.5 0' > ${MLFLOW_TRACKING_URI#file://}/0/${MLFLOW_RUN_ID}/metrics/loss")


def _job(folder: Path, environment: str, docker_args: str = "", azure: bool = False) -> Path:
    rw_path = ', path: "azureml://datastores/az/paths/nonroot/rw"' if azure else ""
    resources = f"resources:\n  docker_args: \"{docker_args}\"\n" if docker_args else ""
    return write_job(folder, f"""\
command: "{COMMAND}"
code: ./src
outputs:
  up: {{type: uri_folder, mode: upload}}
  rw: {{type: uri_folder, mode: rw_mount{rw_path}}}
{environment}
{resources}""")


def _run(ws: Path, job: Path, name: str) -> dict[str, Any]:
    result = cli(ws, "job", "create", "--file", str(job), "--name", name, "--stream")
    assert result.returncode == 0, result.stdout + result.stderr
    return show(ws, name)


def _check_outputs(ws: Path, name: str, uid: str, *, local_rw: bool = True) -> None:
    assert datastore_file(ws, f"azureml/{name}/up/f.txt").read_text() == "up\n"
    assert datastore_file(ws, f"azureml/{name}/up/sub/g.txt").read_text() == "deep\n"
    if local_rw:
        assert datastore_file(ws, f"azureml/{name}/rw/r.txt").read_text() == "rw\n"
    artifacts = datastore_file(ws, f"ExperimentRun/dcid.{name}")
    assert (artifacts / "outputs" / "h.txt").read_text() == "out\n"
    assert (artifacts / "logs" / "l.txt").read_text() == "log\n"
    assert (artifacts / "model" / "m.txt").read_text() == "art\n"  # MLflow's artifact location
    job_root = ws / "jobs" / name
    assert (job_root / "code" / "whoami").read_text().strip() == uid
    assert (job_root / "mlruns" / "0" / name / "metrics" / "loss").read_text() == "1 0.5 0\n"
    assert stat.S_IMODE(job_root.stat().st_mode) == 0o700  # no other host user reaches its folders
    assert stat.S_IMODE(ws.stat().st_mode) == 0o755 and _writable_by_others(ws) == []


def _writable_by_others(ws: Path) -> list[Path]:
    """The folders under ``ws`` another user of the host could write into: writable by every user, and
    every folder on the way (``ws`` included) searchable by every user. Links are not followed."""
    found: list[Path] = []
    pending = [ws] if ws.stat().st_mode & stat.S_IXOTH else []
    while pending:
        folder = pending.pop()
        if folder.stat().st_mode & stat.S_IWOTH:
            found.append(folder)
        pending += [child for child in folder.iterdir()
                    if stat.S_ISDIR((info := child.lstat()).st_mode) and info.st_mode & stat.S_IXOTH]
    return found


@pytest.fixture(autouse=True)
def premade_workspace(workspace_dir: Path) -> None:
    """The workspace its user made beforehand, with the usual umask: it keeps 0755 (runner makes 0700)."""
    workspace_dir.chmod(0o755)


@pytest.fixture
def src(tmp_path: Path) -> Path:
    (tmp_path / "src").mkdir()
    (tmp_path / "src" / "train.sh").write_text("true\n")
    return tmp_path / "src"


def test_docker_args_user_writes_every_output(workspace_dir: Path, tmp_path: Path, src: Path) -> None:
    job = _job(tmp_path, "environment:\n  image: runner/busybox:latest", "--user 65534:65534")
    _run(workspace_dir, job, "nobody")
    _check_outputs(workspace_dir, "nobody", "65534")


def test_an_image_user_writes_every_output(workspace_dir: Path, tmp_path: Path, src: Path) -> None:
    context = tmp_path / "ctx"
    context.mkdir()
    (context / "Dockerfile").write_text("FROM runner/busybox:latest\nUSER 1000:1000\n")
    job = _job(tmp_path, "environment:\n  build:\n    path: ./ctx")
    _run(workspace_dir, job, "user1000")
    _check_outputs(workspace_dir, "user1000", "1000")


@pytest.mark.fuse
@pytest.mark.azure
def test_a_non_root_user_writes_through_an_azure_rw_mount(workspace_dir: Path, tmp_path: Path, src: Path,
                                                          azure_container: Any) -> None:
    from azure.storage.blob import ContainerClient

    create_azure_datastore(workspace_dir, tmp_path, azure_container)
    job = _job(tmp_path, "environment:\n  image: runner/busybox:latest", "--user 65534:65534", azure=True)
    _run(workspace_dir, job, "nobody-az")
    _check_outputs(workspace_dir, "nobody-az", "65534", local_rw=False)
    container = ContainerClient.from_connection_string(azure_container.azurite.connection_string,
                                                       azure_container.name)
    assert container.download_blob("nonroot/rw/r.txt").readall() == b"rw\n"
