"""A pipeline's life through the real CLI, with steps run as host processes (``compute: local-process``, so
no Docker is needed and each step takes ~1 s): outputs wired into inputs, reuse of unchanged steps and
rerun of changed ones, a failing middle step, a cancel mid-way, bad bindings refused before anything
runs, ``job stream`` / ``show`` / ``list`` of a pipeline, and the Python API."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest
from jobs_support import cli, show, wait_for_status, write_job

CHAIN = """
type: pipeline
display_name: chain
inputs:
  word: hello
outputs:
  final:
    mode: upload
settings:
  default_compute: local-process
jobs:
  make:
    type: command
    command: echo "${{inputs.word}}" > ${{outputs.out}}/word.txt && echo made
    environment: {image: unused:1}
    inputs:
      word: ${{parent.inputs.word}}
    outputs:
      out: {mode: upload}
  shout:
    type: command
    command: tr a-z A-Z < ${{inputs.src}}/word.txt | tee ${{outputs.out}}/loud.txt
    environment: {image: unused:1}
    inputs:
      src:
        path: ${{parent.jobs.make.outputs.out}}
        mode: download
    outputs:
      out: ${{parent.outputs.final}}
"""


def steps(ws: Path, name: str) -> dict[str, dict[str, Any]]:
    record = show(ws, name)
    assert record["spec"]["type"] == "pipeline"
    return record["extra"]["steps"]  # type: ignore[no-any-return]


def run(ws: Path, yml: Path, name: str, *args: str, code: int = 0) -> subprocess.CompletedProcess[str]:
    result = cli(ws, "job", "create", "--file", str(yml), "--name", name, "--stream", *args, timeout=240)
    assert result.returncode == code, result.stdout + result.stderr
    return result


def datastore(ws: Path, job: str, output: str) -> Path:
    return ws / "datastores" / "workspaceblobstore" / "azureml" / job / output


def test_outputs_flow_into_inputs(workspace_dir: Path, tmp_path: Path) -> None:
    ws = workspace_dir
    yml = write_job(tmp_path, CHAIN, "pipeline.yml")
    graph = json.loads(cli(ws, "job", "validate", "--file", str(yml), "--name", "p1", "-o", "json",
                           check=True).stdout)
    assert [s["name"] for s in graph["steps"]] == ["make", "shout"]
    assert graph["edges"] == [{"from": "make.out", "to": "shout.src"}]
    assert graph["steps"][1]["inputs"][0]["value"] == "azureml://jobs/p1-make/outputs/out"
    result = run(ws, yml, "p1")
    assert "[shout] HELLO" in result.stdout and "[make] made" in result.stdout
    assert "Status: Completed" in result.stdout
    assert (datastore(ws, "p1-shout", "out") / "loud.txt").read_text() == "HELLO\n"
    record = show(ws, "p1")
    assert record["status"] == "Completed"
    assert record["outputs"]["final"] == "azureml://datastores/workspaceblobstore/paths/azureml/p1-shout/out"
    child = show(ws, "p1-shout")
    assert child["spec"]["parent_job_name"] == "p1" and child["display_name"] == "shout"
    assert child["inputs"]["src"] == "azureml://datastores/workspaceblobstore/paths/azureml/p1-make/out"
    assert {s: v["status"] for s, v in steps(ws, "p1").items()} == {"make": "Completed", "shout": "Completed"}
    table = cli(ws, "job", "show", "--name", "p1", check=True).stdout
    assert "step.make" in table and "step.shout" in table
    listed = cli(ws, "job", "list", "-o", "json", check=True).stdout
    assert [r["name"] for r in json.loads(listed)] == ["p1"]  # the steps are folded under it
    children = json.loads(cli(ws, "job", "list", "--parent-job-name", "p1", "-o", "json", check=True).stdout)
    assert [r["name"] for r in children] == ["p1-make", "p1-shout"]
    table = cli(ws, "job", "list", check=True).stdout
    assert table.index("p1-make") > table.index("p1 ") and "└" in table
    streamed = cli(ws, "job", "stream", "--name", "p1")
    assert streamed.returncode == 0 and "[shout] HELLO" in streamed.stdout


def test_reuse_skips_unchanged_and_reruns_changed(workspace_dir: Path, tmp_path: Path) -> None:
    ws = workspace_dir
    yml = write_job(tmp_path, CHAIN, "pipeline.yml")
    run(ws, yml, "r1")
    validated = cli(ws, "job", "validate", "--file", str(yml), "--name", "r2", check=True).stdout
    assert validated.count("would reuse job r1-") == 2
    result = run(ws, yml, "r2")
    assert "[make]" not in result.stdout and "[shout]" not in result.stdout  # nothing ran
    state = steps(ws, "r2")
    assert state["make"]["reused_from"] == "r1-make" and state["shout"]["reused_from"] == "r1-shout"
    assert show(ws, "r2-shout")["extra"]["reused_from"] == "r1-shout"
    assert show(ws, "r2")["outputs"]["final"] == show(ws, "r1")["outputs"]["final"]
    # the second step changed: the first is reused, the second runs
    write_job(tmp_path, CHAIN.replace("word.txt | tee", "word.txt | rev | tee"), "pipeline.yml")
    result = run(ws, yml, "r3")
    assert "[shout] OLLEH" in result.stdout and "[make]" not in result.stdout
    state = steps(ws, "r3")
    assert state["make"]["reused_from"] == "r1-make" and "reused_from" not in state["shout"]
    # another input value: both run (the second reads new content)
    result = run(ws, yml, "r4", "--set", "inputs.word=bye")
    assert "[make] made" in result.stdout and "[shout] EYB" in result.stdout
    # force_rerun: everything runs although nothing changed
    result = run(ws, yml, "r5", "--set", "inputs.word=bye", "--set", "settings.force_rerun=true")
    assert "[make] made" in result.stdout and "not reused: settings.force_rerun is set" in result.stdout


FAILING = """
type: pipeline
settings:
  default_compute: local-process
