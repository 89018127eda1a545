"""More of the Python API's errors speak Python (``test_sdk_hints``' rule): what a Python caller sees
(``str(err)``) names the call and its keywords (``ml_client.jobs.get('j')``, ``output_name:``,
``set_values=``, ``registry_name=``), never a ``runner`` command or a ``--flag``; the CLI's text
(``err.render()``, what ``runner`` prints) is unchanged, as the CLI checks at the end show."""

from __future__ import annotations

import re
import subprocess
import sys
import zipfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from runner import Input, MLClient, command, load_component, load_job
from runner.errors import RunnerError
from runner.spec.data import Data
from runner.spec.model import Model
from runner.workspace.db import JobRecord
from runner.workspace.job_records import JobStatus

# a `runner <verb>` command, or a --flag (not inside a word or a path: pytest-of-x, a-b--c)
CLI_FORMS = re.compile(r"`runner [a-z]|\brunner (?:job|model|data|component|environment|datastore|compute) "
                       r"[a-z]|(?<![\w/-])--[a-z]")
COMPONENT = "name: comp\ncommand: python run.py\ncode: ./src\nenvironment: {image: runner/python:3.11}\n"


@pytest.fixture
def ml_client(tmp_path: Path) -> MLClient:
    client = MLClient(workspace_dir=tmp_path / "ws")
    (tmp_path / "a.txt").write_text("a")
    client.models.create_or_update(Model(name="m", version="1", path=str(tmp_path / "a.txt")))
    return client


def _raised(call: Callable[[], object]) -> RunnerError:
    with pytest.raises(RunnerError) as info:
        call()
    return info.value


def _python_only(err: RunnerError, *expected: str) -> str:
    text = str(err)
    for words in expected:
        assert words in text, text
    assert not CLI_FORMS.search(text), text
    return text


# ---- what the Python API said in the CLI's words --------------------------------------------------------
def test_stream_of_a_failed_job(ml_client: MLClient) -> None:
    ml_client.workspace.create_job(JobRecord(name="bad", status=JobStatus.FAILED, error="boom"))
    err = _raised(lambda: ml_client.jobs.stream("bad", echo=lambda _: None))
    _python_only(err, "job 'bad' ended Failed: boom", "ml_client.jobs.get('bad')", "std_log.txt")
    assert "`runner job show --name bad`" in err.render()


@pytest.mark.parametrize("status", [JobStatus.COMPLETED, JobStatus.FAILED])
def test_jobs_download_of_an_output_not_written_names_the_keyword(ml_client: MLClient, tmp_path: Path,
                                                                  status: JobStatus) -> None:
    ml_client.workspace.create_job(JobRecord(name="early", status=status, outputs={
        "o": "azureml://datastores/workspaceblobstore/paths/azureml/early/o"}))
    err = _raised(lambda: ml_client.jobs.download("early", output_name="o", download_path=tmp_path / "d"))
    assert _python_only(err).startswith("output_name: "), str(err)
    assert err.render().startswith("--output-name: ")


@pytest.mark.parametrize(("value", "python"), [
    ("x", "set_values={'tags': ...} needs a JSON object or a dict"),
    ("[1]", "set_values={'tags': ...} needs a JSON object or a dict"),
    ('{"k": [1]}', "set_values={'tags': ...}: tag 'k' is a list"),
    ({"k": {"a": 1}}, "set_values={'tags': ...}: tag 'k' is a mapping"),
])
def test_update_with_tags_that_are_not_a_mapping_of_text(ml_client: MLClient, value: Any,
                                                          python: str) -> None:
    err = _raised(lambda: ml_client.models.update("m", "1", set_values={"tags": value}))
    _python_only(err, python, "set_values=")
    assert "--set tags=" in err.render()
    assert ml_client.models.get("m", version="1").tags == {}


