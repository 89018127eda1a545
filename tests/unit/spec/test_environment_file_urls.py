"""An environment's files read the ``file:`` forms as a job's paths do (``runner.file_urls``): a job's
``environment.conda_file``, ``environment: file:<env.yml>``, an environment YAML's own ``conda_file``,
``ml_client.environments`` with a ``conda_file`` path, and a registered component's conda file and
environment file. ``file:///x``, ``file://localhost/x`` and ``file:/x`` are this machine's ``/x``
(percent-decoded), ``file:<relative>`` is that path from the YAML's folder, and ``file://<another
host>/x`` is one error at the field's line, never the relative path ``<host>/x``. Everything lives in
this test's tmp_path."""

from __future__ import annotations

from pathlib import Path

import pytest

from runner.errors import SpecError
from runner.jobs.submit import plan_job
from runner.spec.component import load_component_spec
from runner.spec.environment import load_environment_file
from runner.spec.load import load_job_spec
from runner.workspace.components import ComponentStore
from runner.workspace.db import Workspace
from runner.workspace.environments import read_conda_file

CONDA = "name: e\ndependencies:\n  - python=3.11\n  - pip:\n    - requests==2.31.0\n"
INLINE = "\n  image: runner/python:3.11"  # an inline environment's first line
FORMS = ["file://localhost{path}", "file:{path}", "file://{path}", "{uri}", "FILE://LOCALHOST{path}"]


@pytest.fixture
def ws(tmp_path: Path) -> Workspace:
    return Workspace(tmp_path / "ws")


def _conda(folder: Path) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "conda é.yml"
    path.write_text(CONDA)
    return path


def _write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    return path


def _job_with_conda(tmp_path: Path, conda_file: str) -> Path:
    """A job YAML whose ``conda_file:`` is on line 4."""
    return _write(tmp_path / "spec" / "job.yml", "command: echo hi\nenvironment:\n"
                  f"  image: runner/python:3.11\n  conda_file: \"{conda_file}\"\n")


def _form(form: str, path: Path) -> str:
    return form.format(path=path, uri=path.as_uri())


@pytest.mark.parametrize("form", FORMS)
def test_a_jobs_conda_file_url_on_this_machine_is_read(ws: Workspace, tmp_path: Path, form: str) -> None:
    conda = _conda(tmp_path / "my envs")
    plan = plan_job(load_job_spec(_job_with_conda(tmp_path, _form(form, conda))), workspace=ws, job_name="j1")
    assert plan.conda is not None and plan.conda.source == str(conda)
    assert "requests==2.31.0" in plan.conda.requirements


def test_azure_mls_file_prefix_before_a_relative_conda_file(ws: Workspace, tmp_path: Path) -> None:
    conda = _conda(tmp_path / "spec" / "env")
    plan = plan_job(load_job_spec(_job_with_conda(tmp_path, "file:env/conda é.yml")), workspace=ws,
                    job_name="j1")
    assert plan.conda is not None and plan.conda.source == str(conda)


@pytest.mark.parametrize("conda_file", ["file://fileserver/env/conda.yml", "file://me@fileserver/env/conda.yml"])
def test_a_jobs_conda_file_on_another_host_is_one_error_at_its_line(ws: Workspace, tmp_path: Path,
                                                                    conda_file: str) -> None:
    _write(tmp_path / "spec" / "fileserver" / "env" / "conda.yml", CONDA)  # the relative reading: never taken
    job = _job_with_conda(tmp_path, conda_file)
    with pytest.raises(SpecError) as refused:
        plan_job(load_job_spec(job), workspace=ws, job_name="j1")
    err = refused.value
    assert err.field == "environment.conda_file" and err.where is not None
    assert err.where.file == job and err.where.line == 4
    assert "names the host 'fileserver'" in err.message and "does not exist" not in err.message
    assert err.hint is not None and "file:///" in err.hint


def _env_file(folder: Path, conda_file: str = "conda é.yml") -> Path:
    """An environment YAML (its ``conda_file:`` on line 3) with its conda file beside it."""
    _conda(folder)
    return _write(folder / "env.yml", f"name: e\nimage: runner/python:3.11\nconda_file: \"{conda_file}\"\n")


@pytest.mark.parametrize("form", FORMS)
def test_an_environment_file_url_on_this_machine_is_read(ws: Workspace, tmp_path: Path, form: str) -> None:
    env = _env_file(tmp_path / "my envs")
    job = _write(tmp_path / "spec" / "job.yml", f"command: echo hi\nenvironment: \"{_form(form, env)}\"\n")
    plan = plan_job(load_job_spec(job), workspace=ws, job_name="j1")
    assert plan.conda is not None and plan.conda.source == str(env.parent / "conda é.yml")


