"""An unknown reference exits 1, whichever kind it is and wherever it is written (a command job's input or
environment, a pipeline step's component, input or environment): a component, a data asset, a model or an
environment that is not registered is a value the workspace does not know, not an invalid YAML (exit 2,
docs/guides/ci.md). Each the real CLI in its own process, its workspace empty, in tmp_path."""

from __future__ import annotations

from pathlib import Path

import pytest
from jobs_support import cli

JOB = "command: ls\nenvironment:\n  image: runner/busybox:latest\n"
STEP = "type: pipeline\njobs:\n  a:\n    type: command\n"
UNKNOWN = {
    "component step": (STEP + "    component: azureml:nosuch:3\n", "unknown component 'nosuch'"),
    "component step, latest": (STEP + "    component: azureml:nosuch@latest\n", "unknown component 'nosuch'"),
    "data input": (JOB + "inputs:\n  x:\n    type: uri_folder\n"
                   "    path: azureml:local-folder-example@latest\n",
                   "unknown data asset 'local-folder-example'"),
    "model input": (JOB + "inputs:\n  x:\n    type: custom_model\n    path: azureml:mymodel:1\n",
                    "unknown model 'mymodel'"),
    "environment": ("command: ls\nenvironment: azureml:some-env@latest\n", "is not mapped to a local image"),
    "data input of a step": (STEP + "    command: ls ${{inputs.x}}\n"
                             "    environment: {image: 'runner/busybox:latest'}\n"
                             "    inputs:\n      x:\n        type: uri_folder\n"
                             "        path: azureml:d@latest\n",
                             "step 'a': unknown data asset 'd'"),
    "environment of a step": (STEP + "    command: ls\n    environment: azureml:some-env@latest\n",
                              "step 'a': environment 'azureml:some-env@latest' is not mapped"),
}


@pytest.mark.parametrize("verb", ["validate", "create"])
@pytest.mark.parametrize("what", sorted(UNKNOWN))
def test_an_unknown_reference_exits_1_with_one_message(tmp_path: Path, what: str, verb: str) -> None:
    text, said = UNKNOWN[what]
    spec = tmp_path / "spec.yml"
    spec.write_text(text)
    result = cli(tmp_path / "ws", "job", verb, "--file", str(spec))
    assert result.returncode == 1, (what, result.returncode, result.stderr)
    assert result.stderr.startswith("error: ") and said in result.stderr, result.stderr
    assert "Traceback" not in result.stderr and "internal error" not in result.stderr, result.stderr


def test_a_missing_component_file_exits_1_as_an_unknown_component_does(tmp_path: Path) -> None:
    """A step's component file that is not there is named but missing: exit 1 (a malformed value: 2,
    test_missing_named_files_exit.py)."""
    spec = tmp_path / "spec.yml"
    spec.write_text(STEP + "    component: ./missing-component.yml\n")
    result = cli(tmp_path / "ws", "job", "validate", "--file", str(spec))
    assert result.returncode == 1, result.stderr
    assert "component: is a file relative to the pipeline file" in result.stderr, result.stderr
