"""A component's call submitted on its own runs as a command job in a container (the docker backend), as
azure.ai.ml submits a Command node: a loaded component (its code folder relative to its YAML) and the same
component registered (its stored code snapshot), each with an input file given in the call, the output
downloaded afterwards. Every file is in tmp_path."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from runner import Input, MLClient, load_component

pytestmark = pytest.mark.docker

COMPONENT = """\
name: count_lines
version: 1
type: command
inputs:
  data: {type: uri_file}
  label: {type: string, default: lines}
outputs:
  out: {type: uri_folder}
code: ./src
environment: {image: runner/busybox:latest}
command: sh count.sh ${{inputs.data}} ${{inputs.label}} ${{outputs.out}}
"""


def _count(ml_client: MLClient, name: str, where: Path) -> str:
    ml_client.jobs.download(name, output_name="out", download_path=where)
    return (where / "named-outputs" / "out" / "count.txt").read_text()


def test_a_component_call_runs_as_a_job_in_a_container(workspace_dir: Path, tmp_path: Path,
                                                       docker_client: Any,
                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "comp" / "src").mkdir(parents=True)
    (tmp_path / "comp" / "count.yml").write_text(COMPONENT)
    (tmp_path / "comp" / "src" / "count.sh").write_text('echo "$2=$(wc -l < "$1")" > "$3/count.txt"\n')
    (tmp_path / "three.txt").write_text("a\nb\nc\n")
    monkeypatch.chdir(tmp_path)
    ml_client = MLClient(workspace_dir=workspace_dir)
    loaded = load_component(source="comp/count.yml")

    job = ml_client.jobs.create_or_update(loaded(data=Input(type="uri_file", path="three.txt")),
                                          stream=True, echo=lambda _: None)
    assert (job.status, job.type) == ("Completed", "command")
    assert _count(ml_client, job.name, tmp_path / "first") == "lines=3\n"

    registered = ml_client.components.create_or_update(loaded)
    node = registered(data=Input(type="uri_file", path="three.txt"), label="rows")
    node.name = "counted-registered"
    job = ml_client.jobs.create_or_update(node, stream=True, echo=lambda _: None)
    assert job.status == "Completed" and job.name == "counted-registered"
    assert _count(ml_client, job.name, tmp_path / "second") == "rows=3\n"
