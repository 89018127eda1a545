"""`runner data ...` end to end: the azureml-examples data YAML unchanged (with --name/--version
overrides), every verb, az's generic update arguments (also on `model update`), one clear error for each
kind of bad input, and data assets as job inputs and outputs with lineage both ways (process backend:
no container needed)."""

from __future__ import annotations

import json
import shlex
import shutil
import textwrap
from pathlib import Path

import pytest
from click.testing import CliRunner
from repo_paths import EXAMPLES

from runner.cli.main import app
from runner.errors import RunnerError

pytestmark = pytest.mark.examples

DATA_EXAMPLES = EXAMPLES / "cli" / "assets" / "data"


def cli(*args: str) -> tuple[int, str]:
    """Run the CLI in-process; a RunnerError is rendered the way `runner` prints it."""
    result = CliRunner().invoke(app, list(args))
    if isinstance(result.exception, RunnerError):
        return result.exception.exit_code, f"error: {result.exception.render()}"
    if result.exception and not isinstance(result.exception, SystemExit):
        raise result.exception
    return result.exit_code, result.output


def cli_json(*args: str) -> object:
    code, out = cli(*args, "-o", "json")
    assert code == 0, out
    return json.loads(out)


@pytest.fixture
def examples(tmp_path: Path) -> Path:
    target = tmp_path / "data"
    shutil.copytree(DATA_EXAMPLES, target)
    return target


def test_example_yaml_with_overrides_and_every_verb(workspace_dir: Path, examples: Path,
                                                    tmp_path: Path) -> None:
    yml = str(examples / "local-folder-sampledata.yml")
    first = cli_json("data", "create", "--file", yml)
    assert isinstance(first, dict) and (first["name"], first["version"]) == ("local-folder-sampledata", "1")
    stored = workspace_dir / "datastores/workspaceblobstore/DataUpload/local-folder-sampledata/1/example-data"
    assert (stored / "iris.csv").read_bytes() == (examples / "example-data" / "iris.csv").read_bytes()
    named = cli_json("data", "create", "-f", yml, "--name", "sampledata", "--version", "4")
    assert isinstance(named, dict) and (named["name"], named["version"], named["type"]) == (
        "sampledata", "4", "uri_folder")
    iris = str(examples / "example-data" / "iris.csv")
    one = cli_json("data", "create", "--name", "sampledata", "--path", iris, "--type", "uri_file", "--tags",
                   "team=ml")
    assert isinstance(one, dict) and one["version"] == "5" and one["tags"] == {"team": "ml"}
    assert [d["version"] for d in cli_json("data", "list", "--name", "sampledata")] == ["5", "4"]  # type: ignore[union-attr]
    latest = cli_json("data", "show", "--name", "sampledata", "--label", "latest")
    assert isinstance(latest, dict) and latest["type"] == "uri_file"
    updated = cli_json("data", "update", "--name", "sampledata", "--version", "5", "--set",
                       "description=Iris as one file", "--add", "tags", "stage=Prod", "owner=me",
                       "--remove", "tags.team")
    assert isinstance(updated, dict) and updated["description"] == "Iris as one file"
    assert updated["tags"] == {"stage": "Prod", "owner": "me"}
    code, out = cli("data", "archive", "--name", "sampledata", "--version", "5")
    assert code == 0 and "archived data asset 'sampledata' version 5" in out
    assert [d["version"] for d in cli_json("data", "list", "--name", "sampledata")] == ["4"]  # type: ignore[union-attr]
    code, out = cli("data", "restore", "--name", "sampledata", "--version", "5")
    assert code == 0
    code, out = cli("data", "download", "--name", "sampledata", "--version", "4", "--download-path",
                    str(tmp_path / "dl"))
    assert code == 0 and (tmp_path / "dl" / "sampledata" / "example-data" / "iris.csv").is_file()
    code, out = cli("data", "list")
    assert code == 0 and "sampledata" in out and "uri_folder" in out  # a readable table


def test_model_update_takes_the_generic_arguments_too(workspace_dir: Path) -> None:
    model = EXAMPLES / "cli" / "assets" / "model" / "mlflow-model" / "model.pkl"
    cli("model", "create", "--name", "m", "--path", str(model), "--tags", "a=1")
    updated = cli_json("model", "update", "--name", "m", "--version", "1", "--add", "tags", "b=2", "c=3",
                       "--remove", "tags.a")
    assert isinstance(updated, dict) and updated["tags"] == {"b": "2", "c": "3"}
    assert cli_json("model", "update", "-n", "m", "-v", "1", "--remove", "tags")["tags"] == {}  # type: ignore[index]


