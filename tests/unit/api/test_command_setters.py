"""azure.ai.ml's ``Command.set_limits`` / ``set_resources`` / ``set_queue_settings`` on a built job: they
write the job's ``limits`` / ``resources`` / ``queue_settings`` as the YAML fields do (the same checks, the
same errors, the same "ignored" warnings), and ``command()``'s own argument errors read cleanly."""

from __future__ import annotations

from pathlib import Path

import pytest

from runner import command, load_job
from runner.errors import SpecError

ENV = "busybox:latest"


def test_set_limits_sets_the_timeout_as_the_yaml_field_does(tmp_path: Path) -> None:
    job = command(command="sleep 30", environment=ENV)
    assert job.set_limits(timeout=3) is None  # as azure.ai.ml's: it changes the job
    assert job.limits.timeout == 3
    (tmp_path / "j.yml").write_text(f"command: sleep 30\nenvironment: {ENV}\nlimits:\n  timeout: 3\n")
    assert job == load_job(tmp_path / "j.yml")
    job.set_limits(timeout=7)
    assert job.to_dict()["limits"] == {"timeout": 7}


@pytest.mark.parametrize(("timeout", "words"), [(0, "more than 0"), ("soon", "expected an integer")])
def test_set_limits_refuses_what_the_yaml_refuses(timeout: object, words: str) -> None:
    job = command(command="sleep 30", environment=ENV, timeout=5)
    with pytest.raises(SpecError) as raised:
        job.set_limits(timeout=timeout)
    assert raised.value.field == "limits.timeout" and words in raised.value.message
    assert job.limits.timeout == 5  # the job is unchanged


def test_set_limits_names_an_unknown_keyword() -> None:
    job = command(command="ls", environment=ENV)
    with pytest.raises(SpecError, match="set_limits.*'timout'.*did you mean 'timeout'"):
        job.set_limits(timout=3)  # type: ignore[call-arg]


def test_set_resources_sets_what_the_yaml_job_has(tmp_path: Path) -> None:
    job = command(command="ls", environment=ENV, shm_size="1g")
    job.set_resources(instance_type="Standard_DS3_v2", instance_count=1, docker_args="--ipc=host")
    resources = job.resources
    assert (resources.instance_count, resources.shm_size, resources.docker_args) == (1, "1g", ["--ipc=host"])
    assert resources.instance_type == "Standard_DS3_v2"
    assert any("resources.instance_type is ignored" in w for w in job.warnings)
    (tmp_path / "j.yml").write_text(f"command: ls\nenvironment: {ENV}\nresources:\n  shm_size: 1g\n"
                                    "  instance_type: Standard_DS3_v2\n  instance_count: 1\n"
                                    "  docker_args: --ipc=host\n")
    assert job == load_job(tmp_path / "j.yml")


def test_set_resources_keeps_the_settings_it_is_not_given() -> None:
    job = command(command="ls", environment=ENV, docker_args="--ipc=host")
    job.set_resources(shm_size="2g", locations=["westeurope"], properties={"a": "b"})
    assert job.resources.docker_args == ["--ipc=host"] and job.resources.shm_size == "2g"
    assert {"resources.locations", "resources.properties"} <= set(job.spec.ignored_fields)


@pytest.mark.parametrize(("kwargs", "field", "words"), [
    ({"shm_size": "big"}, "resources.shm_size", "is not a size"),
    ({"instance_count": 0}, "resources.instance_count", "at least 1"),
    ({"instance_cout": 2}, "instance_cout", "did you mean 'instance_count'"),
])
def test_set_resources_refuses_what_the_yaml_refuses(kwargs: dict[str, object], field: str,
                                                     words: str) -> None:
    job = command(command="ls", environment=ENV)
    with pytest.raises(SpecError) as raised:
        job.set_resources(**kwargs)  # type: ignore[arg-type]
    assert raised.value.field == field and words in raised.value.render()
    assert job.resources.shm_size is None and job.resources.instance_count == 1  # unchanged


def test_set_queue_settings_is_accepted_and_ignored_as_in_yaml() -> None:
    job = command(command="ls", environment=ENV)
    job.set_queue_settings(job_tier="Standard", priority="Medium")
    assert job.queue_settings == {"job_tier": "Standard", "priority": "Medium"}
    assert any("queue_settings is ignored" in w for w in job.warnings)


def test_command_job_tier_and_priority_are_its_queue_settings() -> None:
    """As azure.ai.ml's ``command(job_tier=..., priority=...)``: they are the job's queue settings."""
    job = command(command="ls", environment=ENV, job_tier="Spot", priority="Low")
    assert job.queue_settings == {"job_tier": "Spot", "priority": "Low"}


def test_an_unknown_method_says_the_close_one() -> None:
    job = command(command="ls", environment=ENV)
    with pytest.raises(AttributeError, match="'set_limit'.*did you mean 'set_limits'"):
        job.set_limit(timeout=3)


def test_command_hint_lists_each_argument_once() -> None:
    with pytest.raises(SpecError) as raised:
        command(command="ls", enviroment=ENV)
    listed = (raised.value.hint or "").removeprefix("arguments: ").split(", ")
    assert len(listed) == len(set(listed)), listed
    assert {"command", "environment", "inputs", "outputs", "code", "timeout"} <= set(listed)
