"""Whatever ``job validate`` accepts, ``job create`` accepts (issue 20), over every job file of the
Azure ML examples: both are run in process against workspaces that differ in nothing (the examples'
sklearn environment mapped in each), create up to the Queued record."""

from __future__ import annotations

from pathlib import Path

import pytest
from repo_paths import EXAMPLES

from runner.client import MLClient
from runner.errors import RunnerError
from runner.jobs.submit import check_submission, plan_job, submit_job
from runner.spec.load import load_job_spec
from runner.workspace.db import Workspace

pytestmark = pytest.mark.examples


def _workspace(folder: Path) -> Workspace:
    MLClient(workspace_dir=folder).environments.create_or_update(name="sklearn-1.5",
                                                                 image="runner/python:3.11")
    return Workspace(folder)


def test_validate_and_create_agree_on_the_azure_ml_examples(tmp_path: Path) -> None:
    validate_ws, create_ws = _workspace(tmp_path / "v"), _workspace(tmp_path / "c")
    files = sorted((EXAMPLES / "cli" / "jobs").rglob("*.yml"))
    assert len(files) > 50
    accepted, disagree = 0, []
    for index, path in enumerate(files):
        try:
            spec = load_job_spec(path)
            check_submission(spec, plan_job(spec, workspace=validate_ws, job_name="v"), backend=None)
        except RunnerError as err:
            assert "Traceback" not in err.render()
            continue
        accepted += 1
        try:
            submit_job(create_ws, load_job_spec(path), name=f"c{index}")
        except RunnerError as err:
            disagree.append(f"{path.relative_to(EXAMPLES)}: {err.message}")
    assert disagree == []
    assert accepted >= 3  # the command jobs that run here as they are
