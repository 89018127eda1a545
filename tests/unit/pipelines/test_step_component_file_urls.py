"""A pipeline step's ``component: file:...`` and its environment's ``conda_file`` read the ``file:`` forms as
a job's paths do (``runner.file_urls``): ``file:///x``, ``file://localhost/x`` and ``file:/x`` are this
machine's ``/x`` (percent-decoded), ``file:<relative>`` is that path from the pipeline's folder, and
``file://<another host>/x`` is one error at the step's field, never the relative path ``<host>/x``. A
reused step's record shows a local input as the run would (its absolute path). Everything lives in this
test's tmp_path."""

from __future__ import annotations

from pathlib import Path

import pytest

from runner.errors import SpecError
from runner.pipelines.graph import build_graph
from runner.pipelines.record import StepPlan, reused_record
from runner.spec.load import spec_from_data
from runner.spec.pipeline import load_pipeline_spec
from runner.workspace.db import JobRecord, JobStatus, Workspace

COMPONENT = "name: reader\nversion: 1\ncommand: echo hi\nenvironment: {image: runner/busybox:latest}\n"
CONDA = "name: e\ndependencies:\n  - pip:\n    - requests==2.31.0\n"
FORMS = ["file://localhost{path}", "file:{path}", "file://{path}", "{uri}", "FILE://LOCALHOST{path}"]


@pytest.fixture
def ws(tmp_path: Path) -> Workspace:
    return Workspace(tmp_path / "ws")


def _write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    return path


def _pipeline(tmp_path: Path, step: str) -> Path:
    """A pipeline with one step ``s`` (its first field on line 4)."""
    return _write(tmp_path / "spec" / "p.yml", f"type: pipeline\njobs:\n  s:\n{step}")


def _form(form: str, path: Path) -> str:
    return form.format(path=path, uri=path.as_uri())


@pytest.mark.parametrize("form", FORMS)
def test_a_steps_component_file_url_on_this_machine_is_loaded(ws: Workspace, tmp_path: Path,
                                                              form: str) -> None:
    component = _write(tmp_path / "my components é" / "comp.yml", COMPONENT)
    path = _pipeline(tmp_path, f"    component: \"{_form(form, component)}\"\n")
    graph = build_graph(load_pipeline_spec(path), ws, pipeline_name="p")
    assert graph.steps["s"].component is not None and graph.steps["s"].component.name == "reader"


def test_azure_mls_file_prefix_before_a_relative_component(ws: Workspace, tmp_path: Path) -> None:
    _write(tmp_path / "spec" / "comps" / "comp.yml", COMPONENT)
    graph = build_graph(load_pipeline_spec(_pipeline(tmp_path, "    component: file:comps/comp.yml\n")), ws,
                        pipeline_name="p")
    assert graph.steps["s"].component is not None and graph.steps["s"].component.name == "reader"


@pytest.mark.parametrize("ref", ["file://fileserver/comp.yml", "file://me@fileserver:22/comp.yml"])
def test_a_steps_component_on_another_host_is_one_error_at_its_line(ws: Workspace, tmp_path: Path,
                                                                   ref: str) -> None:
    _write(tmp_path / "spec" / "fileserver" / "comp.yml", COMPONENT)  # the relative reading: never taken
    path = _pipeline(tmp_path, f"    component: \"{ref}\"\n")
    with pytest.raises(SpecError) as refused:
        build_graph(load_pipeline_spec(path), ws, pipeline_name="p")
    err = refused.value
    assert err.field == "jobs.s.component" and err.where is not None
    assert err.where.file == path and err.where.line == 4
    assert "step 's'" in err.message and "names the host 'fileserver" in err.message
    assert "not found" not in err.message and err.hint is not None and "file:///" in err.hint


def _inline_step(conda_file: str) -> str:
    """An inline step whose ``conda_file:`` is on line 7 of the pipeline."""
    return ("    command: echo hi\n    environment:\n      image: runner/python:3.11\n"
            f"      conda_file: \"{conda_file}\"\n")


@pytest.mark.parametrize("form", FORMS)
def test_an_inline_steps_conda_file_url_is_read(ws: Workspace, tmp_path: Path, form: str) -> None:
    conda = _write(tmp_path / "my envs" / "conda é.yml", CONDA)
    graph = build_graph(load_pipeline_spec(_pipeline(tmp_path, _inline_step(_form(form, conda)))), ws,
                        pipeline_name="p")
    assert graph.steps["s"].spec.environment is not None


def test_an_inline_steps_conda_file_on_another_host_is_one_error_at_its_line(ws: Workspace,
                                                                           tmp_path: Path) -> None:
    _write(tmp_path / "spec" / "fileserver" / "conda.yml", CONDA)
    path = _pipeline(tmp_path, _inline_step("file://fileserver/conda.yml"))
    with pytest.raises(SpecError) as refused:
        build_graph(load_pipeline_spec(path), ws, pipeline_name="p")
    err = refused.value
    assert err.field == "jobs.s.environment.conda_file" and err.where is not None and err.where.line == 7
    assert "step 's'" in err.message and "names the host 'fileserver'" in err.message
    assert "does not exist" not in err.message


def test_a_components_conda_file_on_another_host_is_one_error_at_its_line(ws: Workspace,
                                                                        tmp_path: Path) -> None:
    _write(tmp_path / "comp" / "fileserver" / "conda.yml", CONDA)
    component = _write(tmp_path / "comp" / "comp.yml", "name: reader\ncommand: echo hi\nenvironment:\n"
                       "  image: runner/python:3.11\n  conda_file: file://fileserver/conda.yml\n")
    path = _pipeline(tmp_path, f"    component: {component}\n")
    with pytest.raises(SpecError) as refused:
        build_graph(load_pipeline_spec(path), ws, pipeline_name="p")
    err = refused.value
    assert err.field == "environment.conda_file" and err.where is not None
    assert err.where.file == component and err.where.line == 5
    assert "names the host 'fileserver'" in err.message and "does not exist" not in err.message


@pytest.mark.parametrize("form", FORMS)
def test_a_reused_steps_record_shows_a_local_input_as_its_path(ws: Workspace, tmp_path: Path,
                                                               form: str) -> None:
    data = tmp_path / "data é 1"
    data.mkdir()
    ws.create_job(JobRecord(name="earlier", status=JobStatus.COMPLETED, outputs={}))
    spec = spec_from_data({"command": "ls ${{inputs.d}}", "environment": {"image": "busybox:latest"},
                           "inputs": {"d": {"type": "uri_folder", "path": _form(form, data)}}},
                          base_dir=tmp_path)
    plan = StepPlan("s", "p-s", spec.to_yaml_dict(), str(tmp_path), (), "inline command", True)
    assert reused_record(ws, plan, spec, "earlier", None).inputs == {"d": str(data)}


def test_a_steps_malformed_component_reference_is_one_error_at_its_line(ws: Workspace,
                                                                        tmp_path: Path) -> None:
    path = _pipeline(tmp_path, "    component: \"azureml:a b\"\n")
    with pytest.raises(SpecError) as refused:
        build_graph(load_pipeline_spec(path), ws, pipeline_name="p")
    err = refused.value
    assert err.field == "jobs.s.component" and err.where is not None and err.where.line == 4
    assert "is not a component reference" in err.message and err.hint is not None and "azureml:" in err.hint
