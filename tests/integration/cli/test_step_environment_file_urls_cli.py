"""``file:`` forms through the real CLI for a pipeline step's ``component:`` and an environment's
``conda_file`` (``runner.file_urls``): a pipeline whose step names its component as
``file://localhost/<path>`` (percent-encoded, as ``Path.as_uri()`` writes it) runs; one naming another
host is one error at its line from ``job validate`` (exit 2, a hint, no traceback), never the relative
file ``<host>/...``; so is a job's ``conda_file: file://<another host>/...``. Everything lives in this
test's tmp_path."""

from __future__ import annotations

from pathlib import Path

from jobs_support import cli, write_job

COMPONENT = """\
name: shout
command: echo loud > ${{outputs.out}}/word.txt && echo said
environment: {image: unused:1}
outputs:
  out: {type: uri_folder}
"""

PIPELINE = """\
type: pipeline
settings:
  default_compute: local-process
jobs:
  s:
    component: "{component}"
    outputs:
      out: {{mode: upload, path: "{out}"}}
"""


def _refused(ws: Path, path: Path, line: int, field: str) -> str:
    result = cli(ws, "job", "validate", "--file", str(path))
    assert result.returncode == 2, result.stdout + result.stderr
    stderr = result.stderr
    assert f"{path}:{line}:" in stderr and field in stderr and "hint:" in stderr, stderr
    assert "Traceback" not in stderr and "internal error" not in stderr, stderr
    return stderr


def test_a_steps_component_on_this_machine_by_file_url_runs(workspace_dir: Path, tmp_path: Path) -> None:
    component = write_job(tmp_path / "my components é", COMPONENT, name="comp.yml")
    out = tmp_path / "out"
    pipeline = write_job(tmp_path / "spec", PIPELINE.format(component="file://localhost"
                                                            + component.as_uri()[len("file://"):], out=out),
                         name="p.yml")
    ran = cli(workspace_dir, "job", "create", "--file", str(pipeline), "--name", "p1", "--stream")
    assert ran.returncode == 0, ran.stdout + ran.stderr
    assert (out / "word.txt").read_text() == "loud\n"


def test_a_steps_component_on_another_host_is_one_error_at_its_line(workspace_dir: Path,
                                                                   tmp_path: Path) -> None:
    write_job(tmp_path / "spec" / "fileserver", COMPONENT, name="comp.yml")  # the relative reading: never
    pipeline = write_job(tmp_path / "spec", PIPELINE.format(component="file://fileserver/comp.yml",
                                                            out=tmp_path / "out"), name="p.yml")
    stderr = _refused(workspace_dir, pipeline, 6, "jobs.s.component")
    assert "names the host 'fileserver'" in stderr and "file:///" in stderr and "not found" not in stderr


def test_a_jobs_conda_file_on_another_host_is_one_error_at_its_line(workspace_dir: Path,
                                                                  tmp_path: Path) -> None:
    write_job(tmp_path / "spec" / "fileserver", "name: e\ndependencies: [python=3.11]\n", name="conda.yml")
    job = write_job(tmp_path / "spec", """\
        command: echo hi
        environment:
          image: runner/python:3.11
          conda_file: file://fileserver/conda.yml
        """)
    stderr = _refused(workspace_dir, job, 4, "environment.conda_file")
    assert "names the host 'fileserver'" in stderr and "does not exist" not in stderr