jobs:
  first:
    type: command
    command: echo one > ${{outputs.out}}/one.txt
    environment: {image: unused:1}
    outputs:
      out: {mode: upload}
  middle:
    type: command
    command: cat ${{inputs.src}}/one.txt > ${{outputs.out}}/partial.txt && echo failing && exit 3
    environment: {image: unused:1}
    inputs:
      src: {path: "${{parent.jobs.first.outputs.out}}", mode: download}
    outputs:
      out: {mode: upload}
  last:
    type: command
    command: cat ${{inputs.src}}/partial.txt
    environment: {image: unused:1}
    inputs:
      src: {path: "${{parent.jobs.middle.outputs.out}}", mode: download}
  beside:
    type: command
    command: cat ${{inputs.src}}/one.txt
    environment: {image: unused:1}
    inputs:
      src: {path: "${{parent.jobs.first.outputs.out}}", mode: download}
"""


def test_a_failing_middle_step(workspace_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    ws = workspace_dir
    monkeypatch.setenv("RUNNER_PIPELINE_MAX_PARALLEL", "1")  # middle starts before beside
    yml = write_job(tmp_path, FAILING, "pipeline.yml")
    result = run(ws, yml, "f1", code=1)
    assert "[middle] failing" in result.stdout and "Status: Failed" in result.stdout
    record = show(ws, "f1")
    assert record["status"] == "Failed"
    assert record["error"].startswith("step middle failed: the command exited with code 3")
    state = {s: v["status"] for s, v in steps(ws, "f1").items()}
    assert state == {"first": "Completed", "middle": "Failed", "last": "Skipped", "beside": "Skipped"}
    assert "continue_on_step_failure is off" in steps(ws, "f1")["beside"]["note"]
    assert cli(ws, "job", "show", "--name", "f1-last").returncode != 0  # a skipped step has no job
    # nothing written before the failure is lost: the first step's output, the failed step's partial output
    assert (datastore(ws, "f1-first", "out") / "one.txt").read_text() == "one\n"
    assert (datastore(ws, "f1-middle", "out") / "partial.txt").read_text() == "one\n"
    # with continue_on_step_failure the independent step runs; the dependent one is still skipped
    result = run(ws, yml, "f2", "--set", "settings.continue_on_step_failure=true", code=1)
    state = {s: v["status"] for s, v in steps(ws, "f2").items()}
    assert state == {"first": "Completed", "middle": "Failed", "last": "Skipped", "beside": "Completed"}
    assert "[beside] one" in result.stdout
    assert "skipped: step middle failed" in steps(ws, "f2")["last"]["note"]


SLOW = """
type: pipeline
settings:
  default_compute: local-process
jobs:
  quick:
    type: command
    command: echo quick > ${{outputs.out}}/q.txt && echo quick done
    environment: {image: unused:1}
    outputs:
      out: {mode: upload}
  slow:
    type: command
    command: echo started && sleep 120 && echo late > ${{outputs.out}}/s.txt
    environment: {image: unused:1}
    inputs:
      src: {path: "${{parent.jobs.quick.outputs.out}}", mode: download}
    outputs:
      out: {mode: upload}
  after:
    type: command
    command: echo never
    environment: {image: unused:1}
    inputs:
      src: {path: "${{parent.jobs.slow.outputs.out}}", mode: download}
