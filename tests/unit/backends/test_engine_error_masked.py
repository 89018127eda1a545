"""An engine error that echoes a value the job was given (``unable to find user <value>``, an invalid
variable) holds none of the job's secret values (``environment_variables``' and docker_args'): the
container error the run records, `job show` and ``--stream`` print, and Python's ``JobFailedError`` carries
shows ``***`` in their place, every other word as the engine said it."""

from __future__ import annotations

from typing import Any

import docker.errors
import pytest

from runner.backends.base import PreparedImage, RunSpec
from runner.backends.docker import DockerBackend
from runner.errors import ContainerError
from runner.plan.env_secrets import DOCKER_KEY
from runner.plan.types import Resources, RunPlan

ENV_SECRET, DOCKER_SECRET = "s3cr3tENV0001", "s3cr3tDOCK0002"


def _plan() -> RunPlan:  # as the run hands it to its backend: the real values put back
    return RunPlan(job_name="j1", image="runner/busybox:latest", build_context=None, dockerfile=None,
                   command="env", host_command="env", env={"API_TOKEN": ENV_SECRET, "MODE": "fast"},
                   code_dir=None, working_dir="/mnt/runner/code", inputs=(), outputs=(), literals={},
                   timeout_s=None, resources=Resources(docker_args=(f"--user {ENV_SECRET}",
                                                                    f"-e DB_PASSWORD={DOCKER_SECRET}")),
                   secret_env=("API_TOKEN", DOCKER_KEY + "DB_PASSWORD"))


class _Container:
    def __init__(self, fail: Exception) -> None:
        self.fail, self.id = fail, "c1"

    def start(self) -> None:
        raise self.fail

    def remove(self, **_kw: Any) -> None:
        return None


def _engine_said() -> str:
    return (f"unable to find user {ENV_SECRET}: no matching entries in passwd file; "
            f"DB_PASSWORD={DOCKER_SECRET} fast")


@pytest.mark.parametrize("when", ["create", "start", "refused"])
def test_the_engines_words_hold_no_secret_value(monkeypatch: pytest.MonkeyPatch, when: str) -> None:
    backend = DockerBackend()
    failure: Exception = docker.errors.APIError("500 Server Error", explanation=_engine_said())
    if when == "refused":  # docker-py refusing an argument before asking the engine
        failure = docker.errors.DockerException(_engine_said())

    def create(_kwargs: dict[str, Any]) -> Any:
        if when == "start":
            return _Container(failure)
        raise failure

    monkeypatch.setattr(backend, "_create", create)
    with pytest.raises(ContainerError) as info:
        backend.start(RunSpec(plan=_plan(), mounts=()), PreparedImage(name="runner/busybox:latest", id="i",
                                                                     shell="/bin/sh"))
    shown = info.value.render()
    assert ENV_SECRET not in shown and DOCKER_SECRET not in shown, shown
    assert "unable to find user ***" in shown and "DB_PASSWORD=***" in shown and "fast" in shown, shown


def test_a_short_secret_is_masked_where_it_stands_alone() -> None:
    from dataclasses import replace

    from runner.plan.env_secrets import without_secret_values

    plan = replace(_plan(), env={"API_TOKEN": "pw1", "MODE": "fast"})
    said = "unable to find user pw1: no entry; pw123 and apw1 stay"
    assert without_secret_values(said, plan) == "unable to find user ***: no entry; pw123 and apw1 stay"
