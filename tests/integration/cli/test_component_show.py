"""`runner component show`: the component's spec as `az ml component show` prints it (every input and
output with its type, defaults and optional), and its YAML fed back to `runner component create --file`
(the read-only fields it prints are ignored there, as for `runner model show` -> `model create`)."""

from __future__ import annotations

import json
from pathlib import Path

import yaml
from click.testing import CliRunner

from runner.cli.main import app
from runner.errors import RunnerError

COMPONENT = """\
$schema: https://azuremlschemas.azureedge.net/latest/commandComponent.schema.json
name: upper
inputs:
  text: {type: uri_folder}
  data: {type: uri_file, default: ./comp.yml, mode: download}
  n: {type: integer, default: 3}
  flag: {type: boolean, optional: true}
outputs:
  out: {type: uri_folder}
  model: {type: mlflow_model}
command: cp -r ${{inputs.text}} ${{outputs.out}}
environment: runner/busybox:latest
"""


def cli(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(app, list(args))
    if isinstance(result.exception, RunnerError):
        return result.exception.exit_code, f"error: {result.exception.render()}"
    if result.exception and not isinstance(result.exception, SystemExit):
        raise result.exception
    return result.exit_code, result.output


def _created(tmp_path: Path) -> Path:
    (tmp_path / "comp.yml").write_text(COMPONENT)
    code, out = cli("component", "create", "--file", str(tmp_path / "comp.yml"))
    assert code == 0, out
    return tmp_path / "comp.yml"


def test_show_gives_every_input_and_output_its_type(workspace_dir: Path, tmp_path: Path) -> None:
    _created(tmp_path)
    code, out = cli("component", "show", "--name", "upper", "-o", "json")
    assert code == 0, out
    shown = json.loads(out)
    assert shown["inputs"]["text"] == {"type": "uri_folder"}
    # a relative default is resolved from the component YAML's folder when it is registered
    assert shown["inputs"]["data"] == {"type": "uri_file", "default": str(tmp_path / "comp.yml"),
                                       "mode": "download"}
    assert shown["inputs"]["n"] == {"type": "integer", "default": 3}
    assert shown["inputs"]["flag"] == {"type": "boolean", "optional": True}
    assert shown["outputs"] == {"out": {"type": "uri_folder"}, "model": {"type": "mlflow_model"}}


def test_shown_yaml_is_created_again(workspace_dir: Path, tmp_path: Path) -> None:
    _created(tmp_path)
    code, out = cli("component", "show", "--name", "upper", "-o", "yaml")
    assert code == 0, out
    (tmp_path / "shown.yml").write_text(out)
    code, again = cli("component", "create", "--file", str(tmp_path / "shown.yml"), "--version", "2",
                      "-o", "yaml")
    assert code == 0, again
    recreated = yaml.safe_load(again)
    assert recreated["version"] == "2"
    assert recreated["inputs"] == yaml.safe_load(out)["inputs"]


def test_an_unknown_field_is_still_refused(workspace_dir: Path, tmp_path: Path) -> None:
    (tmp_path / "comp.yml").write_text(COMPONENT + "colour: red\n")
    code, out = cli("component", "create", "--file", str(tmp_path / "comp.yml"))
    assert code != 0 and "colour" in out and "Traceback" not in out


def test_creating_the_same_component_again_without_a_version_makes_no_new_one(workspace_dir: Path,
                                                                            tmp_path: Path) -> None:
    path = _created(tmp_path)
    result = CliRunner().invoke(app, ["component", "create", "--file", str(path)])
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["version"] == "1"
    assert "unchanged, version 1" in result.stderr
    code, out = cli("component", "list", "--name", "upper", "-o", "json")
    assert code == 0 and [c["version"] for c in json.loads(out)] == ["1"]
    path.write_text(COMPONENT.replace("cp -r", "cp -rp"))
    result = CliRunner().invoke(app, ["component", "create", "--file", str(path)])
    assert result.exit_code == 0 and json.loads(result.stdout)["version"] == "2"
    assert "unchanged" not in result.stderr
