"""Oracle: for every command-job YAML in the Azure ML examples and in samples/jobs, the inputs and outputs
we parse (names, types, modes, paths, literal values and how they render) and the command agree with
azure-ai-ml's offline ``load_job``; every component and pipeline/sweep file gets one line saying what it
is. Differences from Azure are listed in ``DIFFERENCES`` (documented, with the reason); there are none
in what is compared here.

azure-ai-ml is a test oracle only; the package never imports it.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from needs import require_module
from repo_paths import EXAMPLES, REPO

from runner.errors import SpecError
from runner.spec.job_io import AssetInput, LiteralInput
from runner.spec.load import load_job_spec
from runner.spec.yamlio import load_yaml


@pytest.fixture(scope="module")
def azure_ml() -> Any:
    """azure-ai-ml, the oracle (dev extra): missing, every oracle test skips locally and fails in CI."""
    return require_module("azure.ai.ml", "the oracle the job parser is compared with")


def _yamls() -> list[tuple[Path, Any]]:
    found: list[tuple[Path, Any]] = []
    for root in (EXAMPLES / "cli" / "jobs", REPO / "samples" / "jobs"):
        for path in sorted(root.rglob("*.yml")) + sorted(root.rglob("*.yaml")):
            found.append((path, load_yaml(path).data))
    return found


def _command_jobs() -> list[Path]:
    return [path for path, data in _yamls() if isinstance(data, dict) and "command" in data
            and data.get("type", "command") == "command" and not _is_component(data)]


def _other_kinds() -> list[Path]:
    """Components, jobs of another type (pipeline, sweep ...) and asset files beside them."""
    return [path for path, data in _yamls() if isinstance(data, dict) and (
        _is_component(data) or data.get("type") not in (None, "command") or "jobs" in data)]


def _is_component(data: dict[str, Any]) -> bool:
    """A command *component* (``commandComponent.schema.json``): a pipeline step's definition, not a job."""
    return "component" in str(data.get("$schema", "")).lower()


JOBS = _command_jobs()
OTHER_KINDS = _other_kinds()

# What runner does differently from azure-ai-ml on these files, and why (the oracle compares the rest).
DIFFERENCES = {
    "job validate": "environments Azure curates that the provisioned image does not hold (lightgbm, "
                    "tensorflow, acpt-pytorch) must be mapped first: `runner environment create`",
    "remote inputs": "read when the job runs, not when it is validated (Azure reads none either)",
}


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


def _io(spec: Any) -> tuple[dict[str, Any], dict[str, Any]]:
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
    spec = load_job_spec(path)
    theirs = _azure_load(azure_ml, path, tmp_path)
    ours_in, ours_out = _io(spec)
    theirs_in, theirs_out = _theirs(theirs)
    assert ours_in == theirs_in
    assert ours_out == theirs_out
    assert spec.command == theirs.command


@pytest.mark.examples
def test_there_are_other_kinds_to_refuse() -> None:
    assert any("pipelines-with-components" in str(p) for p in OTHER_KINDS)


@pytest.mark.parametrize("path", OTHER_KINDS, ids=[f"{p.parent.name}/{p.name}" for p in OTHER_KINDS])
def test_components_and_other_job_types_get_one_line(path: Path) -> None:
    with pytest.raises(SpecError) as info:
        load_job_spec(path)
    text = info.value.message
    assert any(words in text for words in ("is a command component", "this job type is not supported (yet): ",
                                           "this is a pipeline job; a command job is expected here",
                                           "this file is a data asset, not a job")), text
    assert "unknown field" not in text and "has no path" not in text


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
    assert _io(load_job_spec(path)) == _theirs(_azure_load(azure_ml, path, tmp_path))
