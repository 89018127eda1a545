"""Where a pipeline's problems are said to be (the review's ``p1.yml``: ``make`` inline, then ``up1`` and
``up2``, both ``component: ./upper.yml``): a step job's warnings keep the pipeline file's file:line once
its plan is recorded and read back; a ``--set`` naming no pipeline input or no step is one error with
the names there are; a binding of an unknown form (the old one without ``parent.``) is at its line."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from runner.errors import RunnerError, SpecError
from runner.pipelines.graph import PipelineGraph, build_graph
from runner.pipelines.record import PipelinePlan, step_spec
from runner.spec.pipeline import load_pipeline_spec
from runner.workspace.db import Workspace

UPPER = """\
$schema: https://azuremlschemas.azureedge.net/latest/commandComponent.schema.json
name: upper
version: "1"
type: command
inputs:
  text: {type: uri_folder}
outputs:
  out: {type: uri_folder}
environment: {image: runner/busybox:latest}
command: tr a-z A-Z < ${{inputs.text}}/w.txt > ${{outputs.out}}/w.txt
"""

P1 = """\
type: pipeline
inputs:
  n: 1
settings:
  default_compute: azureml:cpu-cluster
jobs:
  make:
    command: echo ${{inputs.n}} > ${{outputs.out}}/w.txt
    environment: {image: runner/busybox:latest}
    inputs:
      n: ${{parent.inputs.n}}
    outputs:
      out: {mode: upload}
  up1:
    component: ./upper.yml
    inputs:
      text: ${{parent.jobs.make.outputs.out}}
  up2:
    component: ./upper.yml
    inputs:
      text: ${{parent.jobs.up1.outputs.out}}
