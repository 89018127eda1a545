"""A step input bound to a pipeline-level input (``d: ${{parent.inputs.data}}``) takes its path from that
input: an error about the path (an unknown protocol, a local path that does not exist) is said at the
pipeline input's own ``path:`` line and named ``inputs.data.path``, where the value was written, not at
the step's binding line; the message still names the step that reads it. A ``--set`` of that path is
named as such. A path the step writes itself is still located on the step."""

from __future__ import annotations

from pathlib import Path

import pytest

from runner.errors import RunnerError
from runner.pipelines.submit import plan_pipeline
from runner.spec.pipeline import load_pipeline_spec
from runner.workspace.db import Workspace

PIPELINE = """\
type: pipeline
settings: {{default_compute: local-process}}
inputs:
  data:
    type: uri_folder
    path: {path}
jobs:
  w:
    command: echo hi > ${{{{outputs.o}}}}/x
    environment: {{image: 'unused:1'}}
    outputs:
      o: {{mode: upload}}
  s:
    command: ls ${{{{inputs.d}}}}
    environment: {{image: 'unused:1'}}
    inputs:
      d: {binding}
{upstream}"""

UPSTREAM = """\
      up: {path: '${{parent.jobs.w.outputs.o}}', mode: download}
"""


def _line(path: Path, start: str) -> int:
    return next(i for i, line in enumerate(path.read_text().splitlines(), 1) if line.startswith(start))


def _refused(tmp_path: Path, path: str, binding: str, upstream: str = "",
             overrides: tuple[str, ...] = ()) -> tuple[RunnerError, Path]:
    pipeline = tmp_path / "p.yml"
    pipeline.write_text(PIPELINE.format(path=path, binding=binding, upstream=upstream))
    with pytest.raises(RunnerError) as caught:
        plan_pipeline(Workspace(tmp_path / "ws"), load_pipeline_spec(pipeline, overrides), name="p")
    return caught.value, pipeline


BINDINGS = ["'${{parent.inputs.data}}'", "{path: '${{parent.inputs.data}}', mode: download}"]


@pytest.mark.parametrize("binding", BINDINGS)
@pytest.mark.parametrize("upstream", ["", UPSTREAM])  # checked as a command job, or before its upstream ran
def test_an_unknown_protocol_of_a_pipeline_input_is_said_at_its_path(tmp_path: Path, binding: str,
                                                                      upstream: str) -> None:
    err, pipeline = _refused(tmp_path, "'foo://x'", binding, upstream)
    assert err.field == "inputs.data.path", err.render()
    assert err.where is not None and err.where.file == pipeline
    assert err.where.line == _line(pipeline, "    path: 'foo://x'"), err.render()
    assert "step 's'" in err.message and "foo" in err.message, err.message
    assert f"{pipeline}:{err.where.line}:" in err.render() and "Traceback" not in err.render()


@pytest.mark.parametrize("binding", BINDINGS)
def test_a_missing_local_path_of_a_pipeline_input_is_said_at_its_path(tmp_path: Path, binding: str) -> None:
    err, pipeline = _refused(tmp_path, "./nope", binding)
    assert err.field == "inputs.data.path" and "does not exist" in err.message, err.render()
    assert err.where is not None and err.where.line == _line(pipeline, "    path: ./nope")


def test_a_set_pipeline_input_path_is_named_as_set(tmp_path: Path) -> None:
    err, _ = _refused(tmp_path, "./data", BINDINGS[0], overrides=("inputs.data.path=foo://y",))
    assert err.field is not None and err.field.startswith("inputs.data.path (from --set"), err.render()


def test_a_path_written_on_the_step_is_still_said_on_the_step(tmp_path: Path) -> None:
    (tmp_path / "data").mkdir()
    err, pipeline = _refused(tmp_path, "./data", "{path: 'foo://x', mode: download}")
    assert err.field == "jobs.s.inputs.d.path", err.render()
    assert err.where is not None and err.where.line == _line(pipeline, "      d: {path: 'foo://x'")
