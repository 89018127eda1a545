"""A Python caller is told each setting that means nothing here, once, as the CLI prints it: a command job
submitted with ``ml_client.jobs.create_or_update`` logs each of its plan's warnings (logger
``runner.jobs.operations``: the distribution's processes run as one, ``instance_count=2 runs as 1 instance``,
``instance_type is ignored``, the unregistered compute), the compute's in Python words
(``ml_client.compute.create_or_update(...)``, not ``runner compute create``), whether or not the job was
validated first. ``runner job create`` prints each once as a ``warning: file:line: ...`` line, in the CLI's
words, and nothing more (no second, logged copy). The job is not run here (its worker is not started)."""

from __future__ import annotations

import logging
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from runner import MLClient, command
from runner.jobs.operations import JobOperations

CLI_FORMS = re.compile(r"`runner [a-z]|\brunner (?:job|model|data|component|environment|datastore|compute) "
                       r"[a-z]|(?<![\w/-])--[a-z]")
IGNORED = ("runner starts one process on this machine", "instance_count=2 runs as 1 instance",
           "instance_type is ignored",
           "compute 'gpu' is not registered")


@pytest.fixture
def ml_client(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> MLClient:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(JobOperations, "start_worker", lambda self, name, **_: 0)  # queued, not run
    return MLClient(workspace_dir=tmp_path / "ws")


def _job() -> object:
    return command(command="echo hi", environment="runner/busybox:latest", name="j1",
                   distribution={"type": "pytorch", "process_count_per_instance": 2}, instance_count=2,
                   instance_type="Standard_NC6", compute="gpu")


def _told(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [r.getMessage() for r in caplog.records if r.levelno >= logging.WARNING]


def _each_once(told: list[str]) -> None:
    for words in IGNORED:
        assert len([t for t in told if words in t]) == 1, (words, told)


def test_each_ignored_setting_is_logged_once(ml_client: MLClient, caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.WARNING):
        job = ml_client.jobs.create_or_update(_job())
    assert job.status == "Queued"
    told = _told(caplog)
    _each_once(told)
    assert {r.name for r in caplog.records if r.levelno >= logging.WARNING} == {"runner.jobs.operations"}
    [compute] = [t for t in told if "compute 'gpu'" in t]
    assert "ml_client.compute.create_or_update({'name': 'gpu', 'type': 'ray', 'address': " in compute, compute
    assert not [t for t in told if CLI_FORMS.search(t)], told


def test_validated_first_still_told_once(ml_client: MLClient, caplog: pytest.LogCaptureFixture) -> None:
    job = _job()
    result = ml_client.jobs.validate(job)
    assert result.passed
    assert not [w for w in result.plan.warnings if CLI_FORMS.search(w)], result.plan.warnings
    with caplog.at_level(logging.WARNING):
        ml_client.jobs.create_or_update(job)
    _each_once(_told(caplog))


def test_a_setter_ignored_setting_is_told(ml_client: MLClient, caplog: pytest.LogCaptureFixture) -> None:
    job = command(command="echo hi", environment="runner/busybox:latest", name="j2")
    job.set_resources(instance_type="Standard_NC6")
    with caplog.at_level(logging.WARNING):
        ml_client.jobs.create_or_update(job)
    assert len([t for t in _told(caplog) if "instance_type is ignored" in t]) == 1, _told(caplog)


def test_a_job_with_nothing_ignored_tells_nothing(ml_client: MLClient,
                                                   caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.WARNING):
        ml_client.jobs.create_or_update(command(command="echo hi", environment="runner/busybox:latest"))
    assert _told(caplog) == []


JOB_YAML = """\
command: echo hi
environment: {image: runner/busybox:latest}
compute: azureml:gpu
distribution: {type: pytorch, process_count_per_instance: 2}
resources: {instance_count: 2, instance_type: Standard_NC6}
"""


def test_the_cli_prints_each_once_as_a_warning_line(tmp_path: Path) -> None:
    (tmp_path / "job.yml").write_text(JOB_YAML)
    env = {**os.environ, "RUNNER_FORKSERVER": "0", "HOME": str(tmp_path)}
    env.pop("RUNNER_WORKSPACE", None)
    code = "import sys\nsys.argv = ['runner', *sys.argv[1:]]\nfrom runner.cli.main import main\nmain()"
    result = subprocess.run([sys.executable, "-c", code, "-w", str(tmp_path / "ws"), "job", "create",
                             "--file", "job.yml", "--stream", "--backend", "process"],
                            capture_output=True, text=True, timeout=120, check=False, env=env, cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    lines = result.stderr.splitlines()
    for words in IGNORED:
        said = [line for line in lines if words in line]
        assert len(said) == 1 and said[0].startswith(f"warning: {tmp_path / 'job.yml'}:"), (words, lines)
    assert any("`runner compute create --name gpu" in line for line in lines), lines
    assert not [line for line in lines if line.startswith("WARNING")], lines
