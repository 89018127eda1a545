"""A step input bound to an optional *asset* pipeline input left unset is simply not given, as in Azure ML:
the step's input is its component's declaration (its type, mode, description, whether it is optional),
not the pipeline input's settings (its ``optional: true`` above all, which would make a required
component input optional for the step). Bound through ``path:`` as through the whole value, a required
component input bound so is one error at the binding's line."""

from __future__ import annotations

from pathlib import Path

import pytest

from runner.errors import SpecError
from runner.pipelines.graph import build_graph
from runner.spec.pipeline import load_pipeline_spec
from runner.workspace.db import Workspace

COMPONENT = """\
type: command
name: c
inputs:
  x: {type: uri_folder}
  y: {type: uri_file, optional: true, description: the component's}
command: echo $[[${{inputs.x}}]] $[[${{inputs.y}}]]
environment: {image: 'unused:1'}
"""
PIPELINE = """\
type: pipeline
inputs:
  d: {type: uri_folder, path: ./data}
  o: {type: uri_folder, optional: true, mode: download, description: the pipeline's}
settings: {default_compute: local-process}
jobs:
  r:
    component: ./comp.yml
    inputs:
"""


def _pipeline(tmp_path: Path, inputs: str) -> Path:
    (tmp_path / "data").mkdir(exist_ok=True)
    (tmp_path / "comp.yml").write_text(COMPONENT)
    path = tmp_path / "p.yml"
    path.write_text(PIPELINE + inputs)
    return path


@pytest.mark.parametrize("value", ["'${{parent.inputs.o}}'", "{path: '${{parent.inputs.o}}'}"])
def test_an_optional_component_input_keeps_its_own_declaration(tmp_path: Path, value: str) -> None:
    path = _pipeline(tmp_path, f"      x: ${{{{parent.inputs.d}}}}\n      y: {value}\n")
    graph = build_graph(load_pipeline_spec(path), Workspace(tmp_path / "ws"), pipeline_name="p")
    y = graph.steps["r"].spec.inputs["y"]
    assert y.model_dump(exclude_defaults=True) == {"type": "uri_file", "optional": True,
                                                   "description": "the component's"}


@pytest.mark.parametrize("value", ["'${{parent.inputs.o}}'",
                                   "{path: '${{parent.inputs.o}}', mode: download}"])
def test_a_required_component_input_bound_to_it_is_one_error_at_the_binding(tmp_path: Path,
                                                                            value: str) -> None:
    path = _pipeline(tmp_path, f"      x: {value}\n")
    with pytest.raises(SpecError) as caught:
        build_graph(load_pipeline_spec(path), Workspace(tmp_path / "ws"), pipeline_name="p")
    err = caught.value
    assert err.message == ("step 'r' input 'x' is bound to pipeline input 'o', which is optional and has no "
                           "value, but its component requires 'x'")
    assert err.field == ("jobs.r.inputs.x" if value.startswith("'") else "jobs.r.inputs.x.path")
    assert err.where is not None and err.where.file == path
    assert err.where.line == len(path.read_text().splitlines())


def test_a_set_optional_asset_input_still_passes_its_path_and_mode(tmp_path: Path) -> None:
    path = _pipeline(tmp_path, "      x: ${{parent.inputs.d}}\n      y: ${{parent.inputs.o}}\n")
    spec = load_pipeline_spec(path, overrides=[f"inputs.o.path={tmp_path / 'data'}"])
    y = build_graph(spec, Workspace(tmp_path / "ws"), pipeline_name="p").steps["r"].spec.inputs["y"]
    assert y.path == str(tmp_path / "data") and y.mode is not None and y.mode.value == "download"


def test_an_unset_optional_literal_bound_through_value_to_a_required_input_is_refused_too(tmp_path: Path
                                                                                         ) -> None:
    (tmp_path / "comp.yml").write_text(COMPONENT.replace("inputs:\n", "inputs:\n  n: {type: integer}\n"))
    path = tmp_path / "p.yml"
    path.write_text(PIPELINE.replace("settings:", "  u: {type: integer, optional: true}\nsettings:")
                    + "      x: ${{parent.inputs.d}}\n"
                    + "      n: {type: integer, value: '${{parent.inputs.u}}'}\n")
    (tmp_path / "data").mkdir()
    with pytest.raises(SpecError) as caught:
        build_graph(load_pipeline_spec(path), Workspace(tmp_path / "ws"), pipeline_name="p")
    assert caught.value.message == ("step 'r' input 'n' is bound to pipeline input 'u', which is optional "
                                    "and has no value, but its component requires 'n'")
    assert caught.value.field == "jobs.r.inputs.n.value"


def test_the_hint_says_how_to_give_the_asset_input_a_path(tmp_path: Path) -> None:
    path = _pipeline(tmp_path, "      x: {path: '${{parent.inputs.o}}'}\n")
    with pytest.raises(SpecError) as caught:
        build_graph(load_pipeline_spec(path), Workspace(tmp_path / "ws"), pipeline_name="p")
    assert caught.value.hint == ("give pipeline input 'o' a value (path:, or --set inputs.o.path=...), or "
                                 "bind 'x' to something with a value")