def test_an_environment_file_on_another_host_is_one_error_at_its_line(ws: Workspace, tmp_path: Path) -> None:
    _env_file(tmp_path / "spec" / "fileserver")  # the relative reading would find it: never read
    job = _write(tmp_path / "spec" / "job.yml", "command: echo hi\nenvironment: file://fileserver/env.yml\n")
    with pytest.raises(SpecError) as refused:
        plan_job(load_job_spec(job), workspace=ws, job_name="j1")
    err = refused.value
    assert err.field == "environment" and err.where is not None and err.where.line == 2
    assert "names the host 'fileserver'" in err.message and err.hint is not None and "file:///" in err.hint


@pytest.mark.parametrize("form", FORMS)
def test_an_environment_yamls_own_conda_file_url_is_read(tmp_path: Path, form: str) -> None:
    conda = _conda(tmp_path / "elsewhere")
    env = load_environment_file(_env_file(tmp_path / "env", _form(form, conda)))
    assert env.conda_file == str(conda)


def test_an_environment_yamls_conda_file_on_another_host_is_one_error_at_its_line(tmp_path: Path) -> None:
    _conda(tmp_path / "env" / "fileserver")
    path = _env_file(tmp_path / "env", "file://fileserver/conda é.yml")
    with pytest.raises(SpecError) as refused:
        load_environment_file(path)
    err = refused.value
    assert err.field == "conda_file" and err.where is not None and err.where.file == path
    assert err.where.line == 3 and "names the host 'fileserver'" in err.message


def test_a_registered_environments_conda_file_url(tmp_path: Path) -> None:
    conda = _conda(tmp_path / "my envs")
    for form in FORMS:
        assert read_conda_file(_form(form, conda), image="runner/python:3.11", base_dir=tmp_path) == CONDA
    with pytest.raises(SpecError) as refused:
        read_conda_file("file://fileserver/conda.yml", image="runner/python:3.11", base_dir=tmp_path)
    assert refused.value.field == "conda_file" and "names the host 'fileserver'" in refused.value.message


def _component(folder: Path, environment: str) -> Path:
    """A component YAML whose ``environment`` starts on line 3 (an inline one's ``conda_file:`` on 5)."""
    return _write(folder / "comp.yml", f"name: reader\ncommand: echo hi\nenvironment:{environment}\n")


@pytest.mark.parametrize("form", FORMS)
def test_a_components_conda_file_url_is_registered(ws: Workspace, tmp_path: Path, form: str) -> None:
    conda = _conda(tmp_path / "my envs")
    path = _component(tmp_path / "spec", f"{INLINE}\n  conda_file: \"{_form(form, conda)}\"")
    record = ComponentStore(ws).create(load_component_spec(path))
    assert Path(record.spec["environment"]["conda_file"]).read_text() == CONDA


@pytest.mark.parametrize("form", FORMS)
def test_a_components_environment_file_url_is_registered(ws: Workspace, tmp_path: Path, form: str) -> None:
    env = _env_file(tmp_path / "my envs")
    path = _component(tmp_path / "spec", f" \"{_form(form, env)}\"")
    record = ComponentStore(ws).create(load_component_spec(path))
    assert record.spec["environment"]["image"] == "runner/python:3.11"
    assert Path(record.spec["environment"]["conda_file"]).read_text() == CONDA


def test_a_components_conda_file_on_another_host_is_one_error_at_its_line(ws: Workspace,
                                                                        tmp_path: Path) -> None:
    _conda(tmp_path / "spec" / "fileserver")
    path = _component(tmp_path / "spec", f"{INLINE}\n  conda_file: file://fileserver/conda é.yml")
    store = ComponentStore(ws)
    with pytest.raises(SpecError) as refused:
        store.create(load_component_spec(path))
    err = refused.value
    assert err.field == "environment.conda_file" and err.where is not None and err.where.line == 5
    assert "names the host 'fileserver'" in err.message and store.list() == []


def test_a_components_environment_file_on_another_host_is_one_error_at_its_line(ws: Workspace,
                                                                               tmp_path: Path) -> None:
    _env_file(tmp_path / "spec" / "fileserver")
    path = _component(tmp_path / "spec", " file://fileserver/env.yml")
    store = ComponentStore(ws)
    with pytest.raises(SpecError) as refused:
        store.create(load_component_spec(path))
    err = refused.value
    assert err.field == "environment" and err.where is not None and err.where.line == 3
    assert "names the host 'fileserver'" in err.message and store.list() == []
