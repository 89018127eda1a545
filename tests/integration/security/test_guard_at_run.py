"""The write guard runs again when a queued job starts: a link left in a local datastore after the job
was planned (by another job's ``direct`` output), or a version registered there since, is refused before
anything is materialized. Everything happens in this test's own workspace; the link points at the
registered model's folder in it."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from jobs_support import cli, write_job

from runner.errors import SpecError
from runner.jobs.run import resolve_stored_plan
from runner.jobs.submit import plan_job
from runner.spec.load import spec_from_data
from runner.workspace.db import Workspace

TARGET = "azureml://datastores/workspaceblobstore/paths/scratch/later"


def _plan(ws: Workspace, path: str, mode: str) -> object:
    spec = spec_from_data({"command": "echo x > ${{outputs.out}}/MLmodel",
                           "environment": {"image": "runner/busybox:latest"},
                           "outputs": {"out": {"type": "uri_folder", "path": path, "mode": mode}}})
    return plan_job(spec, workspace=ws, job_name="queued1")


@pytest.mark.parametrize("mode", ["upload", "rw_mount", "direct"])
def test_a_link_made_after_planning_is_refused_when_the_job_starts(workspace_dir: Path, tmp_path: Path,
                                                                   mode: str) -> None:
    model = tmp_path / "model"
    model.mkdir()
    (model / "MLmodel").write_text("flavors: {}\n")
    cli(workspace_dir, "model", "create", "--name", "m", "--version", "1", "--path", str(model), check=True)
    ws = Workspace(workspace_dir)
    plan = _plan(ws, TARGET, mode)  # accepted: nothing is there yet
    scratch = ws.default_datastore_root / "scratch"
    scratch.mkdir(parents=True, exist_ok=True)
    (scratch / "later").symlink_to("../LocalUpload/m/1/model")  # what another job's direct output could do
    with pytest.raises(SpecError, match="registered model m:1") as err:
        resolve_stored_plan(ws, plan)  # type: ignore[arg-type]
    assert err.value.field == "outputs.out"
    assert (ws.default_datastore_root / "LocalUpload/m/1/model/MLmodel").read_text() == "flavors: {}\n"


def test_a_version_registered_there_since_is_refused_when_the_job_starts(workspace_dir: Path,
                                                                         tmp_path: Path) -> None:
    ws = Workspace(workspace_dir)
    plan = _plan(ws, "azureml://datastores/workspaceblobstore/paths/shared/out", "upload")
    folder = ws.default_datastore_root / "shared" / "out"
    folder.mkdir(parents=True)
    (folder / "MLmodel").write_text("flavors: {}\n")
    cli(workspace_dir, "model", "create", "--name", "m2", "--version", "1", "--path",
        "azureml://datastores/workspaceblobstore/paths/shared/out", check=True)
    with pytest.raises(SpecError, match="registered model m2:1"):
        resolve_stored_plan(ws, plan)  # type: ignore[arg-type]


def test_an_input_never_reads_the_workspaces_secrets_or_database(workspace_dir: Path, tmp_path: Path) -> None:
    """The secrets folder (datastore keys, SAS tokens) and the database are the workspace's own: an input
    that is, holds or lies in them is refused at its line, also through a link left in a local datastore,
    and again when a queued job starts. The link points inside this test's own workspace."""
    ws = Workspace(workspace_dir)
    (tmp_path / "data").mkdir()
    scratch = ws.default_datastore_root / "scratch"
    scratch.mkdir(parents=True)
    (scratch / "keys").symlink_to(os.path.relpath(ws.secrets_dir, scratch))
    refused = {"the secrets folder": str(ws.secrets_dir), "the database": str(ws.db_path),
               "a folder holding the workspace": ".",
               "a link into the secrets": "azureml://datastores/workspaceblobstore/paths/scratch/keys"}
    for what, path in {**refused, "a folder of its own": "./data"}.items():
        job = write_job(tmp_path, f"""
            command: ls ${{{{inputs.x}}}}
            inputs:
              x: {{type: uri_folder, path: "{path}", mode: download}}
            environment:
              image: runner/busybox:latest
            """, name="read.yml")
        result = cli(workspace_dir, "job", "validate", "--file", str(job))
        if what not in refused:
            assert result.returncode == 0, result.stdout + result.stderr
            continue
        assert result.returncode == 2, (what, result.stdout + result.stderr)
        assert "inputs.x.path: input 'x' cannot be read" in result.stderr, what
        assert "Traceback" not in result.stderr, what

    spec = spec_from_data({"command": "ls ${{inputs.x}}", "environment": {"image": "runner/busybox:latest"},
                           "inputs": {"x": {"type": "uri_folder", "mode": "download",
                                            "path": "azureml://datastores/workspaceblobstore/paths/later"}}})
    (ws.default_datastore_root / "later").mkdir()
    plan = plan_job(spec, workspace=ws, job_name="queued2")  # accepted: a plain folder then
    (ws.default_datastore_root / "later").rmdir()
    (ws.default_datastore_root / "later").symlink_to("../../secrets")
    with pytest.raises(SpecError, match="cannot be read"):
        resolve_stored_plan(ws, plan)
