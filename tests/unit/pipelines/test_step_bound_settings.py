"""A ``${{...}}`` binding is read in a step input's ``path:`` or ``value:`` (or as a whole input or output);
one written in another field of a step's input or output (``mode:``, ``type:``, ``datastore:``, an
output's ``mode:``) is one error at its line in the pipeline file, naming the field and what it takes (the
modes the input's type allows), whether the input's path is a binding or a plain path and whatever the
binding names: never passed on unsubstituted, never substituted into a mode Azure ML would not take, and
an output's ``mode: ${{parent.outputs.z}}`` does not bind the pipeline output ``z``. Azure ML binds no such
field either: its job submission maps a step input's mode through a fixed table of modes."""

from __future__ import annotations

from pathlib import Path

import pytest

from runner.errors import SpecError
from runner.pipelines.graph import build_graph
from runner.spec.pipeline import load_pipeline_spec
from runner.workspace.db import Workspace

HEAD = """\
type: pipeline
inputs:
  d: {type: uri_folder, path: ./data}
  m: download
  t: uri_file
outputs:
  z: {mode: upload}
settings: {default_compute: local-process}
jobs:
  r:
"""
INLINE = """\
    command: ls
    environment: {image: 'unused:1'}
"""
COMPONENT = """\
type: command
name: c
inputs:
  model: {type: mlflow_model}
outputs:
  o: {type: uri_file}
command: ls ${{inputs.model}} ${{outputs.o}}
environment: {image: 'unused:1'}
"""


def _refused(tmp_path: Path, step: str) -> tuple[SpecError, Path]:
    (tmp_path / "data").mkdir(exist_ok=True)
    (tmp_path / "comp.yml").write_text(COMPONENT)
    path = tmp_path / "p.yml"
    path.write_text(HEAD + step)
    with pytest.raises(SpecError) as caught:
        build_graph(load_pipeline_spec(path), Workspace(tmp_path / "ws"), pipeline_name="p")
    return caught.value, path


def _line(path: Path, text: str) -> int:
    return next(i for i, line in enumerate(path.read_text().splitlines(), 1) if text in line)


@pytest.mark.parametrize("value", [
    "{path: '${{parent.inputs.d}}', mode: '${{parent.inputs.m}}'}",  # the path bound too
    "{path: ./data, mode: '${{parent.inputs.m}}'}",  # a literal pipeline input: not substituted either
    "{path: ./data, mode: '${{parent.inputs.d}}'}",  # an asset pipeline input: not "inside other text"
    "{path: ./data, mode: '${{parent.jobs.w.outputs.o}}'}",  # a step output: no edge made
])
def test_a_binding_in_a_step_inputs_mode_is_one_error_naming_the_allowed_modes(tmp_path: Path,
                                                                              value: str) -> None:
    err, path = _refused(tmp_path, INLINE + f"    inputs:\n      x: {value}\n"
                                            "  w:\n" + INLINE + "    outputs:\n      o: {mode: upload}\n")
    bound = value.split("mode: '")[1].removesuffix("'}")
    assert err.message == (f"step 'r' input 'x' has the binding '{bound}' in mode:, which cannot be "
                           "bound (a binding is read in an input's path: or value: only)")
    assert err.field == "jobs.r.inputs.x.mode"
    assert err.where is not None and err.where.file == path and err.where.line == _line(path, "x: {")
    assert err.hint == ("write the mode itself, one of: download, ro_mount, direct (allowed for a "
                        "uri_folder input)")


def test_the_allowed_modes_are_those_of_the_type_the_component_declares(tmp_path: Path) -> None:
    err, path = _refused(tmp_path, "    component: ./comp.yml\n    inputs:\n"
                                   "      model:\n"
                                   "        path: ${{parent.inputs.d}}\n"
                                   "        mode: ${{parent.inputs.m}}\n")
    assert err.field == "jobs.r.inputs.model.mode"
    assert err.where is not None and err.where.line == _line(path, "mode: ${{")
    assert err.hint == "write the mode itself, one of: download, ro_mount (allowed for a mlflow_model input)"


def test_a_binding_in_a_step_outputs_mode_is_refused_and_binds_no_pipeline_output(tmp_path: Path) -> None:
    err, path = _refused(tmp_path, "    component: ./comp.yml\n    inputs:\n"
                                   "      model: ${{parent.inputs.d}}\n"
                                   "    outputs:\n      o: {mode: '${{parent.outputs.z}}'}\n")
    assert err.message == ("step 'r' output 'o' has the binding '${{parent.outputs.z}}' in mode:, which "
                           "cannot be bound (a step output is bound as a whole: "
                           "o: ${{parent.outputs.<name>}})")
    assert err.field == "jobs.r.outputs.o.mode"
    assert err.where is not None and err.where.line == _line(path, "o: {mode")
    assert err.hint == ("write the mode itself, one of: upload, rw_mount, direct (allowed for a uri_file "
                        "output)")


@pytest.mark.parametrize(("key", "hint"), [
    ("type", "write the type itself, one of: custom_model, mlflow_model, triton_model, uri_file, "
             "uri_folder, mltable, string, integer, number, boolean"),
    ("datastore", "write datastore itself, or leave it out"),
])
def test_a_binding_in_a_step_inputs_type_or_datastore_is_refused(tmp_path: Path, key: str,
                                                                   hint: str) -> None:
    bound = "'${{parent.inputs.t}}'"
    err, path = _refused(tmp_path, INLINE + f"    inputs:\n      x: {{path: ./data, {key}: {bound}}}\n")
    assert err.message == (f"step 'r' input 'x' has the binding '${{{{parent.inputs.t}}}}' in {key}:, which "
                           "cannot be bound (a binding is read in an input's path: or value: only)")
    assert err.field == f"jobs.r.inputs.x.{key}"
    assert err.where is not None and err.where.line == _line(path, "x: {")
    assert err.hint == hint


def test_bindings_in_path_and_value_still_work(tmp_path: Path) -> None:
    (tmp_path / "data").mkdir()
    path = tmp_path / "p.yml"
    path.write_text(HEAD + INLINE + "    inputs:\n"
                    "      x: {path: '${{parent.inputs.d}}', mode: download}\n"
                    "      y: {path: './${{parent.inputs.t}}', mode: direct}\n"
                    "      n: {type: string, value: 'run-${{parent.inputs.m}}'}\n"
                    "    outputs:\n      o: {path: 'azureml://datastores/workspaceblobstore/paths/${{name}}/"
                    "${{output_name}}', mode: upload}\n")
    graph = build_graph(load_pipeline_spec(path), Workspace(tmp_path / "ws"), pipeline_name="p")
    inputs = graph.steps["r"].spec.inputs
    assert inputs["x"].path == str(tmp_path / "data") and inputs["x"].mode is not None
    assert inputs["x"].mode.value == "download"
    assert inputs["y"].path == "./uri_file"
    assert inputs["n"].rendered() == "run-download"
    assert graph.steps["r"].spec.outputs["o"].path == ("azureml://datastores/workspaceblobstore/paths/"
                                                       "${{name}}/${{output_name}}")  # filled in when planned
