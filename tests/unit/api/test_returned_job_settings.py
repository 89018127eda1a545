"""A job ``ml_client.jobs`` returns has azure.ai.ml's Command job settings, read from its stored spec:
``limits``, ``resources``, ``queue_settings``, ``distribution`` (the entities a job is built with:
``CommandJobLimits``, ``JobResourceConfiguration``, ``QueueSettings``, the distributions), ``identity``,
``code``, ``environment_variables`` (plain data), and ``services`` (the ones given, as entities, besides
Studio and Tracking). ``environment_variables`` shows each value as ``runner job show`` does: a secret is
``***``. The jobs are queued, not run (their worker is not started); every file is in tmp_path."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from runner import MLClient, PyTorchDistribution, command
from runner.cli.main import app
from runner.entities import (
    CommandJobLimits,
    JobResourceConfiguration,
    JupyterLabJobService,
    QueueSettings,
    SshJobService,
    TensorFlowDistribution,
)
from runner.jobs.operations import JobOperations

ENV = "runner/busybox:latest"


@pytest.fixture
def ml_client(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> MLClient:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "src").mkdir()
    monkeypatch.setattr(JobOperations, "start_worker", lambda self, name, **_: 0)  # queued, not run
    return MLClient(workspace_dir=tmp_path / "ws")


def test_a_returned_job_has_the_settings_it_was_built_with(ml_client: MLClient) -> None:
    job = command(command="echo hi", environment=ENV, code="./src", name="j1",
                  resources=JobResourceConfiguration(instance_count=2, shm_size="2g"),
                  distribution={"type": "PyTorch", "process_count_per_instance": 2},
                  identity={"type": "user_identity"}, queue_settings=QueueSettings(job_tier="spot"),
                  services={"lab": JupyterLabJobService(nodes="all"),
                            "ssh": SshJobService(ssh_public_keys="ssh-rsa A")})
    job.set_limits(timeout=60)
    ml_client.jobs.create_or_update(job)
    got = ml_client.jobs.get("j1")
    assert got.limits == CommandJobLimits(timeout=60)
    assert got.resources == JobResourceConfiguration(instance_count=2, shm_size="2g")
    assert got.distribution == PyTorchDistribution(process_count_per_instance=2)  # "PyTorch": any case
    assert got.queue_settings == QueueSettings(job_tier="spot")
    assert got.identity == {"type": "user_identity"}
    assert got.code is not None and got.code.endswith("src")
    assert got.services["lab"] == JupyterLabJobService(nodes="all")
    assert got.services["ssh"].ssh_public_keys == "ssh-rsa A"
    assert got.services["Studio"].endpoint == "runner job show --name j1"  # runner's own stay


def test_what_was_not_given_reads_as_azure_reads_it(ml_client: MLClient) -> None:
    ml_client.jobs.create_or_update(command(command="echo hi", environment=ENV, name="j2",
                                            distribution=TensorFlowDistribution(worker_count=1)))
    got = ml_client.jobs.get("j2")
    assert (got.limits, got.queue_settings, got.identity, got.code) == (None, None, None, None)
    assert got.resources == JobResourceConfiguration(instance_count=1)  # what it ran with
    assert got.distribution == TensorFlowDistribution(worker_count=1)
    assert got.environment_variables == {}
    assert set(got.services) == {"Studio", "Tracking"}


def test_environment_variables_show_as_job_show_shows_them(ml_client: MLClient, tmp_path: Path) -> None:
    ml_client.jobs.create_or_update(command(command="echo hi", environment=ENV, name="j3",
                                            environment_variables={"WANDB_API_KEY": "s3cr3t-value",
                                                                   "PLAIN": "1"}))
    got = ml_client.jobs.get("j3")
    shown = CliRunner().invoke(app, ["-w", str(tmp_path / "ws"), "job", "show", "-n", "j3", "-o", "json"])
    assert shown.exit_code == 0, shown.output
    assert got.environment_variables == json.loads(shown.output)["spec"]["environment_variables"]
    assert got.environment_variables == {"WANDB_API_KEY": "***", "PLAIN": "1"}
    assert "s3cr3t-value" not in repr(got.environment_variables)


def test_settings_data_no_entity_holds_stay_data(ml_client: MLClient) -> None:
    """A record is read back, never refused: a distribution of a type (or with a key) no entity has is
    its data."""
    ml_client.jobs.create_or_update(command(command="echo hi", environment=ENV, name="j4",
                                            distribution={"type": "ray", "port": 1}))
    ws = ml_client.workspace
    record = ws.get_job("j4")
    ws.update_job("j4", spec={**record.spec, "distribution": {"type": "horovod", "x": 1}})
    assert ml_client.jobs.get("j4").distribution == {"type": "horovod", "x": 1}


def test_a_built_job_keeps_its_services() -> None:
    """``command(..., services={...}).services``: the services given, as azure.ai.ml's built job has them
    (with ``Studio`` once the job has a name)."""
    given = {"lab": JupyterLabJobService(nodes="all"), "ssh": {"type": "ssh", "ssh_public_keys": "ssh-rsa A"}}
    job = command(command="echo hi", environment=ENV, services=given)
    assert job.services == {"lab": JupyterLabJobService(nodes="all"),
                            "ssh": SshJobService(ssh_public_keys="ssh-rsa A")}
    job.name = "named"
    assert set(job.services) == {"lab", "ssh", "Studio"}
