"""A secret a user wrote in a value (a connection string's ``AccountKey=``, a ``Pwd=``, a SAS's ``sig=``) is
masked (``runner.url_secrets.without_secrets``) where runner echoes the value back: the warning for a
compute that is not registered, "does not exist" and the other messages that quote a path or URL as given,
and the plan ``job validate`` / ``job create --dry-run`` print (as text and as data: its literal inputs,
its environment, an input's source, the command they are substituted into). The exit code is as before."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from runner.workspace.storage_errors import cannot_connect, storage_error

CONN = "DefaultEndpointsProtocol=https;AccountName=a;AccountKey=SECRETKEY==;EndpointSuffix=core.windows.net"
JOB = """\
command: echo hi
environment:
  image: python:3.11
inputs:
  data:
    type: uri_folder
    path: ./d
"""
# literal inputs the plan shows masked for what a URL's query may hold; one that looks like a secret (CONN,
# a Pwd=, a sig=) is refused instead (runner.spec.secret_fields.literal_secret: REFUSED below)
LITERALS = """\
command: echo ${{inputs.conn}} ${{inputs.dsn}} ${{inputs.url}}
environment:
  image: python:3.11
experiment_name: "Pwd=SECRETPW"
inputs:
  conn: "https://h/conn?sv=1&se=SECRETSE"
  dsn:
    type: string
    value: "https://h/dsn?sv=1&se=SECRETSE"
  url: "https://a.blob.core.windows.net/c/x?sv=2024&se=SECRETSE"
  data:
    type: uri_folder
    path: memory://bucket/AccountKey=SECRETKEY==/x
environment_variables:
  DSN: "Server=db;Uid=me;Pwd=SECRETPW"
  MODE: fast
