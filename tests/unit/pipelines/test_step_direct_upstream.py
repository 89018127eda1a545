"""A pipeline step's ``direct`` input bound to an upstream step's output is refused by ``job validate`` and
``job create`` before anything runs, with the error the step's start gives: where the upstream output
goes is known (its datastore), so the same checks run on it as on a first step's input (credentials
that must be narrowed to reading, a URL of this machine's file a container cannot open). A step the
start would accept is accepted. Everything lives in this test's tmp_path."""

from __future__ import annotations

from pathlib import Path

import pytest
from jobs_support import cli

from runner.errors import SpecError
from runner.pipelines import submit
from runner.pipelines.orchestrate import Orchestrator
from runner.pipelines.submit import plan_pipeline, submit_pipeline
from runner.spec.pipeline import load_pipeline_spec
from runner.workspace.datastores import FsspecDatastore
from runner.workspace.db import JobRecord, JobStatus, Workspace
from runner.workspace.resolve import Resolver

PIPELINE = """\
type: pipeline
jobs:
  w:
    command: echo hi > ${{outputs.o}}/x
    environment: {image: 'unused:1'}
    outputs:
      o: {mode: upload, path: azureml://datastores/DS/paths/out/}
  r:
    command: ls ${{inputs.i}}
    environment: {image: 'unused:1'}
    inputs:
      i: {path: '${{parent.jobs.w.outputs.o}}', mode: direct}
"""
# simplecache::file:// (no storage options): a URL of this machine's file, which a container cannot open
# (and a job here could write through); simplecache:// with target_protocol: file: a cache over this
# machine's folder, whose storage options are no credentials to narrow
STORES = {"chained": ("simplecache::file://{root}", {}),
          "target": ("simplecache://{root}", {"target_protocol": "file"})}
REASONS = {"chained": "the job's container cannot open it",
           "target": "caches a folder on this machine"}


def _setup(tmp_path: Path, store: str, text: str = PIPELINE) -> tuple[Workspace, Path]:
    ws = Workspace(tmp_path / "ws")
    ws.secrets_dir.mkdir(parents=True, exist_ok=True)
    root = tmp_path / "cached"
    (root / "out").mkdir(parents=True)
    url, options = STORES[store]
    datastore = FsspecDatastore(name="ds", url=url.format(root=root), storage_options=options)
    Resolver(ws).datastores.save(datastore)
    path = tmp_path / "spec" / "p.yml"
    path.parent.mkdir()
    path.write_text(text.replace("DS", "ds"))
    return ws, path


def _line(path: Path, start: str) -> int:
    return next(i for i, line in enumerate(path.read_text().splitlines(), 1) if line.startswith(start))


