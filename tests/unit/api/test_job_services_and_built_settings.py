"""azure.ai.ml's entities where a script reads and sets them: a fetched job's ``services`` are job service
entities, each with ``.type`` and ``.endpoint`` (``JobService`` for ``Studio`` and ``Tracking`` and for a
service of another type, ``JupyterLabJobService``... for the ones given); a built job's ``limits`` and
``resources`` are ``CommandJobLimits`` and ``JobResourceConfiguration`` (empty ones when not given, where
azure.ai.ml's are None), and setting their attributes changes the job that is submitted. The jobs are
queued, not run; every file is in tmp_path."""

from __future__ import annotations

from pathlib import Path

import pytest

from runner import MLClient, command
from runner.entities import (
    CommandJobLimits,
    JobResourceConfiguration,
    JobService,
    JupyterLabJobService,
    SshJobService,
)
from runner.errors import SpecError
from runner.jobs.operations import JobOperations

ENV = "runner/busybox:latest"


@pytest.fixture
def ml_client(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> MLClient:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(JobOperations, "start_worker", lambda self, name, **_: 0)  # queued, not run
    return MLClient(workspace_dir=tmp_path / "ws")


def test_every_fetched_service_is_a_job_service_with_type_and_endpoint(ml_client: MLClient) -> None:
    ml_client.jobs.create_or_update(command(
        command="echo hi", environment=ENV, name="s1",
        services={"lab": JupyterLabJobService(nodes="all"), "ssh": SshJobService(ssh_public_keys="ssh-rsa A"),
                  "mine": {"type": "custom", "port": 8080}}))
    services = ml_client.jobs.get("s1").services
    assert {name: s.type for name, s in services.items()} == {
        "lab": "jupyter_lab", "ssh": "ssh", "mine": "custom", "Studio": "Studio", "Tracking": "Tracking"}
    assert all(hasattr(s, "endpoint") for s in services.values())
    assert services["Studio"] == JobService(endpoint="runner job show --name s1", type="Studio")
    assert isinstance(services["Tracking"], JobService) and services["Tracking"].endpoint.endswith("/mlruns")
    assert services["mine"] == JobService(type="custom", port=8080)
    assert services["lab"] == JupyterLabJobService(nodes="all") and services["lab"].endpoint is None


def test_a_built_jobs_limits_and_resources_are_azures_entities(ml_client: MLClient) -> None:
    job = command(command="echo hi", environment=ENV, timeout=60, shm_size="1g")
    assert job.limits == CommandJobLimits(timeout=60)
    assert job.resources == JobResourceConfiguration(instance_count=1, shm_size="1g")
    bare = command(command="echo hi", environment=ENV)  # none given: empty (azure.ai.ml's are None)
    assert (bare.limits, bare.resources) == (CommandJobLimits(), JobResourceConfiguration(instance_count=1))
    bare.set_limits(timeout=4)
    assert bare.limits == CommandJobLimits(timeout=4)


def test_setting_their_attributes_changes_the_submitted_job(ml_client: MLClient) -> None:
    job = command(command="echo hi", environment=ENV, name="set1")  # none given: set on the empty ones
    job.limits.timeout = 120
    job.resources.shm_size = "2g"
    job.resources.instance_count = 2
    assert job.to_dict()["limits"] == {"timeout": 120}
    ml_client.jobs.create_or_update(job)
    got = ml_client.jobs.get("set1")
    assert got.limits == CommandJobLimits(timeout=120)
    assert got.resources == JobResourceConfiguration(instance_count=2, shm_size="2g")


def test_a_whole_entity_set_replaces_them(ml_client: MLClient) -> None:
    job = command(command="echo hi", environment=ENV, timeout=5)
    job.limits = CommandJobLimits(timeout=9)
    job.resources = JobResourceConfiguration(shm_size="3g")
    assert job.to_dict()["limits"] == {"timeout": 9} and job.to_dict()["resources"] == {"shm_size": "3g"}


def test_a_bad_value_set_is_the_fields_error(ml_client: MLClient) -> None:
    job = command(command="echo hi", environment=ENV, timeout=5)
    job.limits.timeout = -1
    with pytest.raises(SpecError) as raised:
        ml_client.jobs.create_or_update(job)
    assert raised.value.field == "limits.timeout"
    assert ml_client.jobs.list() == []
