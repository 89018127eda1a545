"""A secret a user gives in a value (a connection string's ``AccountKey=``, a SAS's ``sig=``, a password,
a URL's query or password) is never shown in an error: not in how the error names the ``--set`` (or
``params_override``) nor in the value it quotes ("is not a mode", "is not a valid job name", ...).
``runner.url_secrets.without_secrets`` is the one mask."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from runner import load_job
from runner.errors import SpecError
from runner.url_secrets import without_secrets

JOB = """\
command: echo hi
environment:
  image: python:3.11
inputs:
  data:
    type: uri_folder
    path: ./d
"""

CONN = "DefaultEndpointsProtocol=https;AccountName=a;AccountKey=SECRETKEY==;EndpointSuffix=core.windows.net"
SETS = [
    ("inputs.data.mode=AccountKey=SECRETKEY==", "is not a mode"),
    (f"inputs.data.pth={CONN}", "unknown field 'pth' (did you mean 'path'?)"),
    ("name=AccountKey=SECRETKEY==", "is not a valid job name"),
    ("inputs.data.mode=https://a.blob.core.windows.net/c?sv=2024&sig=SECRETSIG", "is not a mode"),
    ("name=Server=db;Uid=me;Pwd=SECRETPW", "is not a valid job name"),
    ("inputs.data.mode=Endpoint=sb://ns/;SharedAccessKeyName=r;SharedAccessKey=SECRETSAK=", "is not a mode"),
]


def _job(tmp_path: Path) -> Path:
    (tmp_path / "d").mkdir()
    job = tmp_path / "job.yml"
    job.write_text(JOB)
    return job


def _runner(cwd: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "RUNNER_FORKSERVER": "0", "RUNNER_WORKSPACE": str(cwd / "ws"), "COLUMNS": "200"}
    code = "import sys\nsys.argv = ['runner', *sys.argv[1:]]\nfrom runner.cli.main import main\nmain()"
    return subprocess.run([sys.executable, "-c", code, *args], capture_output=True, text=True,
                          timeout=120, check=False, env=env, cwd=cwd)


@pytest.mark.parametrize(("given", "said"), SETS)
def test_cli_set_error_never_shows_the_secret(tmp_path: Path, given: str, said: str) -> None:
    result = _runner(tmp_path, "job", "validate", "-f", str(_job(tmp_path)), "--set", given)
    shown = result.stdout + result.stderr
    assert result.returncode == 2, shown
    assert result.stdout == "", shown
    lines = result.stderr.splitlines()
    assert lines[0].startswith("error: ") and said in lines[0], shown
    assert all(line.startswith("  hint: ") for line in lines[1:]) and len(lines) <= 2, shown
    assert "SECRET" not in shown and "Traceback" not in shown, shown
    assert "(from --set " in lines[0], shown  # the --set is still named, its secret masked


@pytest.mark.parametrize(("given", "said"), SETS)
def test_params_override_error_never_shows_the_secret(tmp_path: Path, given: str, said: str) -> None:
    key, _, value = given.partition("=")
    with pytest.raises(SpecError) as caught:
        load_job(_job(tmp_path), params_override=[{key: value}])
    err = caught.value
    text = f"{err}\n{err.message}\n{err.hint}\n{err.field}"
    assert said in text, text
    assert "SECRET" not in text, text
    assert "params_override {" in str(err), str(err)


def test_a_secret_in_the_yaml_is_not_quoted_either(tmp_path: Path) -> None:
    job = _job(tmp_path)
    job.write_text(JOB + "    mode: AccountKey=SECRETKEY==\n")
    with pytest.raises(SpecError) as caught:
        load_job(job)
    assert "is not a mode" in str(caught.value) and "SECRET" not in str(caught.value), str(caught.value)


def test_a_set_that_is_not_key_value_is_not_echoed_with_its_secret(tmp_path: Path) -> None:
    result = _runner(tmp_path, "job", "validate", "-f", str(_job(tmp_path)), "--set", f"={CONN}")
    assert result.returncode == 2 and "is not key=value" in result.stderr, result.stderr
    assert "SECRET" not in result.stdout + result.stderr, result.stderr


def test_a_params_override_with_no_field_is_not_echoed_with_its_secret(tmp_path: Path) -> None:
    with pytest.raises(SpecError) as caught:
        load_job(_job(tmp_path), params_override=[{"": CONN}])
    err = caught.value
    assert "names no field" in str(err), str(err)
    assert "SECRET" not in f"{err}\n{err.message}\n{err.hint}", str(err)


@pytest.mark.parametrize(("text", "shown"), [
    ("AccountKey=abc==", "AccountKey=***"),
    (f"'{CONN}'", "'DefaultEndpointsProtocol=https;AccountName=a;AccountKey=***;"
                  "EndpointSuffix=core.windows.net'"),
    ("BlobEndpoint=https://a;SharedAccessSignature=sv=2022&sig=abc", "BlobEndpoint=https://a;"
                                                                      "SharedAccessSignature=***&sig=***"),
    ("Server=db;Uid=me;Pwd=hunter2;", "Server=db;Uid=me;Pwd=***;"),
    ("Password = hunter2", "Password = ***"),
    ("--db_password=hunter2 x", "--db_password=*** x"),
    ("sv=2022&ss=b&sig=abc%3D", "sv=2022&ss=b&sig=***"),
    ("https://b.s3.amazonaws.com/k?X-Amz-Signature=abc", "https://b.s3.amazonaws.com/k?<query removed>"),
    ("sftp://me:hunter2@host/x", "sftp://me:***@host/x"),
    ("X-Amz-Signature=abc", "X-Amz-Signature=***"),
])
def test_without_secrets_masks_each_kind(text: str, shown: str) -> None:
    assert without_secrets(text) == shown


@pytest.mark.parametrize("text", [
    "signal=TERM", "key=value", "AccountName=a;EndpointSuffix=core.windows.net",
    "inputs.data.mode=download", "https://example.com/x", "passwords are masked",
])
def test_without_secrets_leaves_the_rest(text: str) -> None:
    assert without_secrets(text) == text


@pytest.mark.parametrize("args", [
    ("--set", "AccountKey=SECRETKEY=="),  # the secret's key as the field path
    ("--set", "environment=AccountKey=SECRETKEY=="),  # not an image name
    ("--name", "AccountKey=SECRETKEY=="),  # not a job name
])
def test_cli_other_spec_errors_never_show_the_secret(tmp_path: Path, args: tuple[str, str]) -> None:
    result = _runner(tmp_path, "job", "validate", "-f", str(_job(tmp_path)), *args)
    shown = result.stdout + result.stderr
    assert result.returncode == 2 and result.stderr.startswith("error: "), shown
    assert "SECRET" not in shown and "Traceback" not in shown, shown


@pytest.mark.parametrize(("key", "secret"), [
    ("AccountKey", True), ("environment_variables.DB_PASSWORD", True), ("x.sig", True),
    ("inputs.data.path", False), ("signal", False), ("inputs.pwdx", False),
])
def test_names_a_secret(key: str, secret: bool) -> None:
    from runner.url_secrets import names_a_secret

    assert names_a_secret(key) is secret


def test_a_typo_set_with_a_key_value_secret_gives_a_hint_to_paste_back(tmp_path: Path) -> None:
    with pytest.raises(SpecError) as caught:
        load_job(_job(tmp_path), overrides=[f"inputs.dta.path={CONN}"])
    err = caught.value
    assert "--set inputs.data.path=<value> " in (err.hint or ""), err.hint
    assert "***" not in (err.hint or "") and "SECRET" not in err.render(), err.render()