def _start_error(ws: Workspace, path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    """What the step's start says: the pipeline queued with no check of its steps (the checks refuse it
    now), the upstream step completed with its output where it was planned, then the step launched."""
    with monkeypatch.context() as patched:
        patched.setattr(submit, "_precheck_step", lambda *args, **kwargs: {})
        submit_pipeline(ws, load_pipeline_spec(path), name="p")
    ws.create_job(JobRecord(name="p-w", status=JobStatus.COMPLETED, spec={"parent_job_name": "p"},
                            outputs={"o": "azureml://datastores/ds/paths/out"}))
    orch = Orchestrator(ws, "p")
    orch.steps["w"].status = JobStatus.COMPLETED.value
    orch._launch(orch.steps["r"])
    step = orch.steps["r"]
    assert step.status == JobStatus.FAILED.value and step.error is not None
    return step.error


@pytest.mark.parametrize("store", sorted(STORES))
def test_validate_refuses_a_direct_input_from_an_upstream_step_at_its_line(tmp_path: Path,
                                                                           store: str) -> None:
    ws, path = _setup(tmp_path, store)
    result = cli(ws.root, "job", "validate", "--file", str(path))
    assert result.returncode == 2, (result.stdout, result.stderr)
    first = result.stderr.splitlines()[0]
    assert first.startswith(f"error: {path}:{_line(path, '      i:')}:"), result.stderr
    assert ": jobs.r.inputs.i.path: step 'r': " in first and REASONS[store] in first
    assert "cannot be narrowed" not in result.stderr
    assert "hint: use mode: " in result.stderr and "mode: download" in result.stderr
    assert "Traceback" not in result.stderr and result.stdout == ""


@pytest.mark.parametrize("store", sorted(STORES))
def test_the_refusal_is_the_one_the_step_start_gives(tmp_path: Path, store: str,
                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    ws, path = _setup(tmp_path, store)
    with pytest.raises(SpecError) as refused:
        plan_pipeline(ws, load_pipeline_spec(path), name="p")
    err = refused.value
    assert err.where is not None and err.where.line == _line(path, "      i:")
    assert err.field == "jobs.r.inputs.i.path" and err.message.startswith("step 'r': ")
    at_start = _start_error(ws, path, monkeypatch)
    assert at_start == err.render().replace("step 'r': ", "", 1)  # where, what, the hint: all of it


@pytest.mark.parametrize("store", sorted(STORES))
def test_create_refuses_it_before_anything_is_recorded(tmp_path: Path, store: str) -> None:
    ws, path = _setup(tmp_path, store)
    with pytest.raises(SpecError, match=REASONS[store]):
        submit_pipeline(ws, load_pipeline_spec(path), name="p")
    assert not ws.job_exists("p") and not ws.job_exists("p-w") and not ws.job_exists("p-r")


def test_a_step_on_this_machine_is_refused_too(tmp_path: Path) -> None:
    """On the process backend a URL of this machine's file opens, but the job could write it through the
    URL: the start refuses a direct input there too, so validate does."""
    text = PIPELINE.replace("    inputs:\n", "    compute: local-process\n    inputs:\n")
    ws, path = _setup(tmp_path, "chained", text)
    with pytest.raises(SpecError) as refused:
        plan_pipeline(ws, load_pipeline_spec(path), name="p")
    err = refused.value
    assert err.field == "jobs.r.inputs.i.path" and err.where is not None
    assert err.where.line == _line(path, "      i:") and "caches a folder on this machine" in err.message
    assert err.hint is not None and "mode: ro_mount" in err.hint and "process" not in err.hint


def test_a_direct_input_from_the_default_datastore_validates(tmp_path: Path) -> None:
    """The default datastore is a folder here: the path is bound into the container at the same path."""
    ws, path = _setup(tmp_path, "chained", PIPELINE.replace(", path: azureml://datastores/DS/paths/out/", ""))
    graph, locations = plan_pipeline(ws, load_pipeline_spec(path), name="p")
    assert locations["w"]["o"] == "azureml://datastores/workspaceblobstore/paths/azureml/p-w/o"


def test_create_for_the_process_backend_accepts_what_its_start_accepts(tmp_path: Path) -> None:
    """``job create --backend process``: the steps run on this machine, where the URL opens, so a step's
    own direct output there plans (a direct input there is refused on every backend)."""
    text = PIPELINE.replace("mode: direct}\n", "mode: download}\n") + (
        "    outputs:\n      d: {type: uri_folder, path: azureml://datastores/DS/paths/d/, mode: direct}\n")
    ws, path = _setup(tmp_path, "chained", text)
    graph, _ = plan_pipeline(ws, load_pipeline_spec(path), name="p", backend="process")
    assert graph.steps["r"].depends_on == ("w",)


def test_an_unknown_backend_is_refused_as_the_option(tmp_path: Path) -> None:
    ws, path = _setup(tmp_path, "chained")
    with pytest.raises(SpecError) as refused:
        submit_pipeline(ws, load_pipeline_spec(path), name="p", backend="bogus")
    assert refused.value.field == "--backend" and "unknown backend 'bogus'" in refused.value.message
    assert refused.value.hint is not None and "docker" in refused.value.hint and not ws.job_exists("p")


def test_a_direct_output_of_the_step_on_this_machine_is_refused_too(tmp_path: Path) -> None:
    """A dependent step's own direct output on such a datastore: what its start refuses, refused now."""
    text = PIPELINE.replace("mode: direct}\n", "mode: download}\n") + (
        "    outputs:\n      d: {type: uri_folder, path: azureml://datastores/DS/paths/d/, mode: direct}\n")
    ws, path = _setup(tmp_path, "chained", text)
    with pytest.raises(SpecError) as refused:
        plan_pipeline(ws, load_pipeline_spec(path), name="p")
    err = refused.value
    assert err.field == "jobs.r.outputs.d.path" and err.where is not None
    assert err.where.line == _line(path, "      d:") and "container cannot open it" in err.message
