"""Every place that says a pipeline step's error as the step's (``step 's': ...`` at ``jobs.s...``) keeps the
Python words the error had (``python_hint``, ``python_message``, ``python_field``), as ``_at`` does
(``test_step_errors_keep_python_words``): an unknown registered component, an inline component's error, a
step's own field's error and a binding's error. ``str(err)``, what ``ml_client.jobs.validate`` raises to
a Python caller, says them in Python's words; ``err.render()`` (the CLI's text) in the CLI's."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from runner import MLClient, load_job
from runner.errors import RunnerError, SpecError
from runner.pipelines import graph, steps

INLINE_STEP = """\
type: pipeline
settings: {default_compute: local-process}
jobs:
  s:
    command: echo ${{inputs.x}}
    environment: {image: 'unused:1'}
    inputs:
      x: 'hi'
"""
STEP_BODY = "    command: echo ${{inputs.x}}\n    environment: {image: 'unused:1'}\n"
INLINE_COMPONENT = """\
type: pipeline
settings: {default_compute: local-process}
jobs:
  s:
    component:
      command: echo hi
      environment: {image: 'unused:1'}
"""


def _validate(tmp_path: Path, text: str) -> RunnerError:
    path = tmp_path / "p.yml"
    path.write_text(text)
    client = MLClient(workspace_dir=tmp_path / "ws")
    with pytest.raises(RunnerError) as info:
        client.jobs.validate(load_job(path), raise_on_failure=True)
    return info.value


def _flagged(*_: Any, **__: Any) -> Any:
    """An error whose message, field and hint name a flag, with their Python words."""
    raise SpecError("--flag x is refused", field="--flag", hint="drop --flag",
                    python_message="flag=x is refused", python_field="flag", python_hint="leave flag unset")


def _assert_python_words(err: RunnerError, *, python_field: str | None = None) -> None:
    said = str(err)
    assert "step 's': flag=x is refused" in said and "hint: leave flag unset" in said, said
    assert "--flag" not in said and "drop" not in said, said
    if python_field:
        assert f"{python_field}: step 's'" in said, said
    cli = err.render()
    assert "step 's': --flag x is refused" in cli and "hint: drop --flag" in cli, cli


def test_an_unknown_registered_component_names_the_python_call(tmp_path: Path) -> None:
    err = _validate(tmp_path, INLINE_STEP.replace(STEP_BODY, "    component: azureml:nope:1\n"))
    assert "step 's': unknown component 'nope'" in err.message and err.field == "jobs.s.component"
    assert "ml_client.components.create_or_update(load_component('<component.yml>'))" in str(err), str(err)
    assert "runner component create" not in str(err), str(err)
    assert "`runner component create --file <component.yml>`" in err.render()


def test_a_component_file_that_does_not_load_keeps_its_replaced_hint_for_python_too(tmp_path: Path) -> None:
    err = _validate(tmp_path, INLINE_STEP.replace(STEP_BODY, "    component: ./nope.yml\n"))
    hint = "component: is a file relative to the pipeline file, or azureml:<name>:<version>"
    assert err.hint == hint and f"hint: {hint}" in str(err), str(err)


def test_an_inline_components_error_keeps_its_python_words(tmp_path: Path,
                                                           monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(graph, "component_from_data", _flagged)
    err = _validate(tmp_path, INLINE_COMPONENT)
    _assert_python_words(err, python_field="jobs.s.component.flag")
    assert "jobs.s.component.--flag" in err.render()


def test_a_steps_field_error_keeps_its_python_words(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(graph, "spec_from_doc", _flagged)
    err = _validate(tmp_path, INLINE_STEP)
    _assert_python_words(err, python_field="jobs.s.flag")
    assert "jobs.s.--flag" in err.render()


def test_a_bindings_error_keeps_its_python_words(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(steps, "find_bindings", _flagged)
    err = _validate(tmp_path, INLINE_STEP)
    assert err.field == "jobs.s.inputs.x" and "step 's' input 'x': --flag x is refused" in err.render()
    said = str(err)
    assert "step 's' input 'x': flag=x is refused" in said and "hint: leave flag unset" in said, said
