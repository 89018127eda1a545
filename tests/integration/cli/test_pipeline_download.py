"""`runner job download` of a pipeline job, as azure.ai.ml's `jobs.download` does it: the default form
gives the pipeline's artifacts (its log: every step's lines and its own), `--all` adds its named outputs,
`--output-name` one of them; each exits 0 for a Completed pipeline. Its steps download as jobs."""

from __future__ import annotations

from pathlib import Path

import pytest
from jobs_support import cli, write_job

PIPELINE = """
type: pipeline
outputs:
  final:
    mode: upload
settings:
  default_compute: local-process
jobs:
  make:
    type: command
    command: echo hello > ${{outputs.out}}/word.txt && echo made
    environment: {image: unused:1}
    outputs:
      out: {mode: upload}
  shout:
    type: command
    command: tr a-z A-Z < ${{inputs.src}}/word.txt | tee ${{outputs.out}}/loud.txt
    environment: {image: unused:1}
    inputs:
      src: {path: "${{parent.jobs.make.outputs.out}}", mode: download}
    outputs:
      out: ${{parent.outputs.final}}
"""


@pytest.fixture
def completed(workspace_dir: Path, tmp_path: Path) -> Path:
    yml = write_job(tmp_path, PIPELINE, "pipeline.yml")
    result = cli(workspace_dir, "job", "create", "--file", str(yml), "--name", "p1", "--stream")
    assert result.returncode == 0, result.stdout + result.stderr
    return workspace_dir


def _download(ws: Path, target: Path, *args: str) -> str:
    result = cli(ws, "job", "download", "--name", "p1", "--download-path", str(target), *args)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "error" not in result.stderr, result.stderr
    return result.stdout


def test_the_default_form_downloads_the_pipelines_log(completed: Path, tmp_path: Path) -> None:
    out = _download(completed, tmp_path / "default")
    log = tmp_path / "default" / "artifacts" / "user_logs" / "std_log.txt"
    assert str(tmp_path / "default" / "artifacts") in out
    text = log.read_text()
    assert "[make] made" in text and "[shout] HELLO" in text and "[pipeline] Completed" in text
    assert not (tmp_path / "default" / "named-outputs").exists()


def test_all_downloads_the_log_and_every_named_output(completed: Path, tmp_path: Path) -> None:
    _download(completed, tmp_path / "all", "--all")
    assert (tmp_path / "all" / "named-outputs" / "final" / "loud.txt").read_text() == "HELLO\n"
    log = tmp_path / "all" / "artifacts" / "user_logs" / "std_log.txt"
    assert "[pipeline] Completed" in log.read_text()
    _download(completed, tmp_path / "one", "--output-name", "final")
    assert (tmp_path / "one" / "named-outputs" / "final" / "loud.txt").read_text() == "HELLO\n"


def test_a_step_downloads_as_a_job(completed: Path, tmp_path: Path) -> None:
    result = cli(completed, "job", "download", "--name", "p1-shout", "--all", "--download-path",
                 str(tmp_path / "step"), check=True)
    assert result.returncode == 0
    assert (tmp_path / "step" / "named-outputs" / "out" / "loud.txt").read_text() == "HELLO\n"
    assert "HELLO" in (tmp_path / "step" / "artifacts" / "user_logs" / "std_log.txt").read_text()