"""


def _runner(cwd: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "RUNNER_FORKSERVER": "0", "RUNNER_WORKSPACE": str(cwd / "ws"), "COLUMNS": "200"}
    code = "import sys\nsys.argv = ['runner', *sys.argv[1:]]\nfrom runner.cli.main import main\nmain()"
    return subprocess.run([sys.executable, "-c", code, *args], capture_output=True, text=True,
                          timeout=120, check=False, env=env, cwd=cwd)


def _job(tmp_path: Path, text: str = JOB) -> Path:
    (tmp_path / "d").mkdir(exist_ok=True)
    job = tmp_path / "job.yml"
    job.write_text(text)
    return job


def _no_secret(result: subprocess.CompletedProcess[str]) -> str:
    shown = result.stdout + result.stderr
    assert "SECRET" not in shown and "Traceback" not in shown, shown
    return shown


@pytest.mark.parametrize("compute", ["AccountKey=SECRETKEY==", "azureml:Server=db;Pwd=SECRETPW"])
def test_unregistered_compute_warning_masks_a_secret(tmp_path: Path, compute: str) -> None:
    result = _runner(tmp_path, "job", "validate", "-f", str(_job(tmp_path)), "--set", f"compute={compute}")
    shown = _no_secret(result)
    assert result.returncode == 0, shown
    assert "is not registered in this workspace, so the job runs on this machine" in shown, shown
    assert "=***" in shown, shown


@pytest.mark.parametrize(("path", "said"), [
    (CONN, "does not exist"),
    ("./AccountKey=ab/SECRETKEY==", "does not exist"),
    ("azureml://datastores/workspaceblobstore/paths/Pwd=SECRETPW", "does not exist"),
    ("zip://a.txt::file:///tmp/no-such-folder-s38t/Pwd=SECRETPW.zip", "does not exist"),
    ("nosuch://x/Pwd=SECRETPW", "cannot open"),
])
def test_missing_path_error_masks_a_secret(tmp_path: Path, path: str, said: str) -> None:
    result = _runner(tmp_path, "job", "validate", "-f", str(_job(tmp_path)),
                     "--set", f"inputs.data.path={path}")
    shown = _no_secret(result)
    assert result.returncode == 1, shown
    assert result.stderr.startswith("error: inputs.data.path") and said in result.stderr, shown
    assert "=***" in result.stderr.splitlines()[0].split("): ", 1)[1], shown  # the message's own quote


def test_missing_path_in_the_yaml_masks_a_secret(tmp_path: Path) -> None:
    job = _job(tmp_path, JOB.replace("./d", f"'{CONN}'"))
    result = _runner(tmp_path, "job", "validate", "-f", str(job))
    shown = _no_secret(result)
    assert result.returncode == 1, shown
    assert "does not exist" in shown and "AccountName=a;AccountKey=***;EndpointSuffix" in shown, shown


@pytest.mark.parametrize("args", [("job", "validate"), ("job", "create", "--dry-run")])
def test_printed_plan_masks_secrets(tmp_path: Path, args: tuple[str, ...]) -> None:
    result = _runner(tmp_path, *args, "-f", str(_job(tmp_path, LITERALS)))
    shown = _no_secret(result)
    assert result.returncode == 0, shown
    out = result.stdout
    assert "https://h/conn?<query removed>" in out, out  # literal input
    assert "AZUREML_EXPERIMENT_NAME   =  Pwd=***" in out, out
    assert "memory://bucket/AccountKey=***" in out, out  # an input's source
    assert "MODE                      =  fast" in out, out  # a value like any: shown
    url = "https://a.blob.core.windows.net/c/x?<query removed>\n"
    assert out.count(url) == 3, out  # the command, the literal input, its variable
    assert "removed> removed>" not in out, out  # masked once


@pytest.mark.parametrize("args", [("job", "validate", "-o", "json"),
                                  ("job", "create", "--dry-run", "-o", "json")])
def test_plan_as_data_masks_secrets(tmp_path: Path, args: tuple[str, ...]) -> None:
    result = _runner(tmp_path, *args, "-f", str(_job(tmp_path, LITERALS)))
    _no_secret(result)
    assert result.returncode == 0, result.stderr
    plan = json.loads(result.stdout)
    assert plan["literals"]["conn"] == "https://h/conn?<query removed>", plan
    assert plan["env"]["AZUREML_EXPERIMENT_NAME"] == "Pwd=***", plan
    assert plan["host_env"]["AZURE_ML_INPUT_dsn"] == "https://h/dsn?<query removed>", plan
    assert plan["env"]["MODE"] == "fast", plan
    assert plan["literals"]["url"] == "https://a.blob.core.windows.net/c/x?<query removed>", plan


def test_plan_query_masks_secrets(tmp_path: Path) -> None:
    result = _runner(tmp_path, "job", "validate", "-f", str(_job(tmp_path, LITERALS)), "--query", "literals",
                     "-o", "yaml")
    shown = _no_secret(result)
    assert result.returncode == 0, shown
    assert "?<query removed>" in result.stdout, shown


REFUSED = [('conn: "https://h/conn?sv=1&se=SECRETSE"', f'conn: "{CONN}"'),
           ('value: "https://h/dsn?sv=1&se=SECRETSE"', 'value: "Server=db;Uid=me;Pwd=SECRETPW"'),
           ("se=SECRETSE\"\n  data", "sig=SECRETSIG\"\n  data")]


@pytest.mark.parametrize(("written", "given"), REFUSED)
def test_a_literal_that_looks_like_a_secret_is_refused_not_masked(tmp_path: Path, written: str,
                                                                  given: str) -> None:
    assert written in LITERALS
    result = _runner(tmp_path, "job", "validate", "-f", str(_job(tmp_path, LITERALS.replace(written, given))))
    shown = _no_secret(result)
    assert result.returncode == 2 and "looks like a secret" in shown and result.stdout == "", shown


def test_storage_errors_mask_what_they_quote() -> None:
    uri = "memory://bucket/Pwd=SECRETPW/x"
    denied = storage_error(PermissionError(f"403 on {uri}?sv=1&sig=SECRETSIG"), uri)
    other = storage_error(RuntimeError("failed: AccountKey=SECRETKEY== rejected"), uri, datastore="ds")
    refused = cannot_connect(uri, "127.0.0.1:1: refused, Pwd=SECRETPW", datastore="ds")
    for err in (denied, other, refused):
        text = f"{err.message}\n{err.hint}\n{err.python_hint}"
        assert "SECRET" not in text and "Pwd=***" in text, text
