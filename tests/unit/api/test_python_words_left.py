"""The last of the CLI's words a Python caller met (``test_sdk_hints_python_words``' rule: ``str(err)``
names keywords and calls, never a ``--flag`` or a ``runner`` command; ``err.render()``, the CLI's text, is
unchanged): ``load_job(..., params_override=[...])``'s errors and warnings name ``params_override`` where
the CLI's name ``--set``; a pipeline input's hints; a datastore an older runner saved; an environment
``file:`` image; a dsl step's missing ``code``. And ``ml_client.environments.get`` takes a version or a
label, as azure-ai-ml's does (``Must provide either version or label``); ``ml_client.components.get``
defaults to the newest, as azure-ai-ml's does, but refuses both."""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Callable
from pathlib import Path

import pytest

from runner import Input, MLClient, command, load_component, load_datastore, load_job
from runner.dsl import pipeline
from runner.errors import RunnerError, SpecError
from runner.spec.load import load_job_spec
from runner.spec.pipeline import load_pipeline_spec

CLI_FORMS = re.compile(r"`runner [a-z]|\brunner (?:job|model|data|component|environment|datastore|compute) "
                       r"[a-z]|(?<![\w/-])--[a-z]")
ENV = "azureml:AzureML-sklearn-1.5@latest"
JOB = f"command: ls ${{{{inputs.data}}}}\nenvironment: {ENV}\ninputs:\n  data:\n    path: a\n"
PIPELINE = f"""\
type: pipeline
inputs:
  x: {{type: uri_folder}}
settings: {{default_compute: local-process}}
jobs:
  s:
    type: command
    command: ls ${{{{inputs.d}}}}
    environment: {ENV}
    inputs:
      d: ${{{{parent.inputs.x}}}}
"""
COMPONENT = "type: command\nname: c\ninputs:\n  x: {type: uri_folder}\ncommand: ls ${{inputs.x}}\n" \
            "environment: {image: 'unused:1'}\n"


@pytest.fixture
def ml_client(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> MLClient:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "a").mkdir()
    (tmp_path / "j.yml").write_text(JOB)
    (tmp_path / "p.yml").write_text(PIPELINE)
    return MLClient(workspace_dir=tmp_path / "ws")


def _raised(call: Callable[[], object]) -> RunnerError:
    with pytest.raises(RunnerError) as info:
        call()
    return info.value


def _python_only(err: RunnerError, *expected: str) -> str:
    text = str(err)
    for words in expected:
        assert words in text, text
    assert not CLI_FORMS.search(text) and "Traceback" not in text, text
    return text


# ---- load_job(..., params_override=[...]) ---------------------------------------------------------------
def test_a_typo_in_params_override(ml_client: MLClient) -> None:
    err = _raised(lambda: load_job("j.yml", params_override=[{"inputs.dta.path": "b"}]))
    _python_only(err, "inputs.dta (from params_override {'inputs.dta.path': 'b'})", "did you mean 'data'",
                 "params_override=[{'inputs.data.path': 'b'}] sets the file's input 'data'")
    cli = _raised(lambda: load_job_spec("j.yml", ["inputs.dta.path=b"])).render()
    assert "inputs.dta (from --set inputs.dta.path=b)" in cli and "--set inputs.data.path=b sets" in cli


def test_a_bad_value_in_params_override(ml_client: MLClient) -> None:
    err = _raised(lambda: load_job("j.yml", params_override=[{"inputs.data.mode": "bogus"}]))
    _python_only(err, "inputs.data.mode (from params_override {'inputs.data.mode': 'bogus'})", "not a mode")
    cli = _raised(lambda: load_job_spec("j.yml", ["inputs.data.mode=bogus"])).render()
    assert "inputs.data.mode (from --set inputs.data.mode=bogus)" in cli


def test_a_path_from_params_override_that_is_not_there(ml_client: MLClient) -> None:
    job = load_job("j.yml", params_override=[{"inputs.data.path": "nope/"}])
    err = _raised(lambda: ml_client.jobs.validate(job, raise_on_failure=True))
    _python_only(err, "inputs.data.path (from params_override {'inputs.data.path': 'nope/'})",
                 "does not exist")