def test_update_takes_tags_as_a_dict(ml_client: MLClient) -> None:
    updated = ml_client.models.update("m", "1", set_values={"tags": {"stage": "prod", "n": 3}})
    assert updated.tags == {"stage": "prod", "n": "3"}


def test_a_components_unknown_label(ml_client: MLClient, tmp_path: Path) -> None:
    err = _raised(lambda: ml_client.components.get("comp", label="bad"))
    _python_only(err, "ml_client.components.get('comp', label='latest')",
                 "ml_client.components.list(name='comp')")
    assert "give --label latest" in err.render()


@pytest.mark.parametrize("reference", ["azureml:comp@bad", "azureml:comp:1", "azureml:comp@latest"])
def test_a_components_reference_given_as_its_name_or_file(ml_client: MLClient, reference: str) -> None:
    python = "label='latest'" if "@" in reference else "version='1'"
    for call in (lambda: ml_client.components.get(reference), lambda: load_component(reference)):
        _python_only(_raised(call), f"ml_client.components.get('comp', {python})")


def test_a_registry_model_not_registered_there(ml_client: MLClient) -> None:
    err = _raised(lambda: ml_client.models.create_or_update(
        Model(name="r", path="azureml://registries/reg/models/x/versions/1")))
    _python_only(err, "MLClient(registry_name='reg')", "Model(name='x', version='1', path=...)")
    assert "`runner model create --registry-name reg --name x --version 1 --path <path>`" in err.render()


def test_a_version_whose_upload_place_holds_a_registered_version(ml_client: MLClient, tmp_path: Path) -> None:
    place = ml_client.workspace.root / "datastores" / "workspaceblobstore" / "DataUpload" / "d" / "1"
    place.mkdir(parents=True)
    (place / "x.txt").write_text("x")
    ml_client.data.create_or_update(Data(name="inplace", type="uri_folder",
                                         path="azureml://datastores/workspaceblobstore/paths/DataUpload/d/1"))
    err = _raised(lambda: ml_client.data.create_or_update(
        Data(name="d", version="1", path=str(tmp_path / "a.txt"), type="uri_file")))
    _python_only(err, "give another version (`Data(name='d', version='<v>', path=...)`)")
    assert "`runner data create --version <v>`" in err.render()
    assert (place / "x.txt").read_text() == "x"


@pytest.mark.parametrize("where", ["secrets", "root", "datastores"])
def test_private_and_upload_folder_refusals(ml_client: MLClient, where: str) -> None:
    root = ml_client.workspace.root
    path = {"secrets": root / "secrets", "root": root, "datastores": root / "datastores"}[where]
    err = _raised(lambda: ml_client.data.create_or_update(Data(name="p", path=str(path), type="uri_folder")))
    _python_only(err, "cannot register this data asset")


# ---- the sweep: what a Python user meets first ------------------------------------------------------------
def test_an_unknown_job(ml_client: MLClient) -> None:
    err = _raised(lambda: ml_client.jobs.get("nope"))
    _python_only(err, "ml_client.jobs.list()", "workspace_dir=")
    assert "`runner job list`" in err.render()


def test_an_unknown_component(ml_client: MLClient) -> None:
    err = _raised(lambda: ml_client.components.get("nope"))
    _python_only(err, "ml_client.components.create_or_update(load_component(")
    assert "`runner component create --file <component.yml>`" in err.render()


def test_a_component_version_taken_by_other_content(ml_client: MLClient, tmp_path: Path) -> None:
    (tmp_path / "src").mkdir()
    (tmp_path / "src" / "run.py").write_text("print(1)\n")
    (tmp_path / "comp.yml").write_text(COMPONENT)
    ml_client.components.create_or_update(load_component(tmp_path / "comp.yml"), version="1")
    other = load_component(tmp_path / "comp.yml", params_override=[{"command": "python run.py x"}])
    err = _raised(lambda: ml_client.components.create_or_update(other, version="1"))
    _python_only(err, "(2)", "version=")
    assert "give another --version" in err.render()


