"""A chained URL input over this machine's file (``zip://<member>::file:///<archive>``) never reads through a
link: an archive reached through a linked folder is one error at ``job validate``/``create``, and an
archive swapped for a link after the job was planned is one error when the job starts; the job never runs.

Everything is inside this test's tmp_path: the throwaway workspace, the archives, the outside folder a
planted link names, holding a decoy. A job that would run writes a marker file; none may appear."""

from __future__ import annotations

import os
import zipfile
from pathlib import Path

import pytest
from jobs_support import cli, write_job

from runner.errors import SpecError
from runner.jobs.run import resolve_stored_plan
from runner.jobs.submit import plan_job
from runner.spec.load import spec_from_data
from runner.workspace.db import Workspace

DECOY = "OUTSIDE-DECOY-0123"


def _archive(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    with zipfile.ZipFile(path, "w") as zf:
        zf.writestr("a.txt", text)
    return path


def test_an_archive_reached_through_a_link_is_one_error(workspace_dir: Path, tmp_path: Path) -> None:
    _archive(tmp_path / "outside" / "d.zip", DECOY)
    (tmp_path / "via").symlink_to(tmp_path / "outside")
    marker = tmp_path / "ran.txt"
    job = write_job(tmp_path / "spec", f"""\
        command: cat ${{{{inputs.d}}}} > {marker}
        environment: python:3.11
        inputs:
          d: {{type: uri_file, path: "zip://a.txt::file://{tmp_path / 'via' / 'd.zip'}", mode: download}}
        """)
    for verb in (("validate",), ("create", "--stream", "--backend", "process")):
        result = cli(workspace_dir, "job", *verb, "--file", str(job))
        out = result.stdout + result.stderr
        assert result.returncode != 0, out
        assert f"{job}:4:" in result.stderr and "inputs.d.path" in result.stderr, result.stderr
        assert f"{tmp_path / 'via'} is a link" in result.stderr and "realpath" in result.stderr
        assert "Traceback" not in out and DECOY not in out
    assert not marker.exists()


def test_an_archive_swapped_for_a_link_after_planning_is_refused_when_the_job_starts(
        workspace_dir: Path, tmp_path: Path) -> None:
    ws = Workspace(workspace_dir)
    archive = _archive(tmp_path / "data" / "d.zip", "fine\n")
    decoy = _archive(tmp_path / "outside" / "d.zip", DECOY)
    spec = spec_from_data({"command": "cat ${{inputs.d}}", "environment": {"image": "python:3.11"},
                           "inputs": {"d": {"type": "uri_file", "mode": "download",
                                            "path": f"zip://a.txt::file://{archive}"}}})
    plan = plan_job(spec, workspace=ws, job_name="queued1")  # accepted: an ordinary archive
    archive.with_name("swap.tmp").symlink_to(decoy)
    os.replace(archive.with_name("swap.tmp"), archive)  # what another job's direct output could do
    with pytest.raises(SpecError) as err:
        resolve_stored_plan(ws, plan)
    assert f"{archive} is a link" in err.value.message and err.value.field == "inputs.d"
    assert DECOY not in err.value.render() and err.value.hint
