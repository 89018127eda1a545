"""A job's (and a pipeline step's) ``code:`` reads the ``file:`` forms as a job's input ``path:`` does
(``tests/unit/test_file_url_forms.py``): ``file:///x``, ``file://localhost/x`` and ``file:/x`` are this
machine's ``/x`` (percent-decoded), ``file:<relative>`` is that path from the YAML's folder, and a file URL
naming another host (``file://fileserver/src``) is one clear error at the ``code:`` line, never the
relative folder ``fileserver/src``. Every folder lives in this test's tmp_path."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from runner.errors import RunnerError, SpecError
from runner.jobs.submit import check_submission, plan_job, submit_job
from runner.pipelines.submit import plan_pipeline
from runner.spec.load import load_job_spec
from runner.spec.pipeline import load_pipeline_spec
from runner.workspace.db import Workspace


@pytest.fixture
def ws(tmp_path: Path) -> Workspace:
    return Workspace(tmp_path / "ws")


def _job(folder: Path, code: str) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "job.yml"
    path.write_text(f"command: python main.py\ncode: \"{code}\"\nenvironment: {{image: busybox:latest}}\n")
    return path


def _source(folder: Path, name: str = "src") -> Path:
    src = folder / name
    src.mkdir(parents=True)
    (src / "main.py").write_text("print('hi')\n")
    return src


def _validated(ws: Workspace, path: Path) -> str | None:
    """What ``job validate`` plans for ``code:`` (runner.cli.job.plan_spec), checked as create checks it."""
    spec = load_job_spec(path)
    plan = plan_job(spec, workspace=ws, job_name="v1")
    check_submission(spec, plan, backend=None)
    return plan.code_source


@pytest.mark.parametrize("form", ["file://localhost{src}", "file:{src}", "file://{src}", "FILE://LOCALHOST{src}"])
def test_a_file_url_on_this_machine_is_the_code_folder(ws: Workspace, tmp_path: Path, form: str) -> None:
    src = _source(tmp_path)
    assert _validated(ws, _job(tmp_path / "spec", form.format(src=src))) == str(src)


def test_a_percent_encoded_code_url_names_the_decoded_folder(ws: Workspace, tmp_path: Path) -> None:
    src = _source(tmp_path, "my code é")
    assert _validated(ws, _job(tmp_path / "spec", src.as_uri())) == str(src)


def test_azure_mls_file_prefix_before_a_relative_code_folder(ws: Workspace, tmp_path: Path) -> None:
    src = _source(tmp_path / "spec")
    assert _validated(ws, _job(tmp_path / "spec", "file:src")) == str(src)


@pytest.mark.parametrize("code", ["file://fileserver/share/src", "file://me@fileserver:22/src"])
def test_a_code_url_naming_another_host_is_one_located_error(ws: Workspace, tmp_path: Path,
                                                             code: str) -> None:
    _source(tmp_path / "spec" / "fileserver" / "share")  # the relative reading would find this: never read
    (tmp_path / "spec" / "me@fileserver:22" / "src").mkdir(parents=True)
    path = _job(tmp_path / "spec", code)
    with pytest.raises(SpecError) as validated:
        _validated(ws, path)
    with pytest.raises(SpecError) as created:
        submit_job(ws, load_job_spec(path), name="c1")
    err = validated.value
    assert err.render() == created.value.render()
    assert err.field == "code" and err.where is not None and err.where.line == 2
    assert "names the host 'fileserver" in err.message and "does not exist" not in err.message
    assert err.hint and "file:///" in err.hint
    assert not (ws.job_dir("c1").code / "main.py").exists()


STEP = """\
type: pipeline
jobs:
  use:
    type: command
    command: python main.py
    code: "{code}"
    environment: {{image: busybox:latest}}
"""

COMPONENT = """\
name: comp
version: "1"
type: command
command: python main.py
code: "{code}"
environment: {{image: busybox:latest}}
"""


def _pipeline(folder: Path, code: str, *, component: bool) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    if component:
        (folder / "comp.yml").write_text(COMPONENT.format(code=code))
        text = "type: pipeline\njobs:\n  use:\n    component: ./comp.yml\n"
    else:
        text = STEP.format(code=code)
    path = folder / "p.yml"
    path.write_text(textwrap.dedent(text))
    return path


def _step_code(ws: Workspace, path: Path) -> str | None:
    graph, _ = plan_pipeline(ws, load_pipeline_spec(path), name="p1")
    node = graph.steps["use"]
    return plan_job(node.spec, workspace=ws, job_name=node.job_name).code_source


@pytest.mark.parametrize("component", [False, True])
@pytest.mark.parametrize("form", ["file://localhost{src}", "file:{src}", "{uri}"])
def test_a_steps_file_url_code_is_its_folder(ws: Workspace, tmp_path: Path, component: bool,
                                              form: str) -> None:
    src = _source(tmp_path, "step code é")
    path = _pipeline(tmp_path / "p", form.format(src=src, uri=src.as_uri()), component=component)
    assert _step_code(ws, path) == str(src)


@pytest.mark.parametrize("component", [False, True])
def test_a_steps_relative_file_prefix_code_is_from_its_yamls_folder(ws: Workspace, tmp_path: Path,
                                                                    component: bool) -> None:
    src = _source(tmp_path / "p")
    assert _step_code(ws, _pipeline(tmp_path / "p", "file:src", component=component)) == str(src)


@pytest.mark.parametrize("component", [False, True])
def test_a_steps_code_url_naming_another_host_is_one_located_error(ws: Workspace, tmp_path: Path,
                                                                   component: bool) -> None:
    _source(tmp_path / "p" / "fileserver")  # the relative reading would find this: never read
    path = _pipeline(tmp_path / "p", "file://fileserver/src", component=component)
    with pytest.raises(RunnerError) as caught:
        plan_pipeline(ws, load_pipeline_spec(path), name="p1")
    err = caught.value
    written = tmp_path / "p" / ("comp.yml" if component else "p.yml")
    assert err.where is not None and err.where.file == written
    assert "code: \"file://fileserver/src\"" in written.read_text().splitlines()[err.where.line - 1]
    assert err.field == ("code" if component else "jobs.use.code")
    assert "'fileserver'" in err.message and "does not exist" not in err.message
    assert err.hint and "file:///" in err.hint
