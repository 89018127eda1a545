"""docker_args read one way, and an engine error holding no secret, in a real engine (busybox):

- ``--user --env=API_TOKEN=...`` (docker would make the pair the user's name and its error would echo it)
  is refused by ``job create`` before anything is queued: one error naming ``--user`` and ``--env``,
  never the value;
- a job whose container cannot start because of a value the engine echoes (``unable to find user
  <value>``), that value being one of its secrets, fails with the engine's words and ``***`` in its
  place: in the record's ``error``, ``job show``, ``--stream`` and Python's ``JobFailedError`` (the
  ``--user`` value itself stays in the spec as written: it is the option's, not a variable's)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from jobs_support import cli, show, write_job

from runner import MLClient
from runner.errors import JobFailedError

pytestmark = pytest.mark.docker

SECRET = "s3cr3tUSR0471"


def test_an_option_given_the_env_pair_as_its_value_is_refused_before_queuing(workspace_dir: Path,
                                                                            tmp_path: Path) -> None:
    job = write_job(tmp_path, "command: env\nenvironment: runner/busybox:latest\nresources:\n"
                              f"  docker_args: --user --env=API_TOKEN={SECRET}\n")
    result = cli(workspace_dir, "job", "create", "--file", str(job), "--name", "swallowed")
    out = result.stdout + result.stderr
    assert result.returncode == 2, out
    assert "'--user'" in out and "'--env'" in out and f"{job}:4:" in out, out
    assert SECRET not in out and "Traceback" not in out, out
    listed = cli(workspace_dir, "job", "list", "-o", "json", check=True).stdout
    assert json.loads(listed) == [], listed


def test_an_engine_error_echoing_a_secret_value_shows_it_masked(workspace_dir: Path, tmp_path: Path,
                                                                monkeypatch: pytest.MonkeyPatch) -> None:
    job = write_job(tmp_path, "command: env\nenvironment: runner/busybox:latest\n"
                              f"environment_variables:\n  API_TOKEN: {SECRET}\n"
                              f"resources:\n  docker_args: --user {SECRET}\n")
    result = cli(workspace_dir, "job", "create", "--file", str(job), "--name", "echoed", "--stream")
    out = result.stdout + result.stderr
    assert result.returncode != 0 and "unable to find user ***" in out, out
    assert SECRET not in out, out
    record = show(workspace_dir, "echoed")
    assert record["status"] == "Failed"
    assert "could not start the container" in record["error"] and "***" in record["error"], record["error"]
    assert SECRET not in record["error"], record["error"]
    shown = cli(workspace_dir, "job", "show", "--name", "echoed", check=True).stdout
    said = [line for line in shown.splitlines() if "unable to find user" in line]
    assert said and not any(SECRET in line for line in said), shown
    monkeypatch.chdir(tmp_path)
    with pytest.raises(JobFailedError) as info:
        MLClient(workspace_dir=workspace_dir).jobs.stream("echoed", echo=lambda _: None)
    assert SECRET not in info.value.render() and "unable to find user ***" in str(info.value)
