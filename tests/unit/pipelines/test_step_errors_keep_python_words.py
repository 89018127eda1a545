"""A pipeline step's error, said as the step's (``step 's': ...`` at ``jobs.<step>.<field>``), keeps the
Python words the error had (``python_hint``, ``python_message``, ``python_field``): ``str(err)``, what
``ml_client.jobs.validate`` / ``create_or_update`` raise to a Python caller, names the call to make, where
``err.render()`` (the CLI's text) names the ``runner`` command."""

from __future__ import annotations

from pathlib import Path

import pytest

from runner import MLClient, load_job
from runner.errors import ResolveError, SourceLocation, SpecError
from runner.pipelines.graph import build_graph
from runner.pipelines.submit import _at
from runner.spec.pipeline import load_pipeline_spec
from runner.workspace.db import Workspace

PIPELINE = """\
type: pipeline
settings: {default_compute: local-process}
jobs:
  s:
    command: ls ${{inputs.d}}
    environment: {image: 'unused:1'}
    inputs:
      d: {type: uri_folder, path: 'azureml://datastores/nowhere/paths/x', mode: download}
"""


def test_an_unknown_datastore_in_a_step_names_the_python_call(tmp_path: Path) -> None:
    path = tmp_path / "p.yml"
    path.write_text(PIPELINE)
    client = MLClient(workspace_dir=tmp_path / "ws")
    with pytest.raises(ResolveError) as info:
        client.jobs.validate(load_job(path), raise_on_failure=True)
    err = info.value
    assert err.message.startswith("step 's': unknown datastore 'nowhere'"), err.message
    assert "jobs.s.inputs.d.path" in str(err)
    assert "ml_client.datastores.create_or_update(load_datastore(" in str(err), str(err)
    assert "runner datastore create" not in str(err), str(err)
    assert "`runner datastore create --file <datastore.yml>`" in err.render()


def test_every_python_word_of_a_step_error_is_kept(tmp_path: Path) -> None:
    path = tmp_path / "p.yml"
    path.write_text(PIPELINE)
    graph = build_graph(load_pipeline_spec(path), Workspace(tmp_path / "ws"), pipeline_name="p")
    spec = graph.steps["s"].spec
    with pytest.raises(SpecError) as info, _at(spec, "s"):  # not located: at the step's line
        raise SpecError("--flag x is refused", field="--flag", hint="drop --flag",
                        python_message="flag=x is refused", python_field="flag",
                        python_hint="leave flag unset")
    err = info.value
    assert err.render() == f"{path}:4:3: jobs.s: step 's': --flag x is refused\n  hint: drop --flag"
    assert str(err) == f"{path}:4:3: jobs.s: step 's': flag=x is refused\n  hint: leave flag unset"
    where = SourceLocation(path, 8, 29)
    with pytest.raises(SpecError) as info, _at(spec, "s"):  # located already: its field kept
        raise SpecError("--flag x is refused", field="--flag", where=where, hint="drop --flag",
                        python_message="flag=x is refused", python_field="flag",
                        python_hint="leave flag unset")
    err = info.value
    assert err.render() == f"{path}:8:29: --flag: step 's': --flag x is refused\n  hint: drop --flag"
    assert str(err) == f"{path}:8:29: flag: step 's': flag=x is refused\n  hint: leave flag unset"
