"""What a Python caller reads of a job's end and of a missing ``command``/``environment`` is in Python's
words (``test_sdk_hints_python_words``' rule: ``str(err)`` never names a ``runner`` command or a
``--flag``, nor a YAML line to add; ``err.render()``, the CLI's text, keeps the CLI's words):

- a job whose command failed: ``ml_client.jobs.stream(name)`` raises ``JobFailedError`` whose message says
  where its output is with ``ml_client.jobs.stream('<name>')``, where the recorded error (what
  ``runner job show`` prints) says ``runner job stream --name <name>``;
- ``command(...)`` without ``environment`` (or ``command``) hints ``command(..., environment=...)``; a
  YAML file without one keeps the YAML hint.
The job runs as a host process (``compute="local-process"``), in tmp_path."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from runner import MLClient, command, load_job
from runner.errors import JobFailedError, SpecError

CLI_FORMS = re.compile(r"`runner [a-z]|\brunner (?:job|model|data|component|environment|datastore|compute) "
                       r"[a-z]|(?<![\w/-])--[a-z]")


@pytest.fixture
def ml_client(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> MLClient:
    monkeypatch.chdir(tmp_path)
    return MLClient(workspace_dir=tmp_path / "ws")


def test_a_failed_commands_error_speaks_python(ml_client: MLClient) -> None:
    ml_client.jobs.create_or_update(command(command="echo oops; exit 3", environment="runner/busybox:latest",
                                            compute="local-process", name="bad1"),
                                    stream=True, echo=lambda _: None)
    with pytest.raises(JobFailedError) as info:
        ml_client.jobs.stream("bad1", echo=lambda _: None)
    err = info.value
    text = str(err)
    assert "job 'bad1' ended Failed: the command exited with code 3" in text, text
    assert "`ml_client.jobs.stream('bad1')`" in text and "std_log.txt" in text, text
    assert not CLI_FORMS.search(text), text
    assert "`runner job stream --name bad1`" in err.render()
    recorded = ml_client.workspace.get_job("bad1").error or ""  # what `runner job show` prints
    assert "`runner job stream --name bad1`" in recorded


@pytest.mark.parametrize(("given", "missing", "python"), [
    ({"command": "echo hi"}, "environment", "command(..., environment="),
    ({"environment": "python:3.11"}, "command", "command(command="),
])
def test_a_missing_field_of_command_hints_its_keyword(given: dict[str, str], missing: str,
                                                      python: str) -> None:
    with pytest.raises(SpecError) as info:
        command(**given)  # type: ignore[arg-type]
    err = info.value
    text = str(err)
    assert f"'{missing}' is required" in text and python in text, text
    assert f"add {missing}:" not in text and f"{missing}: {{" not in text, text


def test_a_yaml_without_an_environment_keeps_the_yaml_hint(tmp_path: Path) -> None:
    (tmp_path / "job.yml").write_text("command: echo hi\n")
    with pytest.raises(SpecError) as info:
        load_job(tmp_path / "job.yml")
    assert "add environment:" in str(info.value)