"""


def write(folder: Path, text: str = P1) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "upper.yml").write_text(UPPER)
    path = folder / "p1.yml"
    path.write_text(textwrap.dedent(text))
    return path


def line_of(path: Path, text: str) -> int:
    return next(i for i, line in enumerate(path.read_text().splitlines(), 1) if text in line)


@pytest.fixture
def ws(tmp_path: Path) -> Workspace:
    return Workspace(tmp_path / "ws")


def graph_of(ws: Workspace, path: Path) -> PipelineGraph:
    return build_graph(load_pipeline_spec(path), ws, pipeline_name="p1")


COMPUTE = "is not registered in this workspace"  # a step's compute warning (none is registered here)


def not_registered(name: str) -> str:
    """The compute warning of a step whose compute is not registered (the command job's wording)."""
    return (f"compute '{name}' {COMPUTE}, so the job runs on this machine (`runner compute create --name "
            f"{name} --type ray --address http://<head>:8265` registers a Ray cluster)")


def refused(ws: Workspace, path: Path) -> SpecError:
    with pytest.raises(SpecError) as caught:
        graph_of(ws, path)
    return caught.value


def test_a_step_jobs_warnings_keep_the_pipeline_files_line(ws: Workspace, tmp_path: Path) -> None:
    path = write(tmp_path / "p")
    graph = graph_of(ws, path)
    plan = PipelinePlan.from_extra(PipelinePlan.from_graph(graph, backend=None, upload_on_failure=True)
                                   .to_extra())
    for step in ("make", "up1", "up2"):
        warnings = step_spec(plan.steps[step]).warnings
        assert warnings == graph.steps[step].spec.warnings
        compute = [w for w in warnings if COMPUTE in w]
        # no compute: of its own: settings.default_compute gave it, and is where the warning points
        assert compute and compute[0].startswith(f"{path}:{line_of(path, 'default_compute:')}:")
        assert all("<python>" not in w for w in warnings)


@pytest.mark.parametrize(("override", "message", "hint"), [
    ("inputs.nn=1", "the pipeline has no input 'nn' (did you mean 'n'?)", "the pipeline's inputs: n"),
    ("jobs.t.inputs.n=1", "the pipeline has no step 't'", "the pipeline's steps: make, up1, up2"),
    ("jobs.upp1.inputs.text=x", "the pipeline has no step 'upp1' (did you mean 'up1'?)",
     "the pipeline's steps: make, up1, up2"),
])
def test_a_set_naming_no_input_or_step_is_refused(tmp_path: Path, override: str, message: str,
                                                   hint: str) -> None:
    path = write(tmp_path / "p")
    with pytest.raises(SpecError) as caught:
        load_pipeline_spec(path, [override])
    err = caught.value
    assert err.message == message
    assert err.field is not None and err.field.endswith(f"(from --set {override})")
    assert err.hint is not None and hint in err.hint
    assert load_pipeline_spec(path, ["inputs.n=2", "jobs.up1.inputs.text=./x"]).inputs["n"]


@pytest.mark.parametrize(("written", "hint"), [
    ("${{jobs.up1.outputs.out}}", "write ${{parent.jobs.up1.outputs.out}}"),
    ("${{parent.jobs.up1.output.out}}", "${{parent.jobs.<step>.outputs.<output>}}"),
])
def test_a_binding_of_an_unknown_form_points_at_its_line(ws: Workspace, tmp_path: Path, written: str,
                                                         hint: str) -> None:
    path = write(tmp_path / "p", P1.replace("text: ${{parent.jobs.up1.outputs.out}}", f"text: {written}"))
    err = refused(ws, path)
    assert f"'{written}'" in err.message and "step 'up2'" in err.message
    assert err.field == "jobs.up2.inputs.text"
    assert err.where is not None and err.where.file == path and err.where.line == line_of(path, written)
    assert err.hint is not None and hint in err.hint


def test_a_steps_own_compute_is_warned_at_its_own_line(ws: Workspace, tmp_path: Path) -> None:
    up1 = "    component: ./upper.yml\n    inputs:\n      text: ${{parent.jobs.make"
    own = up1.replace("    inputs:", "    compute: azureml:gpu\n    inputs:")
    path = write(tmp_path / "p", P1.replace(up1, own))
    graph = graph_of(ws, path)
    at = {step: [w for w in graph.steps[step].spec.warnings if COMPUTE in w][0].split(": ")[0]
          for step in ("make", "up1", "up2")}
    settings_line = f"{path}:{line_of(path, 'default_compute:')}"
    assert at["up1"].startswith(f"{path}:{line_of(path, 'compute: azureml:gpu')}:")
    assert at["make"].startswith(f"{settings_line}:") and at["up2"].startswith(f"{settings_line}:")
    # the pipeline's warnings say it once, naming the steps it reaches
    assert [w for w in graph.warnings if f"{settings_line}:" in w] == [
        f"{settings_line}:3: {not_registered('cpu-cluster')} (steps make, up2)"]


def test_a_settings_warning_is_reported_once_naming_its_steps(ws: Workspace, tmp_path: Path) -> None:
    path = write(tmp_path / "p")
    graph = graph_of(ws, path)
    at = f"{path}:{line_of(path, 'default_compute:')}:3"
    assert [w for w in graph.warnings if COMPUTE in w] == [
        f"{at}: {not_registered('cpu-cluster')} (steps make, up1, up2)"]
    for step in ("make", "up1", "up2"):  # each step job keeps its own
        assert [w for w in graph.steps[step].spec.warnings if COMPUTE in w] == [
            f"{at}: {not_registered('cpu-cluster')}"]


INLINE = """\
type: pipeline
jobs:
  use:
    type: command
    component:
      type: command
      command: echo hi
      environment: {image: runner/busybox:latest}
"""


def planned(ws: Workspace, path: Path) -> RunnerError:
    from runner.pipelines.submit import plan_pipeline

    with pytest.raises(RunnerError) as caught:
        plan_pipeline(ws, load_pipeline_spec(path), name="p1")
    return caught.value


@pytest.mark.parametrize(("old", "new", "field", "line_text"), [
    ("environment: {image: runner/busybox:latest}", "environment: azureml:nope:1", "environment",
     "environment: azureml:nope:1"),
    ("      command: echo hi\n", "      command: echo hi\n      code: ./nosuch\n", "code", "code: ./nosuch"),
    ("command: echo hi", "command: echo ${{inputs.y}}", "command", "${{inputs.y}}"),
    ("environment: {image: runner/busybox:latest}",
     "environment: {image: runner/busybox:latest, conda_file: ./nope.yml}", "environment.conda_file",
     "conda_file: ./nope.yml"),
])
def test_an_inline_components_fields_are_named_under_component(ws: Workspace, tmp_path: Path, old: str,
                                                                new: str, field: str, line_text: str) -> None:
    path = write(tmp_path / "p", INLINE.replace(old, new))
    err = planned(ws, path)
    assert err.field == f"jobs.use.component.{field}"
    assert err.where is not None and err.where.file == path and err.where.line == line_of(path, line_text)
    assert err.message.startswith("step 'use': ")


def test_an_inline_steps_own_environment_keeps_its_field(ws: Workspace, tmp_path: Path) -> None:
    path = write(tmp_path / "p", INLINE.replace("    component:\n",
                                                "    environment: azureml:nope:2\n    component:\n"))
    err = planned(ws, path)
    assert err.field == "jobs.use.environment"
    assert err.where is not None and err.where.line == line_of(path, "azureml:nope:2")


def test_a_components_missing_conda_file_is_named_at_its_line(ws: Workspace, tmp_path: Path) -> None:
    path = write(tmp_path / "p")
    component = path.parent / "upper.yml"
    own = "environment:\n  image: runner/busybox:latest\n  conda_file: ./nope.yml"
    component.write_text(UPPER.replace("environment: {image: runner/busybox:latest}", own))
    err = planned(ws, path)
    assert err.field == "environment.conda_file"  # the component's own field
    assert err.where is not None and err.where.file == component.resolve()
    assert err.where.line == line_of(component, "conda_file: ./nope.yml")
    assert "nope.yml" in err.message and err.message.startswith("step 'up1': ")
    assert err.hint is not None and "conda_file:" in err.hint
    # the step's own environment: its own field, in the pipeline file
    path.write_text(path.read_text().replace(
        "  up1:\n    component: ./upper.yml\n",
        "  up1:\n    component: ./upper.yml\n    environment: {image: runner/busybox:latest, "
        "conda_file: ./gone.yml}\n"))
    err = planned(ws, path)
    assert err.field == "jobs.up1.environment.conda_file"
    assert err.where is not None and err.where.file == path and err.where.line == line_of(path, "gone.yml")