def test_a_value_of_params_override_is_shown_without_its_secrets(ml_client: MLClient) -> None:
    err = _raised(lambda: load_job("j.yml", params_override=[
        {"inputs.data.mode": "https://u:pw@example.invalid/x?sig=s3cret"}]))
    _python_only(err, "from params_override {'inputs.data.mode': 'https://")
    shown = err.location(python=True) or ""  # the value itself is the message's to show (not a mode)
    assert "from params_override" in shown and ":pw@" not in shown and "s3cret" not in shown, shown


def test_a_key_that_is_no_field_path_or_no_mapping(ml_client: MLClient) -> None:
    err = _raised(lambda: load_job("j.yml", params_override=[{"": "x"}]))
    _python_only(err, "params_override", "params_override=[{'inputs.<name>.path': '<path>'}]")
    assert "write --set inputs.<name>.path=<path>" in err.render()
    (Path("t.yml")).write_text(JOB + "tags: [a]\n")
    err = _raised(lambda: load_job("t.yml", params_override=[{"tags.x.y": "1"}]))
    _python_only(err, "params_override 'tags.x.y': 'tags.x' is not a mapping")
    assert "--set tags.x.y: 'tags.x' is not a mapping" in err.render()


def test_an_input_params_override_adds_is_warned_in_its_words(ml_client: MLClient,
                                                              caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.INFO, logger="runner.spec.load"):
        job = load_job("j.yml", params_override=[{"inputs.other.path": "a"}])
    warnings = job.spec._warnings
    assert warnings and all("params_override {'inputs.other.path': 'a'}" in w for w in warnings), warnings
    assert not any("--set" in w for w in warnings) and "--set" not in caplog.text, caplog.text
    cli = load_job_spec("j.yml", ["inputs.other.path=a"])._warnings
    assert any("(from --set inputs.other.path=a)" in w for w in cli), cli


def test_an_undeclared_pipeline_input_in_params_override(ml_client: MLClient) -> None:
    err = _raised(lambda: load_job("p.yml", params_override=[{"inputs.y.path": "a"}]))
    _python_only(err, "inputs.y (from params_override {'inputs.y.path': 'a'})", "has no input 'y'",
                 "the pipeline's inputs: x (params_override changes what the file has")
    cli = _raised(lambda: load_pipeline_spec("p.yml", ["inputs.y.path=a"])).render()
    assert "inputs.y (from --set inputs.y.path=a)" in cli and "(--set changes what the file has" in cli


def test_a_pipeline_input_set_by_params_override(ml_client: MLClient) -> None:
    err = _raised(lambda: load_job("p.yml", params_override=[{"inputs.x.mode": "bogus"}]))
    _python_only(err, "inputs.x.mode (from params_override {'inputs.x.mode': 'bogus'})", "not a mode")


# ---- a pipeline input's hints ---------------------------------------------------------------------------
def test_a_required_pipeline_input_of_a_yaml_loaded_in_python(ml_client: MLClient) -> None:
    err = _raised(lambda: ml_client.jobs.validate(load_job("p.yml"), raise_on_failure=True))
    _python_only(err, "pipeline input 'x' is required", "params_override=[{'inputs.x.path': ",
                 "job.inputs['x']")
    assert "--set inputs.x=<value>" in err.render()


def test_an_optional_pipeline_input_bound_to_a_required_one(ml_client: MLClient, tmp_path: Path) -> None:
    (tmp_path / "comp.yml").write_text(COMPONENT)
    (tmp_path / "p2.yml").write_text(
        "type: pipeline\ninputs:\n  o: {type: uri_folder, optional: true}\nsettings: {default_compute: "
        "local-process}\njobs:\n  r:\n    component: ./comp.yml\n    inputs:\n"
        "      x: ${{parent.inputs.o}}\n")
    err = _raised(lambda: ml_client.jobs.validate(load_job("p2.yml"), raise_on_failure=True))
    _python_only(err, "give pipeline input 'o' a value", "params_override=[{'inputs.o.path': ",
                 "job.inputs['o']")
    assert "--set inputs.o.path=..." in err.render()
    component = load_component("comp.yml")

    @pipeline(default_compute="local-process")
    def built(o=Input(type="uri_folder", optional=True)):  # type: ignore[no-untyped-def]  # noqa: B008
        component(x=o)

    err = _raised(lambda: ml_client.jobs.validate(built(), raise_on_failure=True))
    text = _python_only(err, "give pipeline input 'o' a value", "job.inputs['o']")
    assert "params_override" not in text and "path:" not in text, text


