"""A job's ``distribution`` gives its command the variables Azure ML sets on a node, for the one process
runner starts (``runner.plan.distribution_env``; the field checked, with its warnings, by
``runner.spec.distribution``): PyTorch's ``MASTER_ADDR``, ``MASTER_PORT``, ``WORLD_SIZE``, ``NODE_RANK``,
``RANK``, ``LOCAL_RANK``; TensorFlow's ``TF_CONFIG``; Open MPI's ``OMPI_COMM_WORLD_*`` with
``AZ_BATCHAI_MPI_MASTER_NODE``. More processes asked for run as one, with one warning; the job's
``environment_variables`` win; a distribution of an unknown type, a field its type has not, or a count that
is not one is one ``SpecError`` at its line when the file is loaded. Pure: specs and plans only."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from runner.errors import SpecError
from runner.plan.build import build_plan
from runner.plan.distribution_env import MASTER_PORT_RANGE, master_port
from runner.plan.types import RunPlan
from runner.spec.job import CommandJobSpec
from runner.spec.load import load_job_spec, spec_from_data
from runner.workspace.environments import ResolvedEnvironment
from runner.workspace.jobdir import JobDir

TORCH = ("MASTER_ADDR", "MASTER_PORT", "WORLD_SIZE", "NODE_RANK", "RANK", "LOCAL_RANK")


def _plan(spec: CommandJobSpec, name: str = "j1") -> RunPlan:
    return build_plan(spec, job_name=name, job_dir=JobDir(Path("/ws/jobs") / name), inputs={}, outputs={},
                      environment=ResolvedEnvironment("python:3.11"))


def _spec(**fields: Any) -> CommandJobSpec:
    return spec_from_data({"command": "env", "environment": "python:3.11", **fields})


@pytest.mark.parametrize("kind", ["pytorch", "PyTorch"])  # as azure.ai.ml reads the type: any case
def test_pytorch_gets_a_world_of_one_process(kind: str) -> None:
    plan = _plan(_spec(distribution={"type": kind}))
    port = str(master_port("j1"))
    expected = {"MASTER_ADDR": "127.0.0.1", "MASTER_PORT": port, "WORLD_SIZE": "1", "NODE_RANK": "0",
                "RANK": "0", "LOCAL_RANK": "0"}
    for env in (plan.env, plan.host_env):  # in a container and for a host process alike
        assert {k: env[k] for k in TORCH} == expected
    assert not [w for w in plan.warnings if "distribution" in w]  # one process asked for: nothing to say


def test_no_distribution_no_variables() -> None:
    plan = _plan(_spec())
    assert not set(TORCH) & set(plan.env) and "TF_CONFIG" not in plan.env
    assert not [k for k in plan.env if k.startswith("OMPI_")]


def test_more_processes_run_as_one_with_one_warning(tmp_path: Path) -> None:
    yml = tmp_path / "job.yml"
    yml.write_text("command: env\nenvironment: python:3.11\nresources:\n  instance_count: 2\n"
                   "distribution:\n  type: pytorch\n  process_count_per_instance: 4\n")
    plan = _plan(load_job_spec(yml))
    assert (plan.env["WORLD_SIZE"], plan.env["RANK"]) == ("1", "0")
    said = [w for w in plan.warnings if w.startswith(f"{yml}:5:") and "starts one process" in w]
    assert len(said) == 1 and "Azure ML would start 8" in said[0], plan.warnings
    assert not [w for w in plan.warnings if "distribution is ignored" in w]


def test_the_jobs_own_variables_win() -> None:
    plan = _plan(_spec(distribution={"type": "pytorch"}, environment_variables={"MASTER_PORT": "29500"}))
    assert plan.env["MASTER_PORT"] == plan.host_env["MASTER_PORT"] == "29500"
    assert plan.env["RANK"] == "0"


def test_each_job_has_its_own_port_in_the_range() -> None:
    ports = {master_port(f"job-{i}") for i in range(50)}
    assert all(MASTER_PORT_RANGE[0] <= p < MASTER_PORT_RANGE[1] for p in ports)
    assert len(ports) > 40 and master_port("job-1") == master_port("job-1")  # the same on every plan


def test_tensorflow_gets_tf_config_naming_one_worker() -> None:
    plan = _plan(_spec(distribution={"type": "tensorflow", "worker_count": 2}))
    config = json.loads(plan.env["TF_CONFIG"])
    assert config == {"cluster": {"worker": [f"127.0.0.1:{master_port('j1')}"]},
                      "task": {"type": "worker", "index": 0}, "environment": "cloud"}
    assert len([w for w in plan.warnings if "asks for 2 worker(s)" in w]) == 1


def test_mpi_gets_what_mpirun_gives_one_process() -> None:
    plan = _plan(_spec(distribution={"type": "mpi", "process_count_per_instance": 1}))
    assert {k: v for k, v in plan.env.items() if k.startswith(("OMPI_", "AZ_BATCHAI_"))} == {
        "OMPI_COMM_WORLD_RANK": "0", "OMPI_COMM_WORLD_SIZE": "1", "OMPI_COMM_WORLD_LOCAL_RANK": "0",
        "OMPI_COMM_WORLD_LOCAL_SIZE": "1", "AZ_BATCHAI_MPI_MASTER_NODE": "127.0.0.1"}


def test_ray_is_ignored_with_a_warning() -> None:
    plan = _plan(_spec(distribution={"type": "ray"}))
    assert not set(TORCH) & set(plan.env)
    assert len([w for w in plan.warnings if "distribution of type ray is ignored" in w]) == 1


@pytest.mark.parametrize(("distribution", "line", "words"), [
    ("{type: horovod}", "type", "type 'horovod' is not one Azure ML has"),
    ("{process_count_per_instance: 2}", "", "has no type"),
    ("{type: pytorch, process_count_per_node: 2}", "process_count_per_node",
     "has no field 'process_count_per_node' (did you mean 'process_count_per_instance'?)"),
    ("{type: pytorch, process_count_per_instance: 0}", "process_count_per_instance", "not a count of 1"),
    ("{type: tensorflow, worker_count: two}", "worker_count", "not a count of 1"),
])
def test_a_bad_distribution_is_one_error_at_its_line(tmp_path: Path, distribution: str, line: str,
                                                     words: str) -> None:
    yml = tmp_path / "job.yml"
    yml.write_text(f"command: env\nenvironment: python:3.11\ndistribution: {distribution}\n")
    with pytest.raises(SpecError) as caught:  # when the file is loaded: validate says it
        load_job_spec(yml)
    assert words in caught.value.message
    assert str(caught.value.where).startswith(f"{yml}:3:")
    assert caught.value.field == ("distribution." + line if line else "distribution")
    assert caught.value.hint
