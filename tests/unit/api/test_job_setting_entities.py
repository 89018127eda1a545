"""azure.ai.ml's job setting entities (``JobResourceConfiguration``, ``CommandJobLimits``, the distributions,
the job services) import from ``runner.entities`` (the distributions from ``runner`` too, as azure.ai.ml
exports them) and are the YAML fields' dicts: a job built with them equals the one built with the dicts,
and a misspelled keyword is one ``SpecError`` naming the close one."""

from __future__ import annotations

import pytest

from runner import PyTorchDistribution, command
from runner.entities import (
    CommandJobLimits,
    JobResourceConfiguration,
    JupyterLabJobService,
    MpiDistribution,
    QueueSettings,
    SshJobService,
    TensorBoardJobService,
)
from runner.errors import SpecError

ENV = "runner/python:3.11"


def test_the_entities_are_the_yaml_fields() -> None:
    with_entities = command(
        command="echo hi", environment=ENV,
        resources=JobResourceConfiguration(instance_count=2, shm_size="2g"),
        distribution=PyTorchDistribution(process_count_per_instance=2),
        services={"lab": JupyterLabJobService(nodes="all"), "ssh": SshJobService(ssh_public_keys="ssh-rsa A"),
                  "tb": TensorBoardJobService(log_dir="outputs/tb")},
        queue_settings=QueueSettings(job_tier="spot"))
    with_dicts = command(
        command="echo hi", environment=ENV, resources={"instance_count": 2, "shm_size": "2g"},
        distribution={"type": "pytorch", "process_count_per_instance": 2},
        services={"lab": {"type": "jupyter_lab", "nodes": "all"}, "ssh": {"type": "ssh", "ssh_public_keys":
                  "ssh-rsa A"}, "tb": {"type": "tensor_board", "log_dir": "outputs/tb"}},
        queue_settings={"job_tier": "spot"})
    assert with_entities == with_dicts
    assert with_entities.resources.instance_count == 2


def test_limits_and_attributes() -> None:
    job = command(command="sleep 9", environment=ENV)
    job.limits = CommandJobLimits(timeout=5)
    assert job.to_dict()["limits"] == {"timeout": 5}
    resources = JobResourceConfiguration(instance_count=3)
    assert (resources.instance_count, resources.instance_type) == (3, None)  # as Azure's: None when not given
    assert MpiDistribution(process_count_per_instance=1) == MpiDistribution(process_count_per_instance=1)


def test_a_misspelled_keyword_names_the_close_one() -> None:
    with pytest.raises(SpecError, match="PyTorchDistribution.*'process_count'.*'process_count_per_instance'"):
        PyTorchDistribution(process_count=2)
    with pytest.raises(SpecError, match="resources.instance_count"):  # values are checked as the YAML's
        command(command="ls", environment=ENV, resources=JobResourceConfiguration(instance_count=0))
