"""What ``runner job validate`` prints for a pipeline: an optional input left unset (a pipeline input, an
inline step's literal or path input, a component input it is bound to) is said in words, never ``None``;
the JSON form keeps ``null``."""

from __future__ import annotations

import textwrap
from pathlib import Path

from runner.pipelines.render import pipeline_dict, render_pipeline
from runner.pipelines.submit import validate_pipeline
from runner.spec.pipeline import load_pipeline_spec
from runner.workspace.db import Workspace

COMPONENT = """\
name: co
version: 1
type: command
inputs:
  n: {type: integer, optional: true}
environment: {image: runner/busybox:latest}
command: echo $[[${{inputs.n}}]]
"""

PIPELINE = """\
type: pipeline
inputs:
  k: {type: integer, optional: true}
  f: {type: uri_folder, optional: true}
  given: 3
settings:
  default_compute: local-process
jobs:
  s:
    command: echo $[[${{inputs.n}}]] $[[${{inputs.d}}]] ${{inputs.g}}
    environment: {image: runner/busybox:latest}
    inputs:
      n: {type: integer, optional: true}
      d: {type: uri_folder, optional: true}
      g: ${{parent.inputs.given}}
  t:
    component: ./co.yml
    inputs:
      n: ${{parent.inputs.k}}
"""

UNSET = "(optional, not set)"


def test_an_unset_optional_input_is_said_in_words(tmp_path: Path) -> None:
    (tmp_path / "co.yml").write_text(COMPONENT)
    (tmp_path / "p.yml").write_text(textwrap.dedent(PIPELINE))
    spec = load_pipeline_spec(tmp_path / "p.yml")
    graph, locations, reuse = validate_pipeline(Workspace(tmp_path / "ws"), spec, name="p")
    text = render_pipeline(graph, locations, reuse)
    assert "None" not in text
    rows = {line.split()[0]: line for line in text.splitlines()
            if line.startswith(("  k ", "  f ", "  given "))}
    assert rows["k"].endswith(UNSET) and rows["f"].endswith(UNSET) and rows["given"].split()[-1] == "3"
    step_rows = [line.split(None, 4) for line in text.splitlines() if line.startswith("      ")]
    n_s, d_s, g_s, n_t = (row for row in step_rows if row[0] in ("n", "d", "g"))
    assert " ".join(n_s[3:]) == UNSET and " ".join(d_s[3:]) == UNSET and g_s[3] == "3"
    assert " ".join(n_t[3:]).startswith(UNSET) and n_t[-1].endswith("${{parent.inputs.k}}")
    data = pipeline_dict(graph, locations, reuse)
    assert [i["value"] for i in data["steps"][0]["inputs"]] == [None, None, "3"]  # JSON keeps null