@pytest.mark.parametrize(("args", "expected"), [
    (("data", "create", "--name", "d"), "give --file, or --name and --path"),
    (("data", "create", "--name", "d", "--path", "/no/such/folder"), "'/no/such/folder' does not exist"),
    (("data", "create", "--name", "bad name", "--path", "EXAMPLE"), "invalid data asset name 'bad name'"),
    (("data", "create", "--name", "d", "--path", "EXAMPLE", "--type", "uri_file"),
     "a uri_file data asset must be a file"),
    (("data", "create", "--name", "d", "--path", "EXAMPLE", "--type", "mltable"), "has no MLTable file"),
    (("data", "create", "--file", "/no/such/data.yml"), "file not found"),
    (("data", "show", "--name", "nothing", "--version", "1"), "unknown data asset 'nothing'"),
    (("data", "show", "--name", "d"), "give --version or --label"),
    (("data", "show", "--name", "d", "--label", "best"), "unknown label 'best'"),
    (("data", "update", "--name", "d", "--version", "1"), "nothing to update"),
    (("data", "update", "--name", "d", "--version", "1", "--set", "path=x"), "Asset paths cannot be updated"),
    (("data", "update", "--name", "d", "--version", "1", "--add", "description", "x=y"),
     "only tags (a map) can be added to"),
    (("data", "update", "--name", "d", "--version", "1", "--add", "tags", "novalue"),
     "--add tags expects key=value pairs"),
    (("data", "update", "--name", "d", "--version", "1", "--set", "nothing"), "--set expects field=value"),
    (("data", "archive", "--name", "nothing"), "unknown data asset 'nothing'"),
    (("data", "restore", "--name", "d", "--version", "9"), "data asset 'd' has no version 9"),
    (("data", "download", "--name", "nothing"), "unknown data asset 'nothing'"),
])
def test_bad_input_gets_one_clear_error(workspace_dir: Path, examples: Path, args: tuple[str, ...],
                                        expected: str) -> None:
    cli("data", "create", "--name", "d", "--path", str(examples / "example-data"))
    args = tuple(str(examples / "example-data") if a == "EXAMPLE" else a for a in args)
    code, out = cli(*args)
    assert code != 0 and expected in out, out
    assert "hint:" in out and "Traceback" not in out


def test_jobs_read_and_write_data_assets_with_lineage_both_ways(workspace_dir: Path, examples: Path,
                                                               tmp_path: Path) -> None:
    """hello-dataset's shape (an azureml:<data>@latest uri_folder input) and a named uri_folder output,
    which becomes a data asset version (not a custom_model) with the job as its lineage."""
    cli("data", "create", "-f", str(examples / "local-folder-sampledata.yml"), "--name", "sampledata")
    job = tmp_path / "job.yml"
    job.write_text(textwrap.dedent("""\
        command: ls ${{inputs.sampledata}} && cp ${{inputs.sampledata}}/iris.csv ${{outputs.features}}/
        inputs:
          sampledata:
            type: uri_folder
            path: azureml:sampledata@latest
            mode: download
        outputs:
          features:
            type: uri_folder
            mode: upload
            name: iris-features
        environment: python:3.11
        compute: local-process
        """))
    code, out = cli("job", "create", "--file", str(job), "--name", "data-job", "--stream")
    assert code == 0 and "iris.csv" in out
    record = cli_json("job", "show", "--name", "data-job")
    assert isinstance(record, dict) and record["registered_data"] == ["azureml:iris-features:1"]
    assert record["registered_models"] == []
    assert record["extra"]["input_assets"] == {"sampledata": "data asset azureml:sampledata:1"}
    assert "DataUpload/sampledata/1/example-data" in record["inputs"]["sampledata"]
    made = cli_json("data", "show", "--name", "iris-features", "--version", "1")
    assert isinstance(made, dict) and made["job_name"] == "data-job" and made["type"] == "uri_folder"
    assert made["path"] == "azureml://jobs/data-job/outputs/features"
    assert cli_json("model", "list") == []  # not a custom_model any more
    code, out = cli("data", "download", "--name", "iris-features", "--download-path", str(tmp_path / "dl"))
    assert code == 0 and (tmp_path / "dl" / "iris-features" / "features" / "iris.csv").is_file()


def test_registry_data_as_the_missing_asset_hint_says_and_every_verb_with_registry_name(
        workspace_dir: Path, examples: Path, tmp_path: Path) -> None:
    """The resolver's hint for a registry data version it cannot find is a command that works: `runner data
    create --registry-name` (as `runner model create` has it), and every verb takes the registry."""
    job = tmp_path / "job.yml"
    job.write_text("command: ls ${{inputs.d}}\nenvironment: python:3.11\ninputs:\n"
                   "  d: {type: uri_folder, path: azureml://registries/shared/data/iris/versions/1}\n")
    code, out = cli("job", "validate", "--file", str(job))
    assert code != 0 and "unknown data asset 'iris'" in out, out
    hinted = out.split("`")[1]  # the command the hint gives, with its <path> to fill in
    assert hinted.startswith("runner data create --registry-name shared --name iris --version 1"), hinted
    code, out = cli(*shlex.split(hinted.replace("<path>", str(examples / "example-data")))[1:], "-o", "json")
    assert code == 0, out
    code, out = cli("job", "validate", "--file", str(job))
    assert code == 0 and "DataUpload/shared/iris/1" in out, out
    assert cli_json("data", "list") == []  # a registry is its own namespace
    listed = cli_json("data", "list", "--registry-name", "shared")
    assert isinstance(listed, list) and [d["name"] for d in listed] == ["iris"]
    shown = cli_json("data", "show", "--name", "iris", "--version", "1", "--registry-name", "shared")
    assert isinstance(shown, dict) and shown["path"].endswith("DataUpload/shared/iris/1/example-data")
    updated = cli_json("data", "update", "--name", "iris", "--version", "1", "--registry-name", "shared",
                       "--set", "tags.team=ml")
    assert isinstance(updated, dict) and updated["tags"] == {"team": "ml"}
    code, out = cli("data", "download", "--name", "iris", "--registry-name", "shared", "--download-path",
                    str(tmp_path / "dl"))
    assert code == 0 and (tmp_path / "dl" / "iris" / "example-data" / "iris.csv").is_file(), out
    assert cli("data", "archive", "--name", "iris", "--registry-name", "shared")[0] == 0
    assert cli_json("data", "list", "--registry-name", "shared") == []
    assert cli("data", "restore", "--name", "iris", "--registry-name", "shared")[0] == 0
    code, out = cli("data", "show", "--name", "iris", "--version", "1")  # not in the workspace
    assert code != 0 and "unknown data asset 'iris'" in out
