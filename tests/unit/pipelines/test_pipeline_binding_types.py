"""A step's binding checked against the type its component declares (Azure's compatibility rules), an
unset optional pipeline input passed on to an optional component input, and a component's missing code
folder: each a validate-time error naming file:line (or, for the optional input, no error at all)."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from runner.errors import ResolveError, SpecError
from runner.pipelines.graph import build_graph
from runner.spec.job_io import LiteralInput
from runner.spec.pipeline import load_pipeline_spec
from runner.workspace.db import Workspace

UPPER = """\
name: upper
version: 1
type: command
inputs:
  text: {type: uri_folder}
  n: {type: integer, default: 2}
  lr: {type: number}
  label: {type: string, optional: true}
  extra: {type: string, optional: true}
  model: {type: custom_model, optional: true}
outputs:
  out: {type: uri_folder}
environment: {image: runner/busybox:latest}
command: >-
  cat ${{inputs.text}}/w ${{inputs.n}} ${{inputs.lr}} $[[${{inputs.extra}}]] $[[${{inputs.label}}]]
  > ${{outputs.out}}/w
"""

PIPELINE = """\
type: pipeline
inputs:
  w: hello
  n: 3
  lr: 0.1
  opt: {type: string, optional: true}
  data: {type: uri_folder, path: ./data}
settings:
  default_compute: local-process
jobs:
  make:
    type: command
    command: echo hi > ${{outputs.out}}/w
    environment: {image: runner/busybox:latest}
    outputs:
      out: {mode: upload}
  up1:
    type: command
    component: ./upper.yml
    inputs:
      text: ${{parent.jobs.make.outputs.out}}
      n: ${{parent.inputs.n}}
      lr: ${{parent.inputs.lr}}
