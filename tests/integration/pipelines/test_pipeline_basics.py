"""The Azure ML examples' basic pipelines (cli/jobs/pipelines-with-components/basics), run unchanged with
only environment mappings (sklearn-1.5, and for 6a/6b the TensorFlow and PyTorch environments, to the
provisioned runner/python:3.11; ``image: python`` / ``docker.io/python`` are the provisioned python:latest).

Run for real: 1a, 1b (after `runner component create` of its three components, as its README says), 2a,
2b, 3a, 3b, 4a, 4d (after `runner data create` of its data asset, as its README says), 5a, 5b, 6a, 6b.
4c and 6c read https URLs: they validate (a remote input is read when the job runs, as in Azure) and
are not run (this machine reaches no other address). 4b stops before anything runs: it writes into the
default datastore's job-output area (``azureml/``, refused by the isolation rules). 5c builds from an
image that cannot be pulled: it validates (an image is checked when its step starts, as a job's is), and
its step cannot start, saying so (exit 4, as for a job).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from jobs_support import cli, datastore_file
from repo_paths import EXAMPLES

from runner.pipelines.graph import build_graph
from runner.spec.pipeline import load_pipeline_spec
from runner.workspace.db import Workspace

BASICS = EXAMPLES / "cli" / "jobs" / "pipelines-with-components" / "basics"
RUN = ["1a", "2a", "2b", "3a", "3b", "4a", "5a", "5b", "6a", "6b"]
STOPS = {  # what each of the others stops at, before anything runs (any one of these)
    # reads the whole job-output folder azureml/ (absent in a new workspace) and writes into it (refused)
    "4b": ("paths/azureml' does not exist", "cannot be written there"),
}
READ_WHEN_RUN = {  # remote inputs: checked for form at validate, read when the step runs
    "4c": "https://dprepdata.blob.core.windows.net/demo/Titanic.csv",
    "6c": "https://azuremlexamples.blob.core.windows.net/datasets/iris.csv",
}

pytestmark = [pytest.mark.examples]


def folder(prefix: str) -> Path:
    return next(BASICS.glob(f"{prefix}_*")).resolve()


@pytest.fixture
def ws(workspace_dir: Path, docker_client: Any) -> Path:
    for env in ("sklearn-1.5", "tensorflow-2.16-cuda12", "acpt-pytorch-2.8-cuda12.6"):
        cli(workspace_dir, "environment", "create", "--name", env, "--image", "runner/python:3.11",
            check=True)
    return workspace_dir


def steps(ws: Path, name: str) -> dict[str, Any]:
    record = json.loads(cli(ws, "job", "show", "--name", name, "-o", "json", check=True).stdout)
    return record  # type: ignore[no-any-return]


def run_example(ws: Path, prefix: str) -> tuple[str, dict[str, Any]]:
    name = f"b{prefix}"
    result = cli(ws, "job", "create", "--file", str(folder(prefix) / "pipeline.yml"), "--name", name,
                 "--stream", timeout=280)
    assert result.returncode == 0, f"{prefix}:\n{result.stdout}\n{result.stderr}"
    record = steps(ws, name)
    assert record["status"] == "Completed"
    assert all(s["status"] == "Completed" for s in record["extra"]["steps"].values())
    return result.stdout, record


def test_every_basics_pipeline_has_a_valid_graph(tmp_path: Path) -> None:
    """Structure, components, bindings and each step as a command job, for all 17 (1b's components
    registered first)."""
    ws = Workspace(tmp_path / "ws")
    files = sorted(BASICS.rglob("pipeline*.yml"))
    assert len(files) == 17
    for component in ("train", "score", "eval"):
        cli(ws.root, "component", "create", "--file", str(folder("1b") / f"{component}.yml"), check=True)
    for path in files:
        graph = build_graph(load_pipeline_spec(path), ws, pipeline_name="p")
        assert graph.steps, path


def test_1a_train_score_eval(ws: Path) -> None:
    out, record = run_example(ws, "1a")
    assert "[train_job] Max epocs: 20" in out and "[train_job] Learning rate: 1.8" in out
    assert "[score_job] Model:  This is a dummy model with id:" in out
    report = datastore_file(ws, "azureml/b1a-evaluate_job/eval_output/eval_result.txt")
    assert report.read_text().startswith("Eval done at")
    report_uri = record["outputs"]["pipeline_job_evaluation_report"]
    assert report_uri.endswith("azureml/b1a-evaluate_job/eval_output")


def test_1b_registered_components(ws: Path) -> None:
    for component in ("train", "score", "eval"):
        cli(ws, "component", "create", "--file", str(folder("1b") / f"{component}.yml"), check=True)
    shown = json.loads(cli(ws, "component", "show", "--name", "my_train", "-o", "json", check=True).stdout)
    assert shown["id"] == "azureml:my_train:1" and Path(shown["code"]).is_relative_to(ws)
    out, record = run_example(ws, "1b")
    assert "[evaluate_job] hello evaluation world..." in out
    assert set(record["outputs"]) >= {"pipeline_job_trained_model", "pipeline_job_scored_data"}


@pytest.mark.parametrize(("prefix", "printed"), [
    ("2a", ["[hello_python_world_job] Hello Python World"]),
    ("3a", [f"[component_{c}] I'm component {c.upper()} :-)" for c in "abc"]),
    ("5a", ["[hello_python_world_job] Hello Python World"]),
    ("5b", ["[hello_python_world_job] Hello Python World"]),
    # the distribution's variables, for the one process runner starts (runner.plan.distribution_env)
    ("6a", ['[tf_job] {"cluster": {"worker": ["127.0.0.1:', "asks for 2 worker(s)"]),
    ("6b", ["[pytorch_job]  RANK: 0 \\n LOCAL_RANK: 0 \\n NODE_RANK: 0 \\n MASTER_ADDR: 127.0.0.1",
            "runner starts one process on this machine"]),
])
def test_hello_world_pipelines(ws: Path, prefix: str, printed: list[str]) -> None:
    out, record = run_example(ws, prefix)
    for text in printed:
        assert text in out, out
    if prefix == "3a":  # three independent steps: all submitted before the first one ended
        submitted = out.index("step component_c: submitted as job ")
        assert submitted < out.index("step component_a: Completed"), out


@pytest.mark.parametrize("prefix", ["2b", "4a"])
def test_data_in_data_out(ws: Path, prefix: str) -> None:
    out, record = run_example(ws, prefix)
    assert "reading file: sample.csv ..." in out
    written = datastore_file(ws, record["outputs"]["pipeline_sample_output_data"].split("/paths/", 1)[1])
    assert [p.name.startswith("file-") for p in written.iterdir()] == [True]
    if prefix == "4a":
        assert "sample_input_string: Hello_Pipeline_World" in out


@pytest.mark.fuse
def test_3b_rw_mount_into_ro_mount(ws: Path, fuse_available: bool) -> None:
    out, record = run_example(ws, "3b")
    # each step read the file the previous one wrote through its rw_mount output
    written_by_a = next(line for line in out.splitlines() if line.startswith("[component_a] Writing file:"))
    assert f"[component_b] ['{Path(written_by_a.split()[-1]).name}']" in out
    final = datastore_file(ws, record["outputs"]["final_pipeline_output"].split("/paths/", 1)[1])
    assert len(list(final.iterdir())) == 1


@pytest.mark.parametrize("prefix", sorted(STOPS))
def test_the_others_stop_before_running(ws: Path, prefix: str) -> None:
    result = cli(ws, "job", "validate", "--file", str(folder(prefix) / "pipeline.yml"))
    assert result.returncode != 0 and any(reason in result.stderr for reason in STOPS[prefix]), result.stderr
    assert result.stderr.startswith(f"error: {folder(prefix)}/pipeline.yml:") and "step '" in result.stderr
    assert json.loads(cli(ws, "job", "list", "-o", "json", check=True).stdout) == []


def test_5c_validates_and_fails_on_its_image(ws: Path) -> None:
    validated = cli(ws, "job", "validate", "--file", str(folder("5c") / "pipeline.yml"))
    assert validated.returncode == 0, validated.stderr
    assert "conda_file is ignored" not in validated.stdout  # an image is built from it
    result = cli(ws, "job", "create", "--file", str(folder("5c") / "pipeline.yml"), "--name", "b5c",
                 "--stream")
    # its step could not start (the image is checked when a step starts, as a job's is): exit 4, as the
    # CI guide's table says for a job whose image is missing
    assert result.returncode == 4 and "is not available locally" in result.stdout  # the summary


@pytest.mark.parametrize("prefix", sorted(READ_WHEN_RUN))
def test_remote_inputs_validate_and_are_read_when_the_step_runs(ws: Path, prefix: str) -> None:
    result = cli(ws, "job", "validate", "--file", str(folder(prefix) / "pipeline.yml"), "-o", "json")
    assert result.returncode == 0, result.stderr
    assert READ_WHEN_RUN[prefix] in result.stdout
    assert json.loads(cli(ws, "job", "list", "-o", "json", check=True).stdout) == []


@pytest.mark.fuse
def test_4d_reads_a_registered_data_asset(ws: Path, fuse_available: bool) -> None:
    cli(ws, "data", "create", "--file", str(folder("4d") / "data.yml"), check=True)
    out, record = run_example(ws, "4d")
    for step in ("python_hello_step", "python_world_step"):
        assert f"[{step}] ['sample.csv']" in out  # the asset's folder, through ro_mount
    assert "reuse not checked" not in out  # the data version is the input's identity