"""


def test_cancel_mid_way(workspace_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    ws = workspace_dir
    monkeypatch.setenv("RUNNER_CANCEL_GRACE_S", "2")
    yml = write_job(tmp_path, SLOW, "pipeline.yml")
    created = cli(ws, "job", "create", "--file", str(yml), "--name", "c1", check=True)
    assert created.stdout.strip() == "c1"
    deadline = time.monotonic() + 120
    while steps(ws, "c1")["slow"]["status"] != "Running":
        assert time.monotonic() < deadline, steps(ws, "c1")
        time.sleep(0.3)
    canceled = cli(ws, "job", "cancel", "--name", "c1")
    assert canceled.returncode == 0, canceled.stderr
    assert canceled.stdout.strip() == "c1: Canceled"
    record = show(ws, "c1")
    assert record["status"] == "Canceled"
    state = {s: v["status"] for s, v in steps(ws, "c1").items()}
    assert state == {"quick": "Completed", "slow": "Canceled", "after": "Skipped"}
    assert show(ws, "c1-slow")["status"] == "Canceled"
    assert (datastore(ws, "c1-quick", "out") / "q.txt").read_text() == "quick\n"
    streamed = cli(ws, "job", "stream", "--name", "c1")
    assert streamed.returncode == 3 and "[slow] started" in streamed.stdout
    assert "cancel requested" in streamed.stdout


def test_bad_bindings_run_nothing(workspace_dir: Path, tmp_path: Path) -> None:
    ws = workspace_dir
    cases = {
        "an unknown step": ("parent.jobs.make.outputs.out", "parent.jobs.maker.outputs.out",
                            "reads step 'maker', which is not in this pipeline (did you mean 'make'?)"),
        "an unknown output": ("parent.jobs.make.outputs.out", "parent.jobs.make.outputs.result",
                              "reads output 'result' of step 'make', which has no such output"),
        "a cycle": ("      word: ${{parent.inputs.word}}", "      word: ${{parent.jobs.shout.outputs.out}}",
                    "the steps' bindings make a cycle: make <- shout <- make"),
    }
    for case, (old, new, message) in cases.items():
        text = CHAIN.replace(old, new)
        yml = write_job(tmp_path / case.replace(" ", "_"), text, "pipeline.yml")
        line = next(i for i, row in enumerate(yml.read_text().splitlines(), 1) if new.strip() in row)
        for verb in ("validate", "create"):
            result = cli(ws, "job", verb, "--file", str(yml))
            assert result.returncode == 2, (case, result.stderr)
            assert result.stderr.startswith(f"error: {yml}:{line}:"), (case, result.stderr)
            assert message in result.stderr and result.stderr.count("error:") == 1, case
            assert "Traceback" not in result.stderr
    assert json.loads(cli(ws, "job", "list", "-o", "json", check=True).stdout) == []


def test_python_api(workspace_dir: Path, tmp_path: Path) -> None:
    component = write_job(tmp_path, """
        $schema: https://azuremlschemas.azureedge.net/latest/commandComponent.schema.json
        name: upper
        version: 1
        inputs:
          text: {type: string}
        outputs:
          out: {type: uri_folder, mode: upload}
        environment: {image: unused:1}
        command: echo ${{inputs.text}} | tr a-z A-Z > ${{outputs.out}}/t.txt
        """, "upper.yml")
    script = f"""
import sys
from runner import MLClient, load_component
from runner.dsl import pipeline
upper = load_component(source={str(component)!r})

@pipeline(default_compute="local-process")
def twice(text):
    one = upper(text=text)
    two = upper(text="second")
    return {{"first": one.outputs.out}}

ml = MLClient(workspace_dir={str(workspace_dir)!r})
ml.components.create_or_update(upper)
job = ml.jobs.create_or_update(twice(text="first"), experiment_name="api")
print(job.name)
"""
    name = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=True,
                          timeout=120).stdout.strip().splitlines()[-1]
    record = wait_for_status(workspace_dir, name, {"Completed", "Failed", "Canceled"})
    assert record["status"] == "Completed", record["error"]
    assert record["experiment_name"] == "api"
    assert sorted(steps(workspace_dir, name)) == ["one", "two"]
    folder = Path(record["outputs"]["first"].replace(
        "azureml://datastores/workspaceblobstore/paths/", f"{workspace_dir}/datastores/workspaceblobstore/"))
    assert (folder / "t.txt").read_text() == "FIRST\n"
    listed = json.loads(cli(workspace_dir, "component", "list", "-o", "json", check=True).stdout)
    assert [(c["name"], c["version"]) for c in listed] == [("upper", "1")]
