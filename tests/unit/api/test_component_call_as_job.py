"""A component called outside a ``@pipeline`` and submitted on its own,
``ml_client.jobs.create_or_update(train(data=...))``, runs as a command job, as azure.ai.ml submits a
Command node: the component's command, code and environment, its inputs' declarations with the values
given (else their defaults), its outputs with the settings given, and the node's settings. A pipeline
component's call (azure.ai.ml submits it as a pipeline job) does not arise here: loading a pipeline
component is refused with one error. Every file is in tmp_path; the jobs run with the process backend."""

from __future__ import annotations

from pathlib import Path

import pytest

from runner import Input, MLClient, Output, command, dsl, load_component
from runner.errors import SpecError
from runner.jobs.operations import JobOperations

ENV = "runner/busybox:latest"
COMPONENT = """\
$schema: https://azuremlschemas.azureedge.net/latest/commandComponent.schema.json
name: copy_it
version: 1
type: command
inputs:
  data: {type: uri_file}
  n: {type: integer, default: 3}
outputs:
  out: {type: uri_folder}
code: ./src
environment: {image: runner/busybox:latest}
command: sh run.sh ${{inputs.data}} ${{inputs.n}} ${{outputs.out}}
"""


@pytest.fixture
def folder(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The component in comp/ (its code in comp/src), the data in the current folder (tmp_path)."""
    (tmp_path / "comp" / "src").mkdir(parents=True)
    (tmp_path / "comp" / "comp.yml").write_text(COMPONENT)
    script = 'cat "$1" > "$3/copy.csv"; echo "n=$2" >> "$3/copy.csv"\n'
    (tmp_path / "comp" / "src" / "run.sh").write_text(script)
    (tmp_path / "in.csv").write_text("a,b\n")
    monkeypatch.chdir(tmp_path)
    return tmp_path


def _copied(ml_client: MLClient, name: str, tmp_path: Path) -> str:
    ml_client.jobs.download(name, output_name="out", download_path=tmp_path / "got")
    return (tmp_path / "got" / "named-outputs" / "out" / "copy.csv").read_text()


def test_a_loaded_components_call_runs_as_a_command_job(folder: Path, workspace_dir: Path) -> None:
    ml_client = MLClient(workspace_dir=workspace_dir)
    node = load_component(source="comp/comp.yml")(data=Input(type="uri_file", path="in.csv"), n=5)
    node.compute = "local-process"
    node.display_name = "copy once"
    job = ml_client.jobs.create_or_update(node, stream=True)
    assert (job.status, job.type, job.display_name) == ("Completed", "command", "copy once")
    assert job.inputs.data.path == str(folder / "in.csv") and job.inputs.n == 5
    assert _copied(ml_client, job.name, folder) == "a,b\nn=5\n"


def test_a_declared_default_is_the_value_when_none_is_given(folder: Path, workspace_dir: Path) -> None:
    ml_client = MLClient(workspace_dir=workspace_dir)
    node = load_component(source="comp/comp.yml")(data=Input(type="uri_file", path="in.csv"))
    node.compute, node.name = "local-process", "copy-default"
    job = ml_client.jobs.create_or_update(node, stream=True)
    assert job.name == "copy-default" and job.status == "Completed"
    assert _copied(ml_client, "copy-default", folder) == "a,b\nn=3\n"


def test_a_built_jobs_component_call_runs_as_a_command_job(folder: Path, workspace_dir: Path) -> None:
    built = command(command="echo ${{inputs.word}} > ${{outputs.out}}/copy.csv", environment=ENV,
                    inputs={"word": Input(type="string")}, outputs={"out": Output(type="uri_folder")},
                    compute="local-process")
    ml_client = MLClient(workspace_dir=workspace_dir)
    job = ml_client.jobs.create_or_update(built.component(word="hello"), compute="local-process",
                                          stream=True)
    assert job.status == "Completed"
    assert _copied(ml_client, job.name, folder) == "hello\n"


def test_a_required_input_not_given_is_one_error_naming_the_call(folder: Path, workspace_dir: Path,
                                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(JobOperations, "start_worker", lambda self, name, **_: 0)  # nothing runs
    ml_client = MLClient(workspace_dir=workspace_dir)
    with pytest.raises(SpecError, match="input 'data'") as raised:
        ml_client.jobs.create_or_update(load_component(source="comp/comp.yml")(n=2))
    assert raised.value.field == "inputs.data"
    assert "copy_it(data=Input(path=...))" in (raised.value.hint or "")
    assert ml_client.jobs.list() == []


def test_another_steps_output_as_input_is_refused_outside_a_pipeline(folder: Path,
                                                                     workspace_dir: Path) -> None:
    component = load_component(source="comp/comp.yml")
    first = component(data=Input(type="uri_file", path="in.csv"))
    with pytest.raises(SpecError, match="bind only inside a @pipeline") as raised:
        MLClient(workspace_dir=workspace_dir).jobs.create_or_update(component(data=first.outputs.out))
    assert raised.value.field == "inputs.data"


def test_a_pipeline_function_call_is_still_a_pipeline_job(folder: Path) -> None:
    component = load_component(source="comp/comp.yml")

    @dsl.pipeline()
    def one_step():  # type: ignore[no-untyped-def]
        component(data=Input(type="uri_file", path="in.csv"))

    assert one_step().pipeline_spec is not None


def test_a_pipeline_component_is_refused_when_loaded(folder: Path) -> None:
    (folder / "pc.yml").write_text("type: pipeline\nname: pc\njobs: {}\n")
    refused = r"a pipeline component \(type: pipeline\) is not supported"
    with pytest.raises(SpecError, match=refused) as raised:
        load_component(source="pc.yml")
    assert raised.value.where is not None and raised.value.where.line == 1 and "@dsl.pipeline" in (
        raised.value.hint or "")
