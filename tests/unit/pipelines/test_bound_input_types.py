"""A step input bound to ``${{parent.jobs.<s>.outputs.<o>}}`` without a declared type takes the type of
the output it is bound to, as Azure ML does (a uri_file output is read as a file, a model as that model
type), whether the upstream step is inline or a component, and through a pipeline output the upstream
output is bound to; a declared type (the step's ``type:``, the component's) is kept as written."""

from __future__ import annotations

from pathlib import Path

import pytest

from runner.errors import SpecError
from runner.jobs.submit import plan_job
from runner.modes import PathKind
from runner.pipelines.graph import PipelineGraph, build_graph
from runner.spec.job_io import AssetInput
from runner.spec.pipeline import load_pipeline_spec
from runner.workspace.db import JobRecord, JobStatus, Workspace

MAKE_INLINE = """\
  make:
    type: command
    command: echo made > ${{outputs.out}}
    environment: {image: unused:1}
    outputs:
      out: OUT
"""
MAKE_COMPONENT = """\
  make:
    type: command
    component:
      type: command
      command: echo made > ${{outputs.out}}
      environment: {image: unused:1}
      outputs:
        out: OUT
"""
READ_INLINE = """\
  read:
    type: command
    command: cat ${{inputs.src}}
    environment: {image: unused:1}
    inputs:
      src: SRC
"""
READ_COMPONENT = """\
  read:
    type: command
    component:
      type: command
      command: cat ${{inputs.src}}
      environment: {image: unused:1}
      inputs:
        src: DECL
    inputs:
      src: SRC
"""
BOUND = "'${{parent.jobs.make.outputs.out}}'"


def _graph(tmp_path: Path, make: str, read: str, out: str, src: str = BOUND, decl: str = "{}",
           head: str = "") -> PipelineGraph:
    text = "type: pipeline\n" + head + "jobs:\n" + make.replace("OUT", out) + \
        read.replace("SRC", src).replace("DECL", decl)
    path = tmp_path / "pipeline.yml"
    path.write_text(text)
    return build_graph(load_pipeline_spec(path), Workspace(tmp_path / "ws"), pipeline_name="p1")


def _src(graph: PipelineGraph) -> AssetInput:
    value = graph.steps["read"].spec.inputs["src"]
    assert isinstance(value, AssetInput)
    assert value.path == "azureml://jobs/p1-make/outputs/out"
    return value


@pytest.mark.parametrize("make", [MAKE_INLINE, MAKE_COMPONENT], ids=["inline", "component"])
@pytest.mark.parametrize("read", [READ_INLINE, READ_COMPONENT], ids=["inline", "component"])
@pytest.mark.parametrize("kind", ["uri_file", "custom_model", "mlflow_model", "mltable", "uri_folder"])
def test_an_undeclared_bound_input_takes_the_upstream_outputs_type(tmp_path: Path, make: str, read: str,
                                                                  kind: str) -> None:
    graph = _graph(tmp_path, make, read, f"{{type: {kind}}}")
    assert _src(graph).type.value == kind


@pytest.mark.parametrize("src", [f"{{path: {BOUND}, mode: download}}", f"{{path: {BOUND}}}"])
def test_a_bound_path_without_a_type_takes_it_too_and_keeps_its_mode(tmp_path: Path, src: str) -> None:
    value = _src(_graph(tmp_path, MAKE_INLINE, READ_INLINE, "{type: uri_file}", src=src))
    assert value.type.value == "uri_file"
    assert (value.mode.value if value.mode else None) == ("download" if "mode" in src else None)


def test_an_untyped_component_input_with_a_mode_takes_it(tmp_path: Path) -> None:
    graph = _graph(tmp_path, MAKE_INLINE, READ_COMPONENT, "{type: uri_file}", decl="{mode: download}")
    value = _src(graph)
    assert (value.type.value, value.mode.value if value.mode else None) == ("uri_file", "download")


@pytest.mark.parametrize(("read", "src", "decl"), [
    (READ_INLINE, f"{{type: uri_folder, path: {BOUND}}}", "{}"),
    (READ_COMPONENT, BOUND, "{type: uri_folder}"),
    (READ_COMPONENT, f"{{type: uri_folder, path: {BOUND}}}", "{type: uri_file}"),
], ids=["step", "component", "step-over-component"])
def test_a_declared_type_stays_as_written(tmp_path: Path, read: str, src: str, decl: str) -> None:
    assert _src(_graph(tmp_path, MAKE_INLINE, read, "{type: uri_file}", src=src, decl=decl)).type.value \
        == "uri_folder"


@pytest.mark.parametrize("out", ["'${{parent.outputs.final}}'", "{type: uri_folder}"])
def test_through_a_pipeline_output_the_type_is_the_one_the_step_writes(tmp_path: Path, out: str) -> None:
    """An upstream output bound to pipeline output ``final`` (declared uri_file) is written as a uri_file
    (``final``'s settings); an output of its own type is not changed by the pipeline output's."""
    head = "outputs:\n  final: {type: uri_file}\n"
    graph = _graph(tmp_path, MAKE_INLINE, READ_INLINE, out, head=head)
    assert graph.steps["make"].spec.outputs["out"].type.value == _src(graph).type.value
    assert _src(graph).type.value == ("uri_file" if "parent" in out else "uri_folder")


def test_a_typed_pipeline_input_passes_its_type_on(tmp_path: Path) -> None:
    (tmp_path / "a.csv").write_text("a\n")
    head = "inputs:\n  table: {type: uri_file, path: ./a.csv}\n"
    graph = _graph(tmp_path, MAKE_INLINE, READ_INLINE, "{type: uri_folder}", head=head,
                   src="'${{parent.inputs.table}}'")
    value = graph.steps["read"].spec.inputs["src"]
    assert isinstance(value, AssetInput) and value.type.value == "uri_file"


def test_the_binding_check_names_the_type_a_pipeline_output_gives(tmp_path: Path) -> None:
    head = "outputs:\n  final: {type: uri_file}\n"
    with pytest.raises(SpecError) as caught:
        _graph(tmp_path, MAKE_INLINE, READ_COMPONENT, "'${{parent.outputs.final}}'", head=head,
               decl="{type: integer}")
    assert "gives a path (uri_file)" in caught.value.message
    assert caught.value.where is not None and caught.value.where.line is not None


def test_the_downstream_step_reads_the_upstream_file_as_a_file(tmp_path: Path) -> None:
    """The case that failed: the upstream uri_file output without a path is the file
    ``.../azureml/p1-make/out/out``; the bound input is planned as that file."""
    graph = _graph(tmp_path, MAKE_INLINE, READ_INLINE, "{type: uri_file, mode: upload}")
    ws = Workspace(tmp_path / "ws")
    where = "azureml/p1-make/out/out"
    (ws.default_datastore_root / where).parent.mkdir(parents=True)
    (ws.default_datastore_root / where).write_text("made\n")  # as if upstream ran
    ws.create_job(JobRecord(name="p1-make", status=JobStatus.COMPLETED, outputs={
        "out": f"azureml://datastores/workspaceblobstore/paths/{where}"}))
    planned = plan_job(graph.steps["read"].spec, workspace=ws, job_name="p1-read").inputs[0]
    assert planned.kind == PathKind.FILE