@pytest.mark.parametrize("call", [
    lambda c: c.environments.get("nope", label="latest"),
    lambda c: c.jobs.validate(command(command="true", environment="azureml:nope:1"), raise_on_failure=True),
])
def test_an_unknown_environment(ml_client: MLClient, call: Callable[[MLClient], object]) -> None:
    err = _raised(lambda: call(ml_client))
    _python_only(err, "ml_client.environments.create_or_update(name='nope'", "image='runner/python:3.11'",
                 "build_context=")
    assert "`runner environment create --name nope" in err.render()


def test_an_environment_without_an_image_or_build_context(ml_client: MLClient, tmp_path: Path) -> None:
    err = _raised(lambda: ml_client.environments.create_or_update(name="e"))
    _python_only(err, "image: give exactly one of image= or build_context=")
    assert "give exactly one of --image or --build-context" in err.render()
    err = _raised(lambda: ml_client.environments.create_or_update(name="e", version="bad version",
                                                                  image="runner/python:3.11"))
    _python_only(err, "leave version unset")
    assert "leave --version out" in err.render()
    err = _raised(lambda: ml_client.environments.create_or_update(name="e", build_context=tmp_path))
    _python_only(err, "dockerfile=")
    assert "pass --dockerfile" in err.render()


def test_an_unknown_datastore_and_compute(ml_client: MLClient) -> None:
    err = _raised(lambda: ml_client.datastores.get("nope"))
    _python_only(err, "ml_client.datastores.create_or_update(load_datastore(")
    assert "`runner datastore create --file <datastore.yml>`" in err.render()
    err = _raised(lambda: ml_client.compute.get("nope"))
    _python_only(err, "ml_client.compute.create_or_update(", "'address': 'http://<head>:8265'")
    assert "`runner compute create --name nope" in err.render()


def test_a_workspace_folder_that_cannot_be_used(tmp_path: Path) -> None:
    (tmp_path / "file").write_text("")
    err = _raised(lambda: MLClient(workspace_dir=tmp_path / "file" / "ws"))
    _python_only(err, "MLClient(workspace_dir=...)", "RUNNER_WORKSPACE")
    assert "pass --workspace DIR" in err.render()


def test_a_job_file_that_does_not_exist(tmp_path: Path) -> None:
    err = _raised(lambda: load_job(tmp_path / "nope.yml"))
    _python_only(err, "file not found")
    assert "check the path given with --file" in err.render()


def test_a_job_name_taken_and_an_unknown_backend(ml_client: MLClient) -> None:
    ml_client.workspace.create_job(JobRecord(name="taken", status=JobStatus.COMPLETED))
    job = command(command="true", environment="runner/python:3.11", compute="local-process")
    err = _raised(lambda: ml_client.jobs.create_or_update(job, name="taken"))
    _python_only(err, "name=")
    assert "give another --name" in err.render()
    err = _raised(lambda: ml_client.jobs.create_or_update(job, backend="bogus"))
    assert _python_only(err, "docker, process").startswith("backend: ")
    assert err.render().startswith("--backend: ")


def test_a_pipeline_name_that_is_not_a_job_name(ml_client: MLClient, tmp_path: Path) -> None:
    (tmp_path / "p.yml").write_text("type: pipeline\njobs:\n  a:\n    type: command\n    command: 'true'\n"
                                     "    environment: runner/python:3.11\n")
    err = _raised(lambda: ml_client.jobs.create_or_update(load_job(tmp_path / "p.yml"), name="bad name!"))
    assert _python_only(err).startswith("name: "), str(err)
    assert err.render().startswith("--name: ")


def test_validate_gives_its_messages_in_python_words(ml_client: MLClient) -> None:
    result = ml_client.jobs.validate(command(command="true", environment="azureml:nope:1"))
    assert not result.passed and list(result.error_messages) == ["environment"]
    assert "ml_client.environments.create_or_update(name='nope'" in result.error_messages["environment"]
    assert not CLI_FORMS.search(result.error_messages["environment"])


