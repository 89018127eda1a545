"""No fsspec URL reaches the workspace's private files: ``reference://`` (its JSON names the files it reads,
anywhere) is refused outright, and an archive or cache chained over this machine's files is guarded as
that host file, at ``runner job validate``/``create`` and again when a queued job starts.

Everything is inside this test's tmp_path: the throwaway workspace, its fake secret, the references JSON
naming it, the archives. A job that would run writes a marker file; none may appear."""

from __future__ import annotations

import json
import zipfile
from pathlib import Path

import pytest
from jobs_support import cli, write_job

from runner.errors import SpecError
from runner.jobs.run import resolve_stored_plan
from runner.jobs.submit import plan_job
from runner.spec.load import spec_from_data
from runner.workspace.db import Workspace

SECRET = "SECRET-KEY-0123"


def _secret(workspace_dir: Path) -> Path:
    cli(workspace_dir, "job", "list", check=True)  # the workspace exists (its database too)
    secret = Workspace(workspace_dir).secrets_dir / "planted.json"
    secret.parent.mkdir(parents=True, exist_ok=True)
    secret.write_text(json.dumps({"key": SECRET}))
    return secret


def _job(folder: Path, path: str, marker: Path) -> Path:
    return write_job(folder, f"""\
        command: cat ${{{{inputs.d}}}} > {marker}
        environment: python:3.11
        inputs:
          d: {{type: uri_file, path: "{path}", mode: download}}
        """)


def _refused(workspace_dir: Path, job: Path, marker: Path, *expected: str) -> None:
    for verb in (("validate",), ("create", "--stream", "--backend", "process")):
        result = cli(workspace_dir, "job", *verb, "--file", str(job))
        out = result.stdout + result.stderr
        assert result.returncode != 0, out
        assert f"{job}:4:" in result.stderr and "inputs.d.path" in result.stderr and "hint:" in result.stderr
        assert all(text in result.stderr for text in expected), result.stderr
        assert "Traceback" not in out and SECRET not in out
    assert not marker.exists()  # the job never ran
    assert json.loads(cli(workspace_dir, "job", "list", "-o", "json", check=True).stdout) == []


@pytest.mark.parametrize("form", ["reference://x::file://{refs}", "reference::file://{refs}",
                                  "simplecache::reference://x::file://{refs}"])
def test_a_references_json_naming_the_secrets_is_refused(workspace_dir: Path, tmp_path: Path,
                                                         form: str) -> None:
    secret = _secret(workspace_dir)
    refs = tmp_path / "refs.json"
    refs.write_text(json.dumps({"version": 1, "refs": {"x": [f"file://{secret}"]}}))
    marker = tmp_path / "ran.txt"
    job = _job(tmp_path / "spec", form.format(refs=refs), marker)
    _refused(workspace_dir, job, marker, "fsspec's 'reference' protocol", "zip://<member>::")


@pytest.mark.parametrize("form", ["zip://planted.json::file://{archive}", "zip://planted.json::{archive}",
                                  "simplecache::zip://planted.json::file://{archive}"])
def test_an_archive_in_the_secrets_is_refused(workspace_dir: Path, tmp_path: Path, form: str) -> None:
    secret = _secret(workspace_dir)
    archive = secret.with_name("keys.zip")
    with zipfile.ZipFile(archive, "w") as zf:
        zf.write(secret, "planted.json")
    marker = tmp_path / "ran.txt"
    job = _job(tmp_path / "spec", form.format(archive=archive), marker)
    _refused(workspace_dir, job, marker, "input 'd' cannot be read", "secrets")


def test_a_link_planted_after_planning_is_refused_when_the_job_starts(workspace_dir: Path,
                                                                      tmp_path: Path) -> None:
    """Planned over an archive in a local datastore; then the folder becomes a link out of it."""
    ws = Workspace(workspace_dir)
    folder = ws.default_datastore_root / "later"
    folder.mkdir(parents=True)
    with zipfile.ZipFile(folder / "d.zip", "w") as zf:
        zf.writestr("a.txt", "fine\n")
    spec = spec_from_data({"command": "cat ${{inputs.d}}", "environment": {"image": "python:3.11"},
                           "inputs": {"d": {"type": "uri_file", "mode": "download",
                                            "path": f"zip://a.txt::file://{folder}/d.zip"}}})
    plan = plan_job(spec, workspace=ws, job_name="queued1")  # accepted: an ordinary archive
    outside = tmp_path / "outside"
    outside.mkdir()
    with zipfile.ZipFile(outside / "d.zip", "w") as zf:
        zf.writestr("a.txt", SECRET)
    (folder / "d.zip").unlink()
    folder.rmdir()
    folder.symlink_to(outside)  # what another job's direct output could do
    with pytest.raises(SpecError) as err:
        resolve_stored_plan(ws, plan)
    assert "leads out of local datastore" in err.value.message and err.value.field == "inputs.d"
