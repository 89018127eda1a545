"""A ``uri_file`` output without a ``path`` gets a file, as in Azure ML: the file named after the output
(no extension) in its default folder, ``azureml://datastores/workspaceblobstore/paths/azureml/<job>/<o>/<o>``.
The job writes ``${{outputs.<o>}}`` as a file in every mode the matrix allows (upload, rw_mount, direct);
the recorded location is that file (read back as ``azureml://jobs/<job>/outputs/<o>`` by a later job and
by ``job download``); a named one registers as a uri_file data asset that is the file. (This file asserted
before that a named one was refused at validate; reversed deliberately: Azure's jobs run unchanged.) With
a ``path`` naming the file it registers as before."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from jobs_support import cli, datastore_file, show, write_job

JOB = """
    command: echo data > ${{{{outputs.o}}}}
    outputs:
      o: {{type: uri_file, mode: upload, name: h6-uf2{path}}}
    environment:
      image: runner/busybox:latest
    """
BOTH = """
    command: echo plain > ${{{{outputs.plain}}}} && echo named > ${{{{outputs.named}}}}
    outputs:
      plain: {{type: uri_file, mode: {mode}}}
      named: {{type: uri_file, mode: {mode}, name: uf-{mode}}}
    environment:
      image: runner/busybox:latest
    """
READ = """
    command: cat ${{{{inputs.a}}}} ${{{{inputs.b}}}}
    inputs:
      a: {{type: uri_file, path: azureml://jobs/{job}/outputs/plain}}
      b: {{type: uri_file, path: azureml://jobs/{job}/outputs/named}}
    environment:
      image: runner/busybox:latest
    """


@pytest.mark.docker
@pytest.mark.parametrize("mode", ["upload", "rw_mount", "direct"])
def test_uri_file_outputs_without_a_path_are_files(workspace_dir: Path, tmp_path: Path, mode: str) -> None:
    job = f"uf-{mode.replace('_', '-')}"
    spec = write_job(tmp_path, BOTH.format(mode=mode))
    result = cli(workspace_dir, "job", "create", "--file", str(spec), "--name", job, "--stream")
    assert result.returncode == 0, result.stdout + result.stderr
    record = show(workspace_dir, job)
    assert record["status"] == "Completed" and record["registered_data"] == [f"azureml:uf-{mode}:1"]
    for out in ("plain", "named"):  # the recorded location is the file, holding what the job wrote
        where = f"azureml/{job}/{out}/{out}"
        assert record["outputs"][out] == f"azureml://datastores/workspaceblobstore/paths/{where}"
        assert datastore_file(workspace_dir, where).read_text() == f"{out}\n"
    asset = ("--name", f"uf-{mode}", "--version", "1")
    shown = cli(workspace_dir, "data", "show", *asset, "-o", "json", check=True)
    data = json.loads(shown.stdout)
    assert data["type"] == "uri_file" and data["path"] == f"azureml://jobs/{job}/outputs/named"
    got = tmp_path / "asset"
    cli(workspace_dir, "data", "download", *asset, "--download-path", str(got), check=True)
    assert [p.read_text() for p in got.rglob("*") if p.is_file()] == ["named\n"]
    down = tmp_path / "down"
    cli(workspace_dir, "job", "download", "--name", job, "--output-name", "plain", "--download-path",
        str(down), check=True)
    assert [p.read_text() for p in down.rglob("*") if p.is_file()] == ["plain\n"]
    read = write_job(tmp_path, READ.format(job=job), name="read.yml")
    result = cli(workspace_dir, "job", "create", "--file", str(read), "--name", f"{job}-r", "--stream")
    assert result.returncode == 0 and "plain\nnamed\n" in result.stdout, result.stdout + result.stderr


def test_a_named_uri_file_output_without_a_path_validates(workspace_dir: Path, tmp_path: Path) -> None:
    spec = write_job(tmp_path, JOB.format(path=""))
    result = cli(workspace_dir, "job", "validate", "--file", str(spec), "--name", "uf2")
    assert result.returncode == 0 and "Traceback" not in result.stderr, result.stdout + result.stderr
    assert "azureml/uf2/o/o" in result.stdout + result.stderr
    assert cli(workspace_dir, "job", "show", "--name", "uf2").returncode != 0  # validate queues nothing


@pytest.mark.docker
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


PIPELINE = """
    type: pipeline
    settings: {{default_datastore: azureml:{datastore}}}
    jobs:
      make:
        type: command
        command: echo made > ${{{{outputs.out}}}}
        environment: {{image: runner/busybox:latest}}
        outputs:
          out: {{type: uri_file, mode: rw_mount}}
      keep:
        type: command
        command: cat ${{{{inputs.src}}}} > ${{{{outputs.kept}}}} && echo kept >> ${{{{outputs.kept}}}}
        environment: {{image: runner/busybox:latest}}
        inputs:
          src: {{type: uri_file, path: '${{{{parent.jobs.make.outputs.out}}}}'}}
        outputs:
          kept: {{type: uri_file, name: uf-kept}}
    """


@pytest.mark.docker
@pytest.mark.parametrize("datastore", ["workspaceblobstore", "other"])
def test_a_pipelines_uri_file_outputs_without_a_path_are_files(workspace_dir: Path, tmp_path: Path,
                                                               datastore: str) -> None:
    """A step's file on the pipeline's own default datastore too; the next step reads it as a file."""
    root = tmp_path / "other"
    root.mkdir()
    store = write_job(tmp_path, f"name: other\ntype: local\npath: {root}\n", name="other.yml")
    cli(workspace_dir, "datastore", "create", "--file", str(store), check=True)
    spec = write_job(tmp_path, PIPELINE.format(datastore=datastore), name="pipeline.yml")
    result = cli(workspace_dir, "job", "create", "--file", str(spec), "--name", "pf", "--stream")
    assert result.returncode == 0, result.stdout + result.stderr
    assert show(workspace_dir, "pf")["status"] == "Completed"
    folder = datastore_file(workspace_dir, "") if datastore == "workspaceblobstore" else root
    for step, out, text in (("make", "out", "made\n"), ("keep", "kept", "made\nkept\n")):
        record = show(workspace_dir, f"pf-{step}")
        where = f"azureml/pf-{step}/{out}/{out}"
        assert record["outputs"][out] == f"azureml://datastores/{datastore}/paths/{where}"
        assert (folder / where).read_text() == text
    assert show(workspace_dir, "pf-keep")["registered_data"] == ["azureml:uf-kept:1"]
    got = tmp_path / "asset"
    cli(workspace_dir, "data", "download", "--name", "uf-kept", "--version", "1", "--download-path", str(got),
        check=True)
    assert [p.read_text() for p in got.rglob("*") if p.is_file()] == ["made\nkept\n"]