def test_the_docker_engine_not_reachable(monkeypatch: pytest.MonkeyPatch) -> None:
    from runner.backends import docker as docker_backend

    def unreachable() -> object:
        raise ConnectionError("no engine")

    monkeypatch.setattr(docker_backend, "docker_client", unreachable)
    err = _raised(lambda: docker_backend.DockerBackend().client)
    _python_only(err, "backend='process'")
    assert "--backend process" in err.render()


def test_a_ray_compute_refuses_what_runs_here(ml_client: MLClient) -> None:
    ml_client.compute.create_or_update({"name": "ray1", "type": "ray", "address": "http://127.0.0.1:9"})
    job = command(command="true", environment="runner/python:3.11", compute="azureml:ray1")
    err = _raised(lambda: ml_client.jobs.create_or_update(job, backend="process"))
    assert _python_only(err, "backend='process' runs jobs", "leave backend unset").startswith("backend: ")
    assert err.render().startswith("--backend: --backend process runs jobs")
    err = _raised(lambda: ml_client.jobs.create_or_update(job, upload_on_failure=False))
    text = _python_only(err, "upload_on_failure=False keeps outputs staged", "leave it True")
    assert text.startswith("upload_on_failure: ") and err.render().startswith("--no-upload-on-failure: ")
    err = _raised(lambda: ml_client.jobs.create_or_update(job))  # its datastore: a folder on this machine
    _python_only(err, "ml_client.datastores.create_or_update(load_datastore('ds.yml'))",
                 "ml_client.compute.create_or_update({'name': 'ray1', 'datastore': '<it>', ...})")
    assert "`runner compute create --name ray1 --datastore <it> ...`" in err.render()
    assert ml_client.jobs.list() == []


def test_storage_refusals() -> None:
    from runner.workspace.storage_errors import cannot_connect, storage_error

    uri = "wasbs://c@a/x"
    for err in (storage_error(PermissionError("denied"), uri, datastore="ds"),
                cannot_connect(uri, "no", datastore="ds")):  # read through datastore 'ds'
        _python_only(err, "ml_client.datastores.get('ds')")
        assert "`runner datastore show --name ds`" in err.render()
    # a URL no datastore holds: its host to check, or (denied) a datastore to register for it
    _python_only(cannot_connect(uri, "no"), "the URL's host and port")
    err = storage_error(PermissionError("denied"), uri)
    _python_only(err, "ml_client.datastores.create_or_update(load_datastore('<datastore.yml>'))")
    assert "`runner datastore create --file <datastore.yml>`" in err.render()


@pytest.mark.parametrize(("path", "python"), [
    ("https://acct.blob.core.windows.net/c/x.csv?sv=1&sig=2", "load_datastore('<datastore.yml>')"),
    ("https://example.com/x.csv?token=2", "load_datastore('<datastore.yml>')"),
    ("sftp://me:pw@example.com/x.csv", "load_datastore('<datastore.yml>')"),
    ("file://otherhost/x.csv", "ml_client.datastores.create_or_update(...)"),
])
def test_a_path_with_a_secret_or_another_host(ml_client: MLClient, path: str, python: str) -> None:
    def validate() -> object:
        job = command(command="cat ${{inputs.d}}", environment="runner/python:3.11",
                      inputs={"d": Input(type="uri_file", path=path)})
        return ml_client.jobs.validate(job, raise_on_failure=True)

    err = _raised(validate)
    _python_only(err, python)
    assert "`runner datastore create" in err.render()