# ---- a datastore an older runner saved, an environment file, a dsl step's code --------------------------
def test_a_datastore_an_older_runner_saved(ml_client: MLClient, tmp_path: Path) -> None:
    (tmp_path / "ds.yml").write_text("name: fsold\ntype: fsspec\nurl: https://127.0.0.1:9/data\n")
    ml_client.datastores.create_or_update(load_datastore(tmp_path / "ds.yml"))
    secret = tmp_path / "ws" / "secrets" / "datastore-fsold.json"
    secret.write_text(json.dumps({**json.loads(secret.read_text()), "url": "https://bob:pw@127.0.0.1:9/d"}))
    err = _raised(lambda: ml_client.datastores.get("fsold"))
    _python_only(err, "not valid any more", "ml_client.datastores.create_or_update(load_datastore(")
    assert "`runner datastore create --file <yml>`" in err.render()


def test_an_environment_file_as_an_image(ml_client: MLClient) -> None:
    err = _raised(lambda: ml_client.environments.create_or_update(name="e", image="file:env.yml"))
    _python_only(err, "is an Azure ML environment file", "load_environment('env.yml')",
                 "ml_client.environments.create_or_update(")
    assert "map it with `runner environment create`" in err.render()


def test_a_missing_code_folder_of_a_dsl_step(ml_client: MLClient, tmp_path: Path) -> None:
    step = command(code="./nope", command="echo hi", environment=ENV)

    @pipeline(default_compute="local-process")
    def built():  # type: ignore[no-untyped-def]
        step()

    err = _raised(lambda: ml_client.jobs.validate(built(), raise_on_failure=True))
    text = _python_only(err, "does not exist", f"relative to the current folder ({tmp_path})",
                        "absolute path")
    assert "YAML" not in text and "code:" not in text.split("hint:", 1)[1], text
    (tmp_path / "comp.yml").write_text(COMPONENT.replace("command: ls", "code: ./nope\ncommand: ls"))
    (tmp_path / "p3.yml").write_text("type: pipeline\nsettings: {default_compute: local-process}\njobs:\n"
                                     "  r:\n    component: ./comp.yml\n    inputs:\n      x: {path: ./a}\n")
    err = _raised(lambda: ml_client.jobs.validate(load_job("p3.yml"), raise_on_failure=True))
    assert "relative to the component YAML" in str(err)  # a YAML's step keeps the YAML's words


# ---- environments.get / components.get as azure-ai-ml's -------------------------------------------------
def test_environments_get_needs_a_version_or_a_label(ml_client: MLClient) -> None:
    ml_client.environments.create_or_update(name="e", version="1", image="runner/python:3.11")
    ml_client.environments.create_or_update(name="e", version="2", image="runner/python:3.12")
    for call in (lambda: ml_client.environments.get("e"), lambda: ml_client.environments.get("e", version=""),
                 lambda: ml_client.environments.get("e", version=None, label="")):
        err = _raised(call)
        assert isinstance(err, SpecError) and "version or label" in err.message, err.message
        _python_only(err, "environment 'e'", 'ml_client.environments.get("e", version="1")', 'label="latest"')
    err = _raised(lambda: ml_client.environments.get("e", version="1", label="latest"))
    assert isinstance(err, SpecError) and "not both" in err.message
    assert ml_client.environments.get("e", version="1").image == "runner/python:3.11"
    assert ml_client.environments.get("e", "2").image == "runner/python:3.12"
    assert ml_client.environments.get("e", label="latest").version == "2"
    assert ml_client.environments.get("AzureML-sklearn-1.5", label="latest").builtin


def test_components_get_defaults_to_the_newest_but_refuses_both(ml_client: MLClient, tmp_path: Path) -> None:
    (tmp_path / "comp.yml").write_text(COMPONENT)
    for version in ("1", "2"):
        ml_client.components.create_or_update(load_component(tmp_path / "comp.yml"), version=version)
    assert ml_client.components.get("c").version == "2"  # azure-ai-ml: neither is label="latest"
    assert ml_client.components.get("c", version="1").version == "1"
    assert ml_client.components.get("c", label="latest").version == "2"
    err = _raised(lambda: ml_client.components.get("c", version="1", label="latest"))
    assert isinstance(err, SpecError) and "not both" in err.message
    _python_only(err, 'ml_client.components.get("c", version="1")')
