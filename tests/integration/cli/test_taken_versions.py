"""An output that would register a version that exists already is refused before anything runs, at the
output's ``version:`` line (jobs, pipeline steps; models and data assets alike); a version created while
the job runs still fails its registration, with a hint that names the output's field."""

from __future__ import annotations

from pathlib import Path

from jobs_support import cli, show, wait_for_status, write_job

MODEL_JOB = """\
command: echo weights > ${{outputs.o}}/w.bin
outputs:
  o: {type: custom_model, mode: upload, name: m, version: "1"}
environment: {image: runner/busybox:latest}
"""

DATA_JOB = """\
command: echo rows > ${{outputs.rows}}/rows.csv
outputs:
  rows:
    type: uri_folder
    mode: upload
    name: d
    version: "1"
environment: {image: runner/busybox:latest}
"""

PIPELINE = """\
type: pipeline
settings:
  default_compute: local-process
jobs:
  make:
    type: command
    command: echo made > ${{outputs.out}}/made.txt
    environment: {image: unused:1}
    outputs:
      out: {mode: upload}
  keep:
    type: command
    command: cp ${{inputs.src}}/made.txt ${{outputs.kept}}/
    environment: {image: unused:1}
    inputs:
      src: ${{parent.jobs.make.outputs.out}}
    outputs:
      kept:
        type: uri_folder
        mode: upload
        name: d
        version: "1"
"""


def _refused(ws: Path, *args: str) -> str:
    result = cli(ws, *args)
    text = result.stdout + result.stderr
    assert result.returncode == 1, text  # a registry rule (as `model create` of a taken version)
    assert text.startswith("error: ") and "Traceback" not in text, text
    return text


def _register(ws: Path, tmp_path: Path, kind: str, name: str) -> None:
    folder = tmp_path / "somefolder"
    folder.mkdir(exist_ok=True)
    (folder / "a.txt").write_text("a\n")
    cli(ws, kind, "create", "--name", name, "--path", str(folder), check=True)


def test_a_taken_model_version_is_refused_before_the_job_runs(workspace_dir: Path, tmp_path: Path) -> None:
    ws = workspace_dir
    _register(ws, tmp_path, "model", "m")
    job = write_job(tmp_path, MODEL_JOB, "reg.yml")
    for verb in ("validate", "create"):
        text = _refused(ws, "job", verb, "--file", str(job), "--name", "reg1")
        assert f"{job}:3:" in text and "outputs.o.version" in text, text
        assert "model 'm' version 1 exists already" in text, text
        assert "hint: omit outputs.o.version" in text and "(2)" in text and "--version" not in text, text
    assert cli(ws, "job", "list", "-o", "json").stdout.strip() in ("[]", "")


def test_a_taken_data_version_is_refused_before_the_job_runs(workspace_dir: Path, tmp_path: Path) -> None:
    ws = workspace_dir
    _register(ws, tmp_path, "data", "d")
    job = write_job(tmp_path, DATA_JOB, "data.yml")
    text = _refused(ws, "job", "validate", "--file", str(job))
    assert f"{job}:7:" in text and "outputs.rows.version" in text, text
    assert "data asset 'd' version 1 exists already" in text and "omit outputs.rows.version" in text, text
    text = _refused(ws, "job", "validate", "--file", str(job), "--set", "outputs.rows.version=1")
    assert "outputs.rows.version (from --set outputs.rows.version=1)" in text, text
    cli(ws, "job", "validate", "--file", str(job), "--set", "outputs.rows.version=2", check=True)


def test_a_pipeline_step_with_a_taken_version_is_refused(workspace_dir: Path, tmp_path: Path) -> None:
    ws = workspace_dir
    _register(ws, tmp_path, "data", "d")
    yml = write_job(tmp_path, PIPELINE, "pipeline.yml")
    for verb in ("validate", "create"):
        text = _refused(ws, "job", verb, "--file", str(yml), "--name", "p1")
        assert f"{yml}:22:9: jobs.keep.outputs.kept.version: step 'keep'" in text, text
        assert "data asset 'd' version 1 exists already" in text, text
        assert "hint: omit jobs.keep.outputs.kept.version to register the next version (2)" in text, text
    assert cli(ws, "job", "list", "-o", "json").stdout.strip() in ("[]", "")


def test_a_version_taken_while_the_job_runs_names_the_output(workspace_dir: Path, tmp_path: Path) -> None:
    ws = workspace_dir
    text = MODEL_JOB.replace("echo weights", "sleep 4 && echo weights")
    job = write_job(tmp_path, text, "reg.yml")
    cli(ws, "job", "create", "--file", str(job), "--name", "late", check=True)
    wait_for_status(ws, "late", {"Running", "Completed", "Failed"})
    _register(ws, tmp_path, "model", "m")  # m:1, while the job runs
    record = wait_for_status(ws, "late", {"Completed", "Failed", "Canceled"})
    assert record["status"] == "Failed", record
    error = show(ws, "late")["error"]
    assert "model 'm' version 1 exists already" in error, error
    assert "omit outputs.o.version" in error and "(2)" in error and "--version" not in error, error
    kept = ws / "datastores" / "workspaceblobstore" / "azureml" / "late" / "o" / "w.bin"
    assert kept.read_text() == "weights\n"  # the output is kept: only its registration failed
