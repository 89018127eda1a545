"""The pipeline graph, pure of running anything: components found, bindings checked (each bad one is ONE
error naming file:line), the steps ordered, each step made the command job it runs as."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from runner.errors import ResolveError, RunnerError, SpecError
from runner.pipelines.graph import PipelineGraph, build_graph
from runner.spec.job_io import AssetInput, LiteralInput
from runner.spec.pipeline import load_pipeline_spec
from runner.workspace.db import Workspace

COMPONENT = """\
$schema: https://azuremlschemas.azureedge.net/latest/commandComponent.schema.json
name: {name}
version: 1
type: command
inputs:
  data:
    type: uri_folder
    optional: true
  n:
    type: integer
    default: 3
  rate:
    type: float
    default: "0.5"
outputs:
  out:
    type: uri_folder
code: ./src
environment:
  image: python:3.11
command: >-
  python run.py $[[--data ${{{{inputs.data}}}}]] --n ${{{{inputs.n}}}} --rate ${{{{inputs.rate}}}}
  --out ${{{{outputs.out}}}}
"""

PIPELINE = """\
type: pipeline
inputs:
  count: 7
  folder:
    type: uri_folder
    path: ./data
    mode: download
outputs:
  final:
    mode: upload
settings:
  default_compute: azureml:cpu-cluster
jobs:
  first:
    type: command
    component: ./comp.yml
    inputs:
      data: ${{parent.inputs.folder}}
      n: ${{parent.inputs.count}}
  second:
    type: command
    component: file:./comp.yml
    inputs:
      data:
        path: ${{parent.jobs.first.outputs.out}}
        mode: ro_mount
      rate: 2
    outputs:
      out: ${{parent.outputs.final}}
