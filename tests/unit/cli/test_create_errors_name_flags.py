"""An error about a value given by a flag of a create command names the flag the user typed (``--path``,
``--name``, ``--conda-file``), not the field it fills (``path``); the Python caller still reads the
field (``python_field``), and an error at a line of a ``--file`` keeps its line."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

from runner.cli.main import app
from runner.errors import RunnerError


def _refused(tmp_path: Path, *args: str) -> RunnerError:
    result = CliRunner().invoke(app, ["--workspace", str(tmp_path / "ws"), *args])
    assert isinstance(result.exception, RunnerError), (result.output, result.exception)
    return result.exception


@pytest.fixture
def a_file(tmp_path: Path) -> str:
    path = tmp_path / "model.pkl"
    path.write_bytes(b"x")
    return str(path)


@pytest.mark.parametrize(("args", "flag", "field"), [
    (("model", "create", "--name", "m", "--type", "mlflow_model", "--path", "{file}"), "--path", "path"),
    (("model", "create", "--name", "bad name!", "--path", "{file}"), "--name", "name"),
    (("model", "create", "--name", "m", "--version", "a b", "--path", "{file}"), "--version", "version"),
    (("data", "create", "--name", "d", "--type", "uri_folder", "--path", "{file}"), "--path", "path"),
    (("data", "create", "--name", "b d", "--type", "uri_file", "--path", "{file}"), "--name", "name"),
    (("environment", "create", "--name", "e", "--image", "python:3.11", "--conda-file", "{file}.nope"),
     "--conda-file", "conda_file"),
    (("compute", "create", "--name", "r", "--type", "ray", "--address", "nope"), "--address", "address"),
])
def test_the_error_names_the_flag(tmp_path: Path, a_file: str, args: tuple[str, ...], flag: str,
                                  field: str) -> None:
    err = _refused(tmp_path, *(arg.replace("{file}", a_file) for arg in args))
    assert err.field == flag and err.render().startswith(f"{flag}: "), err.render()
    assert err.python_field == field and err.render(python=True).startswith(f"{field}: ")


def test_an_error_at_a_line_of_the_file_keeps_its_line(tmp_path: Path) -> None:
    spec = tmp_path / "model.yml"
    spec.write_text("name: bad name!\npath: ./model.pkl\n")
    (tmp_path / "model.pkl").write_bytes(b"x")
    err = _refused(tmp_path, "model", "create", "--file", str(spec))
    assert err.field == "name" and err.where is not None and err.where.line == 1, err.render()