"""


def graph(tmp_path: Path, *replacements: tuple[str, str], component: str = UPPER):
    (tmp_path / "upper.yml").write_text(textwrap.dedent(component))
    text = PIPELINE
    for old, new in replacements:
        assert old in text
        text = text.replace(old, new)
    (tmp_path / "p.yml").write_text(text)
    spec = load_pipeline_spec(tmp_path / "p.yml")
    return build_graph(spec, Workspace(tmp_path / "ws"), pipeline_name="p")


def refused(tmp_path: Path, *replacements: tuple[str, str]) -> SpecError:
    with pytest.raises(SpecError) as caught:
        graph(tmp_path, *replacements)
    return caught.value


def test_the_pipeline_is_valid(tmp_path: Path) -> None:
    graph(tmp_path)


def test_a_step_output_bound_to_an_integer_input_is_refused(tmp_path: Path) -> None:
    err = refused(tmp_path, ("n: ${{parent.inputs.n}}", "n: ${{parent.jobs.make.outputs.out}}"))
    assert "step 'up1'" in err.message and "'n'" in err.message
    assert "uri_folder" in err.message and "integer" in err.message
    assert err.field == "jobs.up1.inputs.n"
    assert err.where is not None and err.where.line == 22 and str(err.where.file).endswith("p.yml")
    assert err.hint and "integer" in err.hint


def test_a_string_bound_to_a_folder_input_is_refused(tmp_path: Path) -> None:
    err = refused(tmp_path, ("text: ${{parent.jobs.make.outputs.out}}", "text: ${{parent.inputs.w}}"))
    assert "string" in err.message and "uri_folder" in err.message and "'text'" in err.message
    assert err.where is not None and err.where.line == 21


def test_a_folder_pipeline_input_bound_to_a_number_is_refused(tmp_path: Path) -> None:
    err = refused(tmp_path, ("lr: ${{parent.inputs.lr}}", "lr: ${{parent.inputs.data}}"))
    assert "uri_folder" in err.message and "number" in err.message and err.where.line == 23  # type: ignore[union-attr]


def test_a_number_bound_to_an_integer_is_refused_but_integer_to_number_is_fine(tmp_path: Path) -> None:
    err = refused(tmp_path, ("n: ${{parent.inputs.n}}", "n: ${{parent.inputs.lr}}"))
    assert "number" in err.message and "integer" in err.message
    built = graph(tmp_path, ("lr: ${{parent.inputs.lr}}", "lr: ${{parent.inputs.n}}"))
    lr = built.steps["up1"].spec.inputs["lr"]
    assert isinstance(lr, LiteralInput) and lr.effective == 3


def test_compatible_bindings_pass(tmp_path: Path) -> None:
    more = ("lr: ${{parent.inputs.lr}}\n      label: ${{parent.inputs.n}}\n"
            "      model: ${{parent.jobs.make.outputs.out}}")
    graph(tmp_path, ("lr: ${{parent.inputs.lr}}", more),
          ("text: ${{parent.jobs.make.outputs.out}}", "text: ${{parent.inputs.data}}"))


def test_a_literal_string_that_reads_as_the_type_passes(tmp_path: Path) -> None:
    built = graph(tmp_path, ("n: 3", "n: '4'"))
    n = built.steps["up1"].spec.inputs["n"]
    assert isinstance(n, LiteralInput) and n.effective == 4


def test_an_unset_optional_pipeline_input_reaches_an_optional_input(tmp_path: Path) -> None:
    built = graph(tmp_path, ("lr: ${{parent.inputs.lr}}", "lr: ${{parent.inputs.lr}}\n"
                                                           "      extra: ${{parent.inputs.opt}}"))
    extra = built.steps["up1"].spec.inputs["extra"]
    assert extra.optional and not extra.has_value


def test_an_unset_optional_pipeline_input_for_a_required_input_is_refused(tmp_path: Path) -> None:
    built = graph(tmp_path, ("n: ${{parent.inputs.n}}", "n: ${{parent.inputs.opt}}"))  # n's default: 2
    n = built.steps["up1"].spec.inputs["n"]
    assert isinstance(n, LiteralInput) and n.effective == 2
    err = refused(tmp_path, ("lr: ${{parent.inputs.lr}}", "lr: ${{parent.inputs.opt}}"))
    assert "'lr'" in err.message and err.where is not None and err.where.line == 23
    assert err.hint and "opt" in err.hint


def test_a_missing_code_folder_is_refused_at_validate(tmp_path: Path) -> None:
    with pytest.raises(ResolveError) as caught:  # named, not there: exit 1 (docs/guides/ci.md)
        graph(tmp_path, component=UPPER.replace("type: command\n", "type: command\ncode: ./nosuchdir\n"))
    err = caught.value
    assert "nosuchdir" in err.message and "does not exist" in err.message
    assert err.where is not None and str(err.where.file).endswith("upper.yml") and err.where.line == 4


def test_registering_a_component_without_its_code_folder_names_the_line(tmp_path: Path) -> None:
    from runner.spec.component import load_component_spec
    from runner.workspace.components import ComponentStore

    path = tmp_path / "upper.yml"
    path.write_text(UPPER.replace("type: command\n", "type: command\ncode: ./nosuchdir\n"))
    with pytest.raises(ResolveError) as caught:  # named, not there: exit 1 (docs/guides/ci.md)
        ComponentStore(Workspace(tmp_path / "ws")).create(load_component_spec(path))
    assert caught.value.where is not None and caught.value.where.file == path and caught.value.where.line == 4


@pytest.mark.parametrize("step_type", ["", "    type: command\n"])
@pytest.mark.parametrize(("given", "declared", "gives"), [
    ("{mode: ro_mount, path: '${{parent.inputs.w}}'}", "uri_folder", "a string"),  # type: omitted
    ("{path: '${{parent.inputs.n}}'}", "uri_folder", "an integer"),
    ("{type: integer, value: '${{parent.inputs.w}}'}", "integer", "a string"),  # type: written
])
def test_an_inline_steps_bindings_are_checked_with_or_without_type(tmp_path: Path, step_type: str,
                                                                   given: str, declared: str,
                                                                   gives: str) -> None:
    inline = ("  make:\n    type: command\n    command: echo hi > ${{outputs.out}}/w\n",
              f"  make:\n{step_type}    command: cat $[[${{{{inputs.x}}}}]] > ${{{{outputs.out}}}}/w\n"
              f"    inputs:\n      x: {given}\n")
    err = refused(tmp_path, inline)
    assert err.message.startswith("step 'make' input 'x': ") and f"gives {gives}" in err.message
    assert f"declares 'x' as {declared}" in err.message
    assert err.field is not None and err.field.startswith("jobs.make.inputs.x")
    x_line = next(i for i, line in enumerate((tmp_path / "p.yml").read_text().splitlines(), 1)
                  if line.startswith("      x: "))
    assert err.where is not None and err.where.line == x_line


@pytest.mark.parametrize("bound", [
    "      extra: ${{parent.inputs.req}}\n",  # an optional component input: would run with it unset
    "      label: ${{parent.inputs.req}}\n",
    "",  # bound by no step: Azure still refuses the pipeline
])
def test_a_required_pipeline_input_with_no_value_is_refused_at_its_line(tmp_path: Path, bound: str) -> None:
    declared = ("  opt: {type: string, optional: true}\n",
                "  opt: {type: string, optional: true}\n  req: {type: integer}\n")
    err = refused(tmp_path, declared, ("      lr: ${{parent.inputs.lr}}\n",
                                       "      lr: ${{parent.inputs.lr}}\n" + bound))
    assert err.message == "pipeline input 'req' is required and has no value"
    assert err.field == "inputs.req"
    req_line = (tmp_path / "p.yml").read_text().splitlines().index("  req: {type: integer}") + 1
    assert err.where is not None and err.where.line == req_line and err.where.file == tmp_path / "p.yml"
    assert err.hint is not None and "default:" in err.hint and "optional: true" in err.hint
    assert "--set inputs.req=" in err.hint


def test_a_required_pipeline_input_for_a_required_input_is_refused_at_the_pipeline_input(
        tmp_path: Path) -> None:
    declared = ("  opt: {type: string, optional: true}\n",
                "  opt: {type: string, optional: true}\n  req: {type: integer}\n")
    err = refused(tmp_path, declared, ("lr: ${{parent.inputs.lr}}", "lr: ${{parent.inputs.req}}"))
    assert err.message == "pipeline input 'req' is required and has no value"  # not "optional"
    # given a value (a default, or --set), or made optional for an optional input, it passes
    graph(tmp_path, ("  opt: {type: string, optional: true}\n",
                     "  opt: {type: string, optional: true}\n  req: {type: integer, default: 2}\n"),
          ("lr: ${{parent.inputs.lr}}", "lr: ${{parent.inputs.req}}"))
    spec = load_pipeline_spec(tmp_path / "p.yml", ["inputs.req=5"])
    built = build_graph(spec, Workspace(tmp_path / "ws"), pipeline_name="p")
    lr = built.steps["up1"].spec.inputs["lr"]
    assert isinstance(lr, LiteralInput) and lr.effective == 5
    graph(tmp_path, ("  opt: {type: string, optional: true}\n",
                     "  opt: {type: string, optional: true}\n  req: {type: integer, optional: true}\n"),
          ("lr: ${{parent.inputs.lr}}\n", "lr: ${{parent.inputs.lr}}\n      extra: ${{parent.inputs.req}}\n"))


def test_a_required_asset_pipeline_input_with_no_path_is_refused(tmp_path: Path) -> None:
    err = refused(tmp_path, ("  data: {type: uri_folder, path: ./data}", "  data: {type: uri_folder}"))
    assert err.message == "pipeline input 'data' is required and has no path"
    assert err.field == "inputs.data" and err.where is not None and err.where.line == 7
    assert err.hint is not None and "path:" in err.hint and "optional: true" in err.hint