"""


def write(folder: Path, pipeline: str = PIPELINE) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "comp.yml").write_text(COMPONENT.format(name="comp"))
    (folder / "src").mkdir(exist_ok=True)
    (folder / "src" / "run.py").write_text("print('hi')\n")
    (folder / "data").mkdir(exist_ok=True)
    path = folder / "pipeline.yml"
    path.write_text(textwrap.dedent(pipeline))
    return path


@pytest.fixture
def ws(tmp_path: Path) -> Workspace:
    return Workspace(tmp_path / "ws")


def graph_of(ws: Workspace, path: Path, name: str = "p1") -> PipelineGraph:
    return build_graph(load_pipeline_spec(path), ws, pipeline_name=name)


def bad(ws: Workspace, tmp_path: Path, pipeline: str) -> SpecError:
    path = write(tmp_path / "bad", pipeline)
    with pytest.raises(SpecError) as caught:
        graph_of(ws, path)
    return caught.value


def line_of(path: Path, text: str) -> int:
    return next(i for i, line in enumerate(path.read_text().splitlines(), 1) if text in line)


def test_steps_edges_and_outputs(ws: Workspace, tmp_path: Path) -> None:
    graph = graph_of(ws, write(tmp_path / "p"))
    assert list(graph.steps) == ["first", "second"]
    assert graph.steps["second"].depends_on == ("first",)
    edges = [(e.source, e.output, e.target, e.input) for e in graph.edges]
    assert edges == [("first", "out", "second", "data")]
    assert graph.outputs == {"final": ("second", "out")}
    assert graph.steps["first"].job_name == "p1-first"


def test_each_step_is_a_checked_command_job(ws: Workspace, tmp_path: Path) -> None:
    folder = tmp_path / "p"
    graph = graph_of(ws, write(folder))
    first, second = graph.steps["first"].spec, graph.steps["second"].spec
    assert first.parent_job_name == "p1" and first.display_name == "first"
    assert first.compute == "azureml:cpu-cluster"
    assert first.code == str((folder / "src").resolve())
    data = first.inputs["data"]
    assert isinstance(data, AssetInput) and data.mode is not None and data.mode.value == "download"
    assert data.path == str((folder / "data").resolve())
    n, rate = first.inputs["n"], first.inputs["rate"]
    assert isinstance(n, LiteralInput) and n.effective == 7 and n.type == "integer"
    # written type: float, default: "0.5"
    assert isinstance(rate, LiteralInput) and rate.effective == 0.5 and rate.type == "number"
    upstream = second.inputs["data"]
    assert isinstance(upstream, AssetInput)
    assert upstream.path == "azureml://jobs/p1-first/outputs/out" and upstream.mode is not None
    assert upstream.mode.value == "ro_mount"
    assert second.outputs["out"].mode is not None and second.outputs["out"].mode.value == "upload"
    rate2 = second.inputs["rate"]
    assert isinstance(rate2, LiteralInput) and rate2.effective == 2


def test_default_datastore_places_outputs(ws: Workspace, tmp_path: Path) -> None:
    text = PIPELINE.replace("  default_compute: azureml:cpu-cluster", "  default_datastore: azureml:az")
    graph = graph_of(ws, write(tmp_path / "p", text))
    assert graph.steps["first"].spec.outputs["out"].path == "azureml://datastores/az/paths/azureml/p1-first/out/"


def test_unknown_step(ws: Workspace, tmp_path: Path) -> None:
    err = bad(ws, tmp_path, PIPELINE.replace("parent.jobs.first.outputs", "parent.jobs.frist.outputs"))
    assert "reads step 'frist', which is not in this pipeline (did you mean 'first'?)" in err.message
    assert err.where is not None and err.where.line == line_of(tmp_path / "bad" / "pipeline.yml", "frist")


def test_unknown_step_output(ws: Workspace, tmp_path: Path) -> None:
    err = bad(ws, tmp_path, PIPELINE.replace("first.outputs.out}}", "first.outputs.model}}"))
    assert "reads output 'model' of step 'first', which has no such output" in err.message
    assert err.hint == "outputs of 'first': out"
    assert err.where is not None and err.where.line == line_of(tmp_path / "bad" / "pipeline.yml", "model}}")
    assert err.field == "jobs.second.inputs.data.path"


def test_unknown_pipeline_input_and_output(ws: Workspace, tmp_path: Path) -> None:
    err = bad(ws, tmp_path, PIPELINE.replace("parent.inputs.count", "parent.inputs.cuont"))
    assert "reads pipeline input 'cuont', which is not defined (did you mean 'count'?)" in err.message
    err = bad(ws, tmp_path, PIPELINE.replace("parent.outputs.final", "parent.outputs.last"))
    assert "bound to pipeline output 'last', which is not defined" in err.message


def test_a_cycle(ws: Workspace, tmp_path: Path) -> None:
    text = PIPELINE.replace("      data: ${{parent.inputs.folder}}",
                            "      data: ${{parent.jobs.second.outputs.out}}")
    err = bad(ws, tmp_path, text)
    assert "the steps' bindings make a cycle: first <- second <- first" in err.message
    assert err.where is not None
    assert err.where.line == line_of(tmp_path / "bad" / "pipeline.yml", "parent.jobs.second")


def test_a_step_reading_itself(ws: Workspace, tmp_path: Path) -> None:
    text = PIPELINE.replace("parent.jobs.first.outputs.out", "parent.jobs.second.outputs.out")
    err = bad(ws, tmp_path, text)
    assert "reads the step's own output 'out'" in err.message


def test_unknown_component_input_and_bad_forms(ws: Workspace, tmp_path: Path) -> None:
    err = bad(ws, tmp_path, PIPELINE.replace("      rate: 2", "      rat: 2"))
    assert "gives input 'rat', which its component does not declare (did you mean 'rate'?)" in err.message
    assert err.where is not None and err.where.line == line_of(tmp_path / "bad" / "pipeline.yml", "rat: 2")
    err = bad(ws, tmp_path, PIPELINE.replace("${{parent.inputs.count}}", "${{inputs.count}}"))
    assert "is not a pipeline binding" in err.message and err.hint is not None
    assert "${{parent.inputs.count}}" in err.hint
    text = PIPELINE.replace("out: ${{parent.outputs.final}}", "out: ${{parent.inputs.count}}")
    err = bad(ws, tmp_path, text)
    assert "a step output can only be bound to ${{parent.outputs.<name>}}" in str(err.hint)


def test_a_wrong_literal_points_at_the_step(ws: Workspace, tmp_path: Path) -> None:
    err = bad(ws, tmp_path, PIPELINE.replace("  count: 7", "  count: 7.5"))
    assert err.message.startswith("step 'first' input 'n': ") and "gives a number" in err.message
    assert "declares 'n' as integer" in err.message
    assert err.where is not None and err.where.line == line_of(tmp_path / "bad" / "pipeline.yml",
                                                               "n: ${{parent.inputs.count}}")


def test_an_undeclared_expression_points_at_the_component(ws: Workspace, tmp_path: Path) -> None:
    path = write(tmp_path / "p")
    component = path.parent / "comp.yml"
    component.write_text(component.read_text().replace("${{inputs.n}}", "${{inputs.m}}"))
    with pytest.raises(SpecError) as caught:
        graph_of(ws, path)
    assert "does not contain 'm'" in caught.value.message
    assert caught.value.where is not None and caught.value.where.file == component.resolve()


def test_missing_component_file(ws: Workspace, tmp_path: Path) -> None:
    path = write(tmp_path / "bad", PIPELINE.replace("component: file:./comp.yml", "component: ./nope.yml"))
    with pytest.raises(ResolveError) as caught:  # named, not there: exit 1 (docs/guides/ci.md)
        graph_of(ws, path)
    err = caught.value
    assert "step 'second': file not found" in err.message
    assert err.where is not None and err.where.line == line_of(tmp_path / "bad" / "pipeline.yml", "nope.yml")


def test_inline_steps_and_inline_components(ws: Workspace, tmp_path: Path) -> None:
    text = """\
    type: pipeline
    jobs:
      make:
        type: command
        command: echo hi > ${{outputs.out}}/x
        environment: {image: busybox}
        outputs:
          out: {type: uri_folder}
      use:
        type: command
        component:
          type: command
          command: cat ${{inputs.x}}/x
          environment: {image: busybox}
          inputs:
            x: {type: uri_folder}
        inputs:
          x: ${{parent.jobs.make.outputs.out}}
    """
    graph = graph_of(ws, write(tmp_path / "p", text))
    assert graph.steps["use"].depends_on == ("make",)
    assert graph.steps["use"].component_label == "inline component"


def test_unknown_setting_is_a_warning(ws: Workspace, tmp_path: Path) -> None:
    text = PIPELINE.replace("  default_compute: azureml:cpu-cluster", "  default_datestore: azureml:x")
    graph = graph_of(ws, write(tmp_path / "p", text))
    assert any("settings.default_datestore is not a pipeline setting" in w and "default_datastore" in w
               for w in graph.warnings)


def test_literals_inside_text(ws: Workspace, tmp_path: Path) -> None:
    text = PIPELINE.replace("      rate: 2", "      rate: 2\n      n: \"1${{parent.inputs.count}}\"")
    graph = graph_of(ws, write(tmp_path / "p", text))
    n = graph.steps["second"].spec.inputs["n"]
    assert isinstance(n, LiteralInput) and n.effective == 17  # "17", read as the declared integer
    err = bad(ws, tmp_path, PIPELINE.replace("      rate: 2", "      rate: x${{parent.inputs.folder}}"))
    assert "but pipeline input 'folder' is not a literal with a value" in err.message


def test_step_types_that_do_not_run_here(ws: Workspace, tmp_path: Path) -> None:
    err = bad(ws, tmp_path, PIPELINE.replace("  second:\n    type: command", "  second:\n    type: sweep"))
    assert "step type 'sweep' is not supported here" in err.message
    assert err.where is not None and err.where.line == line_of(tmp_path / "bad" / "pipeline.yml", "sweep")



@pytest.mark.parametrize(("kind", "own_field", "words"), [
    ("sweep", "trial: {sampling_algorithm: random}", "step type 'sweep' is not supported here"),
    ("pipeline", "jobs: {}", "a pipeline inside a pipeline"),
])
def test_a_step_of_another_kind_is_named_before_its_own_fields(ws: Workspace, tmp_path: Path, kind: str,
                                                                own_field: str, words: str) -> None:
    text = PIPELINE.replace("  second:\n    type: command", f"  second:\n    type: {kind}\n    {own_field}")
    err = bad(ws, tmp_path, text)
    assert words in err.message and "unknown field" not in err.message
    step_type_line = line_of(tmp_path / "bad" / "pipeline.yml", f"    type: {kind}")
    assert err.where is not None and err.where.line == step_type_line


def test_a_missing_required_input_is_at_the_step_naming_the_component(ws: Workspace, tmp_path: Path) -> None:
    path = write(tmp_path / "p")
    component = path.parent / "comp.yml"
    component.write_text(component.read_text().replace("    optional: true\n", ""))  # data: required
    path.write_text(path.read_text().replace("      data: ${{parent.inputs.folder}}\n", ""))
    with pytest.raises(SpecError) as caught:
        graph_of(ws, path)
    err = caught.value
    assert err.field == "jobs.first.inputs.data"
    assert err.where is not None and err.where.file == path and err.where.line == line_of(path, "  first:")
    declared_at = f"{component.resolve()}:{line_of(component, '  data:')}"
    assert "step 'first'" in err.message and "'data'" in err.message
    assert "comp" in err.message and declared_at in err.message  # the component, where it declares it
    assert err.hint is not None and "data:" in err.hint and "optional: true" in err.hint


def test_a_value_from_the_component_file_is_named_by_its_own_field(ws: Workspace, tmp_path: Path) -> None:
    from runner.pipelines.submit import plan_pipeline

    path = write(tmp_path / "p")
    component = path.parent / "comp.yml"
    component.write_text(component.read_text().replace("environment:\n  image: python:3.11",
                                                       "environment: azureml:nope:1"))
    with pytest.raises(RunnerError) as caught:
        plan_pipeline(ws, load_pipeline_spec(path), name="p1")
    err = caught.value
    assert err.where is not None and err.where.file == component.resolve()
    assert err.where.line == line_of(component, "environment: azureml:nope:1")
    assert err.field == "environment"  # the component's own field, not jobs.first.environment
    assert err.message.startswith("step 'first': ")
    # a value written in the pipeline file keeps its jobs.<step>. field
    path.write_text(path.read_text().replace("    component: ./comp.yml\n",
                                             "    component: ./comp.yml\n    environment: azureml:nope:2\n"))
    with pytest.raises(RunnerError) as caught:
        plan_pipeline(ws, load_pipeline_spec(path), name="p1")
    assert caught.value.field == "jobs.first.environment"
    assert caught.value.where is not None and caught.value.where.file == path
