"""``load_component(..., params_override=[...])``'s errors name ``params_override``, as ``load_job``'s do
(``test_python_words_left``): ``str(err)``, what a Python caller sees, never says ``--set``; the CLI's
``runner component create --set`` (``load_component_spec`` with ``--set`` strings) still says ``--set``.
A value that is not text is given as its JSON (``{"a": "b"}``, not Python's ``{'a': 'b'}``), as ``load_job``
gives it."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from runner import load_component
from runner.errors import RunnerError
from runner.spec.component import load_component_spec

COMPONENT = """\
type: command
name: c
version: "1"
inputs:
  lr: {type: number, default: 0.1}
  flag: {type: boolean, default: false}
command: echo ${{inputs.lr}} ${{inputs.flag}}
environment: {image: 'unused:1'}
"""


@pytest.fixture
def component(tmp_path: Path) -> Path:
    path = tmp_path / "c.yml"
    path.write_text(COMPONENT)
    return path


def _raised(call: Callable[[], object]) -> RunnerError:
    with pytest.raises(RunnerError) as info:
        call()
    return info.value


def _python_only(err: RunnerError, *expected: str) -> str:
    text = str(err)
    for words in expected:
        assert words in text, text
    assert "--set" not in text and "Traceback" not in text, text
    return text


@pytest.mark.parametrize(("override", "field", "problem"), [
    ({"version": "bad version!"}, "version (from params_override {'version': 'bad version!'})",
     "invalid component version"),
    ({"inputs.lr.default": "abc"}, "inputs.lr (from params_override {'inputs.lr.default': 'abc'})",
     "is not a number"),
    ({"inputs.lr.type": "bogus"}, "inputs.lr.type (from params_override {'inputs.lr.type': 'bogus'})",
     "is not an input type"),
])
def test_a_bad_value_names_params_override(component: Path, override: dict[str, str], field: str,
                                           problem: str) -> None:
    err = _raised(lambda: load_component(component, params_override=[override]))
    _python_only(err, field, problem)
    key, value = next(iter(override.items()))
    cli = _raised(lambda: load_component_spec(component, [f"{key}={value}"])).render()
    assert f"(from --set {key}={value})" in cli, cli


def test_a_key_that_is_no_field_path_or_goes_below_text(component: Path) -> None:
    err = _raised(lambda: load_component(component, params_override=[{"": "x"}]))
    _python_only(err, "params_override", "params_override=[{'inputs.<name>.path': '<path>'}]")
    assert "write --set inputs.<name>.path=<path>" in err.render()
    err = _raised(lambda: load_component(component, params_override=[{"command.x": "y"}]))
    _python_only(err, "command (from params_override {'command.x': 'y'})")


def test_a_value_that_is_not_text_is_given_as_json(component: Path) -> None:
    loaded = load_component(component, params_override=[{"tags": {"stage": "dev"}},
                                                         {"inputs.flag.default": True}])
    assert loaded.spec.tags == {"stage": "dev"}
    assert loaded.spec.inputs["flag"].default is True