@pytest.mark.parametrize(("schema", "python"), [
    ("model", "ml_client.models.create_or_update(load_model('<this file>'))"),
    ("data", "ml_client.data.create_or_update(load_data('<this file>'))"),
    ("commandComponent", "ml_client.components.create_or_update(load_component('<this file>'))"),
])
def test_load_job_of_another_kind_of_file(tmp_path: Path, schema: str, python: str) -> None:
    (tmp_path / "f.yml").write_text(f"$schema: https://azuremlschemas.azureedge.net/latest/{schema}.schema.json"
                                    "\nname: x\npath: x\ncommand: x\n")
    err = _raised(lambda: load_job(tmp_path / "f.yml"))
    _python_only(err, python)
    assert " create --file <this file>`" in err.render()


def test_a_datastore_missing_a_field(ml_client: MLClient) -> None:
    err = _raised(lambda: ml_client.datastores.create_or_update({"name": "x", "type": "fsspec"}))
    _python_only(err, "missing required field 'url'", "the datastore's fields: name, ",
                 "url, storage_options")
    assert "`runner datastore create --help`" in err.render()


def test_a_ray_cluster_not_reachable() -> None:
    from runner.backends.ray_jobs import RayJobsClient

    err = _raised(lambda: RayJobsClient("http://127.0.0.1:9", timeout=2).version())
    assert "`ml_client.compute.get(<name>)`" in str(err) and "runner compute" not in str(err), str(err)
    assert "`runner compute show`" in err.render()


def test_a_direct_input_over_a_file_here(ml_client: MLClient, tmp_path: Path) -> None:
    with zipfile.ZipFile(tmp_path / "x.zip", "w") as archive:
        archive.writestr("a.txt", "a")
    job = command(command="cat ${{inputs.d}}", environment="runner/python:3.11", inputs={
        "d": Input(type="uri_file", path=f"zip://a.txt::file://{tmp_path}/x.zip", mode="direct")})
    err = _raised(lambda: ml_client.jobs.validate(job, raise_on_failure=True))
    _python_only(err, "mode='ro_mount' or mode='download'")  # refused on every backend: no backend named
    assert "mode: ro_mount or mode: download" in err.render() and "process" not in err.render()


def test_unsafe_docker_args(ml_client: MLClient) -> None:
    job = command(command="true", environment="runner/python:3.11", resources={"docker_args": "--privileged"})
    err = _raised(lambda: ml_client.jobs.validate(job, raise_on_failure=True))
    text = str(err)
    assert "allow_unsafe_docker_args=True" in text and "--allow-unsafe-docker-args" not in text, text
    assert "--allow-unsafe-docker-args" in err.render()


# ---- the CLI says what it said -------------------------------------------------------------------------
def _cli(ws: Path, *args: str) -> str:
    result = subprocess.run([sys.executable, "-m", "runner", "--workspace", str(ws), *args],
                            capture_output=True, text=True, timeout=120, check=False)
    assert result.returncode != 0, result.stdout
    assert "Traceback" not in result.stderr
    return result.stderr


def test_the_cli_keeps_its_words(ml_client: MLClient, tmp_path: Path) -> None:
    ws = ml_client.workspace.root
    ml_client.workspace.create_job(JobRecord(name="early", status=JobStatus.FAILED, outputs={
        "o": "azureml://datastores/workspaceblobstore/paths/azureml/early/o"}))
    said = _cli(ws, "job", "download", "--name", "early", "--output-name", "o", "-p", str(tmp_path / "d"))
    assert said.startswith("error: --output-name: ") and "`runner job show --name early`" in said, said
    said = _cli(ws, "model", "update", "--name", "m", "--version", "1", "--set", "tags=x")
    assert "--set tags=... needs a JSON object" in said and "--set tags.<key>=<value>" in said, said
    said = _cli(ws, "component", "show", "--name", "comp", "--label", "bad")
    assert "give --label latest" in said and "`runner component list --name comp`" in said, said
    said = _cli(ws, "environment", "show", "--name", "nope")
    assert "`runner environment create --name nope --image <local-image>`" in said, said
