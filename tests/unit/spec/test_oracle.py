"""Oracle: for every command-job YAML in the Azure ML examples and in samples/jobs, the inputs and outputs
we parse (names, types, modes, paths, literal values) agree with azure-ai-ml's offline ``load_job``.

azure-ai-ml is a test oracle only; the package never imports it.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from needs import require_module
from repo_paths import EXAMPLES, REPO

from runner.spec.job_io import AssetInput, LiteralInput
from runner.spec.load import load_job_spec
from runner.spec.yamlio import load_yaml


@pytest.fixture(scope="module")
def azure_ml() -> Any:
    """azure-ai-ml, the oracle (dev extra): missing, every oracle test skips locally and fails in CI."""
    return require_module("azure.ai.ml", "the oracle the job parser is compared with")


def _command_jobs() -> list[Path]:
    found: list[Path] = []
    for root in (EXAMPLES / "cli" / "jobs", REPO / "samples" / "jobs"):
        for path in sorted(root.rglob("*.yml")) + sorted(root.rglob("*.yaml")):
            data = load_yaml(path).data
            if isinstance(data, dict) and "command" in data and data.get("type", "command") == "command" \
                    and not _is_component(data):
                found.append(path)
    return found


def _is_component(data: dict[str, Any]) -> bool:
    """A command *component* (``commandComponent.schema.json``): a pipeline step's definition, not a job."""
    return "component" in str(data.get("$schema", "")).lower()


JOBS = _command_jobs()


@pytest.mark.examples
def test_there_are_jobs_to_compare() -> None:
    assert any(EXAMPLES in p.parents for p in JOBS), f"no examples found under {EXAMPLES}"


def _azure_load(azure_ml: Any, path: Path, tmp_path: Path) -> Any:
    """Azure's offline load; a missing ``code`` folder (the examples ship without src/) is pointed at an
    empty folder, which does not affect inputs or outputs."""
    data = load_yaml(path).data
    overrides = []
    if isinstance(data.get("code"), str) and not (path.parent / data["code"]).exists():
        overrides.append({"code": str(tmp_path)})
    return azure_ml.load_job(path, params_override=overrides)


def _short_ref(path: str | None) -> str | None:
    """Azure keeps ``azureml:<name>:<v>`` / ``azureml:<name>@latest`` without the ``azureml:`` prefix."""
    if path is not None and path.startswith("azureml:") and not path.startswith("azureml://"):
        return path[len("azureml:"):]
    return path


def _ours(path: Path) -> tuple[dict[str, Any], dict[str, Any]]:
    spec = load_job_spec(path)
    inputs: dict[str, Any] = {}
    for name, job_input in spec.inputs.items():
        if isinstance(job_input, LiteralInput):
            inputs[name] = ("literal", job_input.effective, job_input.rendered())
        else:
            assert isinstance(job_input, AssetInput)
            inputs[name] = (job_input.type.value, _short_ref(job_input.path),
                            job_input.mode.value if job_input.mode else None)
    outputs = {name: (o.type.value, o.path, o.mode.value if o.mode else None, o.name, o.version)
               for name, o in spec.outputs.items()}
    return inputs, outputs


def _theirs(job: Any) -> tuple[dict[str, Any], dict[str, Any]]:
    inputs: dict[str, Any] = {}
    for name, node in job.inputs.items():
        data = node._data
        if isinstance(data, str | int | float | bool):
            inputs[name] = ("literal", data, str(data))
        else:
            inputs[name] = (data.type, data.path, data.mode)
    outputs: dict[str, Any] = {}
    for name, node in job.outputs.items():
        data = node._data
        if data is None:  # a bare `name:` output: Azure's defaults
            outputs[name] = ("uri_folder", None, None, None, None)
        else:
            version = None if data.version is None else str(data.version)
            outputs[name] = (data.type, data.path, data.mode, data.name, version)
    return inputs, outputs


@pytest.mark.parametrize("path", JOBS, ids=[f"{p.parent.name}/{p.name}" for p in JOBS])
def test_inputs_and_outputs_agree_with_azure(azure_ml: Any, path: Path, tmp_path: Path) -> None:
    ours_in, ours_out = _ours(path)
    theirs_in, theirs_out = _theirs(_azure_load(azure_ml, path, tmp_path))
    assert ours_in == theirs_in
    assert ours_out == theirs_out


VARIETY = """\
command: >-
  echo ${{inputs.a}} ${{inputs.b}} ${{inputs.c}} ${{inputs.d}} ${{inputs.e}} ${{inputs.g}}
  ${{inputs.h}} ${{inputs.r}} ${{outputs.o}} ${{outputs.p}} ${{outputs.q}}
environment:
  image: python:3.11
inputs:
  a: 3
  b: true
  c: 1.5
  d: hello
  e:
    value: 7
  g:
    path: data
  h:
    type: custom_model
    path: azureml:m:1
    mode: direct
  r:
    type: triton_model
    path: azureml://datastores/workspaceblobstore/paths/triton/
    mode: download
outputs:
  o:
    type: custom_model
    name: mm
    version: 3
  p:
  q:
    type: uri_file
    path: azureml://datastores/workspaceblobstore/paths/out/result.txt
    mode: upload
"""


def test_variety_of_forms_agree_with_azure(azure_ml: Any, tmp_path: Path) -> None:
    """Literals of every kind, short model refs, a bare output and a registered output."""
    path = tmp_path / "variety.yml"
    path.write_text(VARIETY)
    assert _ours(path) == _theirs(_azure_load(azure_ml, path, tmp_path))
