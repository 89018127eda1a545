"""A secret never reaches a job's record: a literal input holding one (a connection string's key, a SAS
signature, a URL with a password, a PEM private key) is refused when the job is loaded, in one error at
that input's line that says to pass the secret through ``environment_variables`` (which runner keeps out
of its records) and never shows it; an ``azureml://`` path with a query string is refused as an https or
abfs one is. Neither is kept in runner.db, ``job show`` or ``job list``."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from runner.errors import SpecError
from runner.spec.load import load_job_spec, spec_from_data
from runner.uris import parse_path

BASE = "command: echo ${{inputs.conn}}\nenvironment: runner/busybox:latest\ninputs:\n"
PEM = "-----BEGIN RSA PRIVATE KEY-----\\nMIIEs3cr3tK\\n-----END RSA PRIVATE KEY-----"
SECRET_LITERALS = [
    '"DefaultEndpointsProtocol=https;AccountName=a;AccountKey=s3cr3tK=="',
    "https://u:s3cr3tP@host/x",
    "'https://u:p s3cr3t@host/x'",
    "https://a.blob.core.windows.net/c/x?sv=2024&sig=s3cr3tS",
    '"Server=db;Uid=me;Pwd=s3cr3tD"',
    f'"{PEM}"',
    "{type: string, default: 'sftp://me:s3cr3tF@h/d'}",
    "{value: 'Password=\"s3cr3tQ\"'}",
]


def _runner(cwd: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "RUNNER_FORKSERVER": "0", "RUNNER_WORKSPACE": str(cwd / "ws"), "COLUMNS": "200"}
    code = "import sys\nsys.argv = ['runner', *sys.argv[1:]]\nfrom runner.cli.main import main\nmain()"
    return subprocess.run([sys.executable, "-c", code, *args], capture_output=True, text=True,
                          timeout=120, check=False, env=env, cwd=cwd)


def _never_kept(tmp_path: Path) -> None:
    """No file of the workspace (runner.db, its log, a job folder) holds the secret."""
    for path in (tmp_path / "ws").rglob("*"):
        if path.is_file():
            assert b"s3cr3t" not in path.read_bytes(), path


@pytest.mark.parametrize("literal", SECRET_LITERALS)
def test_a_literal_input_holding_a_secret_is_refused_at_its_line(tmp_path: Path, literal: str) -> None:
    (tmp_path / "lit.yml").write_text(f"{BASE}  conn: {literal}\n")
    with pytest.raises(SpecError) as caught:
        load_job_spec(tmp_path / "lit.yml")
    err = caught.value
    text = err.render()
    assert "s3cr3t" not in text, text
    assert err.field == "inputs.conn" and "lit.yml:4:" in str(err.where), text
    assert "looks like a secret" in err.message and "environment_variables" in (err.hint or ""), text


@pytest.mark.parametrize("command", ["validate", "create"])
def test_the_cli_refuses_it_in_one_error_and_keeps_nothing(tmp_path: Path, command: str) -> None:
    (tmp_path / "lit.yml").write_text(f"{BASE}  conn: {SECRET_LITERALS[0]}\n")
    result = _runner(tmp_path, "job", command, "--file", "lit.yml")
    shown = result.stdout + result.stderr
    assert result.returncode == 2 and result.stdout == "", shown
    lines = result.stderr.splitlines()
    assert lines[0].startswith("error: ") and "lit.yml:4:" in lines[0] and "inputs.conn" in lines[0], shown
    assert len(lines) == 2 and lines[1].startswith("  hint: ") and "environment_variables" in lines[1], shown
    assert "s3cr3t" not in shown and "Traceback" not in shown, shown
    _never_kept(tmp_path)


def test_a_literal_given_with_set_is_refused_too(tmp_path: Path) -> None:
    (tmp_path / "lit.yml").write_text(f"{BASE}  conn: x\n")
    result = _runner(tmp_path, "job", "validate", "--file", "lit.yml", "--set",
                     "inputs.conn=https://u:s3cr3tP@host/x")
    shown = result.stdout + result.stderr
    assert result.returncode == 2, shown
    assert "inputs.conn (from --set inputs.conn=https://u:***@host/x)" in shown, shown
    assert "s3cr3t" not in shown, shown


def test_a_python_built_job_is_refused_naming_the_input() -> None:
    with pytest.raises(SpecError) as caught:
        spec_from_data({"command": "echo ${{inputs.conn}}", "environment": "python:3.11",
                        "inputs": {"conn": "AccountName=a;AccountKey=s3cr3tK=="}})
    assert caught.value.field == "inputs.conn" and "s3cr3t" not in caught.value.render()


def test_a_pipeline_input_and_a_step_literal_are_refused(tmp_path: Path) -> None:
    (tmp_path / "p.yml").write_text(
        "type: pipeline\ninputs:\n  conn: 'AccountName=a;AccountKey=s3cr3tK=='\njobs:\n  s:\n"
        "    command: echo ${{inputs.c}}\n    environment: runner/busybox:latest\n"
        "    inputs:\n      c: ${{parent.inputs.conn}}\n")
    result = _runner(tmp_path, "job", "validate", "--file", "p.yml")
    shown = result.stdout + result.stderr
    assert result.returncode == 2 and "p.yml:3:" in shown and "inputs.conn" in shown, shown
    assert "s3cr3t" not in shown, shown
    (tmp_path / "p.yml").write_text(
        "type: pipeline\njobs:\n  s:\n    command: echo ${{inputs.c}}\n"
        "    environment: runner/busybox:latest\n"
        "    inputs:\n      c: 'AccountName=a;AccountKey=s3cr3tK=='\n")
    result = _runner(tmp_path, "job", "validate", "--file", "p.yml")
    shown = result.stdout + result.stderr
    assert result.returncode == 2 and "p.yml:7:" in shown and "jobs.s.inputs.c" in shown, shown
    assert "s3cr3t" not in shown, shown


@pytest.mark.parametrize("literal", ["https://example.com/x?page=2", "key=value", "AccountName=a", "3",
                                     "https://me@example.com/x", "-----BEGIN PUBLIC KEY-----"])
def test_a_literal_with_no_secret_is_kept(tmp_path: Path, literal: str) -> None:
    (tmp_path / "lit.yml").write_text(f"{BASE}  conn: '{literal}'\n")
    spec = load_job_spec(tmp_path / "lit.yml")
    assert spec.inputs["conn"].rendered() == literal  # type: ignore[union-attr]


@pytest.mark.parametrize("path", ["azureml://datastores/ab/paths/d?sig=s3cr3tQ",
                                  "azureml://datastores/ab/paths/d?x=1",
                                  "azureml://subscriptions/s/resourcegroups/g/workspaces/w/datastores/ab/paths/"
                                  "d?sv=1&sig=s3cr3tQ",
                                  "azureml://jobs/j1/outputs/o/paths/x?sig=s3cr3tQ",
                                  "runs:/j1/x?sig=s3cr3tQ", "azureml:name:1?sig=s3cr3tQ"])
def test_an_azureml_path_with_a_query_is_refused(path: str) -> None:
    with pytest.raises(SpecError) as caught:
        parse_path(path, field="inputs.d.path")
    text = caught.value.render()
    assert "query string" in text and "s3cr3t" not in text, text
    assert "datastore" in (caught.value.hint or ""), text


def test_a_job_with_an_azureml_path_query_is_refused_and_not_kept(tmp_path: Path) -> None:
    (tmp_path / "q.yml").write_text("command: ls ${{inputs.d}}\nenvironment: runner/busybox:latest\n"
                                    "inputs:\n  d:\n    type: uri_folder\n"
                                    "    path: azureml://datastores/workspaceblobstore/paths/d?sig=s3cr3tQ\n")
    result = _runner(tmp_path, "job", "create", "--file", "q.yml")
    shown = result.stdout + result.stderr
    assert result.returncode == 2 and "q.yml:6:" in shown and "inputs.d.path" in shown, shown
    assert "query string" in shown and "s3cr3t" not in shown and "Traceback" not in shown, shown
    _never_kept(tmp_path)
