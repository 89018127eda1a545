"""What azure-ai-ml accepts, runner accepts: dashed input/output names, literals read and rendered as
Azure reads them (PyYAML's YAML 1.1), one line for a component or another job type, and a datastore
whose endpoint is a URL refused with the fix."""

from __future__ import annotations

from pathlib import Path

import pytest

from runner.entities import Command
from runner.errors import SpecError
from runner.spec.load import load_job_spec
from runner.spec.yamlio import dump_yaml, load_yaml_text
from runner.workspace.datastores import load_datastore

azure_ml = pytest.importorskip("azure.ai.ml", reason="azure-ai-ml (dev extra) is the oracle")


def _write(tmp_path: Path, text: str, name: str = "job.yml") -> Path:
    path = tmp_path / name
    path.write_text(text)
    return path


DASHED = """\
command: python train.py --data ${{inputs.my-data}} --out ${{ outputs.trained-model }}
environment: {image: python:3.11}
inputs:
  my-data: {type: uri_folder, path: azureml://datastores/workspaceblobstore/paths/d}
outputs:
  trained-model: {type: custom_model}
"""


def test_dashed_names_as_azure_loads_them(tmp_path: Path) -> None:
    job = _write(tmp_path, DASHED)
    theirs = azure_ml.load_job(job)
    spec = load_job_spec(job)
    assert list(spec.inputs) == list(theirs.inputs) == ["my-data"]
    assert list(spec.outputs) == list(theirs.outputs) == ["trained-model"]


LITERALS = """\
command: >-
  echo ${{inputs.a}} ${{inputs.b}} ${{inputs.c}} ${{inputs.d}} ${{inputs.e}} ${{inputs.f}} ${{inputs.g}}
environment: {image: python:3.11}
inputs:
  a: true
  b: 0.10
  c: 1e-3
  d: 1.0
  e: yes
  f: {value: off}
  g: 0755
"""


def test_literals_are_read_and_rendered_as_azure_renders_them(tmp_path: Path) -> None:
    """azure-ai-ml reads job files with PyYAML (YAML 1.1) and sends str(value) to the service."""
    job = _write(tmp_path, LITERALS)
    theirs = {name: str(node._data) for name, node in azure_ml.load_job(job).inputs.items()}
    ours = {name: value.rendered() for name, value in load_job_spec(job).inputs.items()}  # type: ignore[union-attr]
    assert ours == theirs == {"a": "True", "b": "0.1", "c": "1e-3", "d": "1.0", "e": "True", "f": "False",
                              "g": "493"}


def test_a_dumped_job_loads_back_equal_under_yaml_1_1(tmp_path: Path) -> None:
    data = {"command": "echo ${{inputs.s}}", "environment": "python:3.11",
            "inputs": {"s": "yes", "t": "on", "u": "1e-3", "v": 1e-20}}
    path = tmp_path / "dumped.yml"
    dump_yaml(data, path)
    assert not path.read_text().startswith("%YAML")
    assert load_yaml_text(path.read_text()).data == data
    assert Command(load_job_spec(path)).inputs["s"] == "yes"


SCHEMAS = "https://azuremlschemas.azureedge.net/latest"


@pytest.mark.parametrize(("text", "words"), [
    (f"$schema: {SCHEMAS}/commandComponent.schema.json\ntype: command\nname: c\ncommand: echo\n",
     "1:1: this file is a command component (commandComponent.schema.json), not a job"),
    (f"$schema: {SCHEMAS}/pipelineJob.schema.json\ntype: pipeline\njobs: {{}}\n",
     "2:1: this is a pipeline job; a command job is expected here"),
    ("type: sweep\ntrial: {}\n", "1:1: this job type is not supported (yet): sweep"),
    ("type: automl\ntask: classification\n", "this job type is not supported (yet): automl"),
    ("type: spark\nentry: {file: x.py}\n", "this job type is not supported (yet): spark"),
    ("type: parallel\n", "this job type is not supported (yet): parallel"),
    (f"$schema: {SCHEMAS}/sparkJob.schema.json\nentry: {{}}\n",
     "this job type is not supported (yet): spark"),
])
def test_other_kinds_of_file_get_one_line(tmp_path: Path, text: str, words: str) -> None:
    job = _write(tmp_path, text)
    with pytest.raises(SpecError) as info:
        load_job_spec(job)
    assert words in info.value.render() and "unknown field" not in info.value.render()



def test_a_component_given_as_a_job_says_how_to_use_it_in_a_pipeline(tmp_path: Path) -> None:
    job = _write(tmp_path, f"$schema: {SCHEMAS}/commandComponent.schema.json\ntype: command\nname: c\n"
                           "command: echo\n")
    with pytest.raises(SpecError) as info:
        load_job_spec(job)
    said = info.value.render()
    assert "runs as a step of a pipeline job" in said and "not supported" not in said
    assert "runner component create --file" in said and "component: ./" in said

@pytest.mark.parametrize("endpoint", ["http://127.0.0.1:10000/devstoreaccount1", "https://a.blob.core.windows.net",
                                      "127.0.0.1:10000"])
def test_a_datastore_endpoint_must_be_a_storage_suffix(tmp_path: Path, endpoint: str) -> None:
    spec = _write(tmp_path, f"name: az\ntype: azure_blob\naccount_name: a\ncontainer_name: c\n"
                            f"endpoint: {endpoint}\n", name="ds.yml")
    with pytest.raises(SpecError) as info:
        load_datastore(spec)
    assert f"{spec}:5:" in info.value.render() and "endpoint must be a storage suffix" in info.value.message
    assert "account_url" in (info.value.hint or "")
    ok = _write(tmp_path, "name: az\ntype: azure_blob\naccount_name: a\ncontainer_name: c\n"
                          "endpoint: core.chinacloudapi.cn\n", name="ok.yml")
    assert load_datastore(ok).endpoint == "core.chinacloudapi.cn"  # type: ignore[union-attr]
