"""A pipeline step's ``direct`` output on a remote store gets credentials for its whole container, so its
start refuses it when that container holds another job's default output (``WriteGuard``: a recorded
job's output in a job folder). A sibling step's default output on the pipeline's ``default_datastore`` is
recorded only once that step runs: ``job validate`` and ``job create`` refuse the step before anything
runs, with the error its start gives, at the output's ``path:`` line, whichever step would run first.
Nothing here reaches storage; everything lives in this test's tmp_path."""

from __future__ import annotations

from pathlib import Path

import pytest
from jobs_support import cli

from runner.errors import SpecError
from runner.pipelines import submit
from runner.pipelines.orchestrate import Orchestrator
from runner.pipelines.submit import plan_pipeline, submit_pipeline
from runner.spec.pipeline import load_pipeline_spec
from runner.workspace.datastores import AzureDatastore, DatastoreStore
from runner.workspace.db import JobRecord, JobStatus, Workspace

PIPELINE = """\
type: pipeline
settings:
  default_datastore: azureml:az
jobs:
  w:
    command: echo hi > ${{outputs.o}}/x
    environment: {image: 'runner/busybox:latest'}
    outputs:
      o: {mode: upload}
  r:
    command: cat ${{inputs.i}}/x > ${{outputs.d}}/y
    environment: {image: 'runner/busybox:latest'}
    inputs:
      i: ${{parent.jobs.w.outputs.o}}
    outputs:
      d: {mode: direct, path: azureml://datastores/DS/paths/elsewhere/d}
"""
W_OUTPUT = "azureml://datastores/az/paths/azureml/p-w/o"
HOLDS = f"a direct output gets credentials for the whole container azure://acct/c, which holds output 'o' " \
        f"of job 'p-w' ({W_OUTPUT})"


@pytest.fixture
def ws(tmp_path: Path) -> Workspace:
    workspace = Workspace(tmp_path / "ws")
    store = DatastoreStore(workspace)
    for name, container in (("az", "c"), ("other", "c2")):
        store.save(AzureDatastore(name=name, type="azure_blob", account_name="acct",
                                  container_name=container))
    return workspace


def _pipeline(tmp_path: Path, text: str = PIPELINE, datastore: str = "az") -> Path:
    path = tmp_path / "spec" / "p.yml"
    path.parent.mkdir(exist_ok=True)
    path.write_text(text.replace("DS", datastore))
    return path


def _line(path: Path, start: str) -> int:
    return next(i for i, line in enumerate(path.read_text().splitlines(), 1) if line.startswith(start))


def _start_error(ws: Workspace, path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    """What step r's start says: the pipeline queued with no check of its steps (the checks refuse it
    now), step w completed with its output where it was planned, then r launched."""
    with monkeypatch.context() as patched:
        patched.setattr(submit, "_precheck_step", lambda *args, **kwargs: {"o": W_OUTPUT})
        patched.setattr(submit, "_refuse_direct_beside_steps", lambda *args: None)
        submit_pipeline(ws, load_pipeline_spec(path), name="p")
    ws.create_job(JobRecord(name="p-w", status=JobStatus.COMPLETED, spec={"parent_job_name": "p"},
                            outputs={"o": W_OUTPUT}))
    orch = Orchestrator(ws, "p")
    orch.steps["w"].status = JobStatus.COMPLETED.value
    orch._launch(orch.steps["r"])
    step = orch.steps["r"]
    assert step.status == JobStatus.FAILED.value and step.error is not None
    return step.error


def test_validate_refuses_it_at_the_outputs_line_and_nothing_runs(ws: Workspace, tmp_path: Path) -> None:
    path = _pipeline(tmp_path)
    result = cli(ws.root, "job", "validate", "--file", str(path), "--name", "p")
    assert result.returncode == 2, (result.stdout, result.stderr)
    first = result.stderr.splitlines()[0]
    assert first.startswith(f"error: {path}:{_line(path, '      d:')}:"), result.stderr
    assert ": jobs.r.outputs.d.path: step 'r': output 'd' cannot be written there: " in first, first
    assert HOLDS in first, first
    assert "hint: use mode: upload or rw_mount" in result.stderr
    assert "Traceback" not in result.stderr and result.stdout == ""
    assert not ws.job_exists("p") and not ws.job_exists("p-w") and not ws.job_exists("p-r")


def test_the_refusal_is_the_one_the_step_start_gives(ws: Workspace, tmp_path: Path,
                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    path = _pipeline(tmp_path)
    with pytest.raises(SpecError) as refused:
        plan_pipeline(ws, load_pipeline_spec(path), name="p")
    err = refused.value
    assert err.field == "jobs.r.outputs.d.path" and err.where is not None
    assert err.where.line == _line(path, "      d:") and err.message.startswith("step 'r': ")
    at_start = _start_error(ws, path, monkeypatch)
    assert at_start == err.render().replace("step 'r': ", "", 1)  # where, what, the hint: all of it


def test_create_refuses_it_before_anything_is_recorded(ws: Workspace, tmp_path: Path) -> None:
    with pytest.raises(SpecError, match="which holds output 'o' of job 'p-w'"):
        submit_pipeline(ws, load_pipeline_spec(_pipeline(tmp_path)), name="p")
    assert not ws.job_exists("p") and not ws.job_exists("p-w") and not ws.job_exists("p-r")


def test_a_later_independent_steps_output_counts_too(ws: Workspace, tmp_path: Path) -> None:
    """Steps that read nothing of each other run at once, in either order: the step with the direct output
    is first in the file here (its start would find no record of the other yet), and is refused all the
    same (the other's default output goes to that container while the direct one can write anywhere)."""
    text = PIPELINE.replace("      i: ${{parent.jobs.w.outputs.o}}\n", "      i: {path: ./data}\n")
    w, r = text.split("  w:\n")[1].split("  r:\n")
    text = text.split("  w:\n")[0] + "  r:\n" + r + "  w:\n" + w
    (tmp_path / "spec" / "data").mkdir(parents=True)
    path = _pipeline(tmp_path, text)
    with pytest.raises(SpecError) as refused:
        plan_pipeline(ws, load_pipeline_spec(path), name="p")
    assert refused.value.field == "jobs.r.outputs.d.path" and HOLDS in refused.value.message


def test_the_pipelines_own_output_counts(ws: Workspace, tmp_path: Path) -> None:
    """The pipeline's record holds its outputs (a step's place) from its submission: named as its start
    names it, the pipeline's job before the step's."""
    text = PIPELINE.replace("type: pipeline\n", "type: pipeline\noutputs:\n  final: {type: uri_folder}\n")
    text = text.replace("      o: {mode: upload}\n", "      o: ${{parent.outputs.final}}\n")
    with pytest.raises(SpecError) as refused:
        plan_pipeline(ws, load_pipeline_spec(_pipeline(tmp_path, text)), name="p")
    assert "which holds output 'final' of job 'p' (" in refused.value.message


def test_a_direct_output_on_another_container_validates(ws: Workspace, tmp_path: Path) -> None:
    _, locations = plan_pipeline(ws, load_pipeline_spec(_pipeline(tmp_path, datastore="other")), name="p")
    assert locations == {"w": {"o": W_OUTPUT}, "r": {"d": "azureml://datastores/other/paths/elsewhere/d"}}
