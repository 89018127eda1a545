"""A version created while a job runs fails the registration of the output that names it, with a hint
naming the output's ``version`` field as written: ``outputs.<o>.version`` for a job, and
``jobs.<step>.outputs.<o>.version`` for a pipeline step (its job is ``<pipeline>-<step>``)."""

from __future__ import annotations

from pathlib import Path

import pytest

from runner.errors import RegistryError
from runner.jobs.register import register_outputs
from runner.modes import AssetType, Direction, Mode, PathKind
from runner.plan.types import AssetRef, Binding, RunPlan
from runner.spec.data import Data
from runner.workspace.db import JobRecord, Workspace
from runner.workspace.registry import DataRegistry


def _plan(job: str) -> RunPlan:
    out = Binding(name="kept", direction=Direction.OUTPUT, type=AssetType.URI_FOLDER, mode=Mode.UPLOAD,
                  uri=f"azureml://jobs/{job}/outputs/kept", kind=PathKind.FOLDER, host_path="/h",
                  container_path="/c", value="/c", host_value="/h", registered_as=AssetRef("data", "d", "1"))
    return RunPlan(job_name=job, image="img", build_context=None, dockerfile=None, command="true",
                   host_command="true", env={}, code_dir=None, working_dir="/", inputs=(), outputs=(out,),
                   literals={}, timeout_s=None)


@pytest.mark.parametrize(("job", "spec", "field"), [
    ("j1", {}, "outputs.kept.version"),
    ("p1-keep", {"parent_job_name": "p1"}, "jobs.keep.outputs.kept.version"),
])
def test_a_version_taken_while_the_job_ran_names_the_field(tmp_path: Path, job: str, spec: dict[str, str],
                                                           field: str) -> None:
    ws = Workspace(tmp_path / "ws")
    folder = tmp_path / "registered"
    folder.mkdir()
    (folder / "a.txt").write_text("a\n")
    DataRegistry(ws).create(Data(name="d", version="1", path=str(folder), type="uri_folder"))
    with pytest.raises(RegistryError) as failed:
        register_outputs(ws, JobRecord(name=job, spec=spec), _plan(job))
    assert "registering output 'kept' as data asset 'd' failed" in failed.value.message
    assert failed.value.hint == \
        f"omit {field} to register the next version (2), or set one that does not exist"
