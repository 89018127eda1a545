"""A job plants a link on a local datastore (through a ``direct`` output) where its ``upload`` or
``rw_mount`` output goes: moving that output into place must not follow it into a registered model.

The job runs in a container of this test's throwaway workspace; its link points at the workspace's
own registered model (a copy the test registered), which must stay byte-identical.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from jobs_support import cli, datastore_file, sha256_tree, show, write_job

pytestmark = pytest.mark.docker

FILES = {"MLmodel": b"flavors: {}\n", "weights/w.bin": b"\x00weights" * 1024}
REFUSED = "is a symbolic link (a job may have made it): not followed"


@pytest.mark.parametrize("mode", ["upload", "rw_mount"])
def test_a_link_a_job_planted_is_not_followed_into_a_registered_model(
        workspace_dir: Path, tmp_path: Path, mode: str) -> None:
    ws = workspace_dir
    source = tmp_path / "model"
    for rel, data in FILES.items():
        (source / rel).parent.mkdir(parents=True, exist_ok=True)
        (source / rel).write_bytes(data)
    cli(ws, "model", "create", "--name", "local-m", "--version", "1", "--path", str(source), check=True)
    registered = datastore_file(ws, "LocalUpload/local-m/1/model")
    before = sha256_tree(registered)
    job = write_job(tmp_path, f"""
        command: >-
          ln -s ../LocalUpload/local-m/1/model ${{{{outputs.d}}}}/evil &&
          echo PWNED > ${{{{outputs.u}}}}/MLmodel
        outputs:
          d: {{type: uri_folder, path: azureml://datastores/workspaceblobstore/paths/scratch, mode: direct}}
          u:
            type: uri_folder
            path: azureml://datastores/workspaceblobstore/paths/scratch/evil
            mode: {mode}
        environment: {{image: runner/busybox:latest}}
        """)
    name = f"planted-{mode.replace('_', '-')}"
    result = cli(ws, "job", "create", "--file", str(job), "--stream", "--name", name)
    assert sha256_tree(registered) == before
    assert result.returncode == 1, result.stdout + result.stderr
    assert datastore_file(ws, "scratch/evil").is_symlink()  # the job's link is left as it made it
    record = show(ws, name)
    assert record["status"] == "Failed" and record["exit_code"] == 0
    assert f"{datastore_file(ws, 'scratch/evil')} {REFUSED}" in record["error"]
    staged = ws / "jobs" / name / "outputs" / "u" / ("staged" if mode == "rw_mount" else "")
    assert (staged / "MLmodel").read_text() == "PWNED\n"
    assert f"the staged copy is kept at {staged / 'MLmodel'}" in record["error"]
    assert "remove it, then copy the staged data into place" in record["error"]  # the hint
