"""A Ray job's outputs are checked once more after it is recorded (``refuse_registered_meanwhile``): a
version registered since they were planned, where an output writes, is one ``SpecError`` at that
output's ``path:`` line; a version registered before the plan (refused by it, or elsewhere) is not
asked again. Everything here is in the test's tmp folder; nothing reaches a cluster."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from runner.errors import SpecError
from runner.jobs.ray_submit import refuse_registered_meanwhile
from runner.jobs.submit import plan_job
from runner.spec.data import Data
from runner.spec.load import load_job_spec
from runner.workspace.assets import registered_locations
from runner.workspace.db import Workspace
from runner.workspace.protect import REFUSAL_HINT
from runner.workspace.registry import DataRegistry

DS = "azureml://datastores/workspaceblobstore/paths"
JOB = f"""\
command: echo hi
environment: {{image: unused:1}}
outputs:
  free:
    path: {DS}/free
  late:
    mode: upload
    path: {DS}/shared/late/out
"""


@pytest.fixture
def ws(tmp_path: Path) -> Workspace:
    workspace = Workspace(tmp_path / "ws")
    (workspace.root / "datastores" / "workspaceblobstore" / "shared" / "late").mkdir(parents=True)
    return workspace


def test_a_version_registered_since_the_plan_is_refused_at_the_outputs_path_line(
        ws: Workspace, tmp_path: Path) -> None:
    job = tmp_path / "job.yml"
    job.write_text(textwrap.dedent(JOB))
    spec = load_job_spec(job)
    known = registered_locations(ws)
    plan = plan_job(spec, workspace=ws, job_name="r1")
    DataRegistry(ws).create(Data(name="late", version="1", path=f"{DS}/shared/late"))  # meanwhile
    with pytest.raises(SpecError) as refused:
        refuse_registered_meanwhile(ws, spec, plan, known)
    err = refused.value
    assert err.message.startswith("output 'late' cannot be written there: ")
    assert "registered data late:1" in err.message and err.message.endswith(
        "(registered while the job was being submitted)")
    assert err.field == "outputs.late.path" and err.hint == REFUSAL_HINT
    assert err.where is not None and err.where.line == 8
    refuse_registered_meanwhile(ws, spec, plan, registered_locations(ws))  # known by then: not asked again
