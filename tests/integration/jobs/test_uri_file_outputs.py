"""A named ``uri_file`` output is registered as a data asset, which must be one file: without a ``path``
the output would go to its default location, a folder, and the job could only fail after it ran; so
``job validate``/``job create`` refuse it up front, and with a ``path`` naming the file it registers."""

from __future__ import annotations

import json
from pathlib import Path

from jobs_support import cli, write_job

JOB = """
    command: echo data > ${{{{outputs.o}}}}
    outputs:
      o: {{type: uri_file, mode: upload, name: h6-uf2{path}}}
    environment:
      image: runner/busybox:latest
    """


def test_a_named_uri_file_output_without_a_path_never_runs(workspace_dir: Path, tmp_path: Path) -> None:
    spec = write_job(tmp_path, JOB.format(path=""))
    for verb in ("validate", "create"):
        result = cli(workspace_dir, "job", verb, "--file", str(spec), "--name", "uf2")
        assert result.returncode == 2, result.stdout + result.stderr
        assert f"{spec}:3:" in result.stderr and "outputs.o" in result.stderr
        assert "uri_file output 'o' has no path" in result.stderr and "azureml:h6-uf2" in result.stderr
        assert "hint: add path: naming the file" in result.stderr and "Traceback" not in result.stderr
    assert cli(workspace_dir, "job", "show", "--name", "uf2").returncode != 0  # nothing was queued
    assert cli(workspace_dir, "data", "list", "-o", "json", check=True).stdout.strip() == "[]"


def test_a_named_uri_file_output_with_a_file_path_registers(workspace_dir: Path, tmp_path: Path) -> None:
    uri = "azureml://datastores/workspaceblobstore/paths/h6/result.csv"
    spec = write_job(tmp_path, JOB.format(path=f", path: '{uri}'"))
    result = cli(workspace_dir, "job", "create", "--file", str(spec), "--name", "uf2", "--stream")
    assert result.returncode == 0, result.stdout + result.stderr
    record = json.loads(cli(workspace_dir, "job", "show", "--name", "uf2", "-o", "json", check=True).stdout)
    assert record["status"] == "Completed" and record["registered_data"] == ["azureml:h6-uf2:1"]
    shown = cli(workspace_dir, "data", "show", "--name", "h6-uf2", "--version", "1", "-o", "json", check=True)
    data = json.loads(shown.stdout)
    assert data["type"] == "uri_file" and data["path"] == "azureml://jobs/uf2/outputs/o"  # its lineage
    target = tmp_path / "got"
    cli(workspace_dir, "data", "download", "--name", "h6-uf2", "--version", "1", "--download-path",
        str(target), check=True)
    assert [p.read_text() for p in target.rglob("result.csv")] == ["data\n"]
