"""``ml_client.jobs.create_or_update(job, stream=True)`` without an ``echo`` shows the log on stdout while
it waits (as ``runner job create --stream`` and azure.ai.ml's ``jobs.stream``): a command job's output, a
pipeline's log (its step status lines)."""

from __future__ import annotations

from pathlib import Path

import pytest

from runner import MLClient, command, dsl


def _hello() -> object:
    return command(name="hello", command="echo hello-from-the-step", environment="runner/busybox:latest",
                   compute="local-process")


def test_a_streamed_command_job_prints_its_log(workspace_dir: Path, tmp_path: Path,
                                               monkeypatch: pytest.MonkeyPatch,
                                               capfd: pytest.CaptureFixture[str]) -> None:
    monkeypatch.chdir(tmp_path)
    job = MLClient().jobs.create_or_update(_hello(), stream=True)
    assert job.status == "Completed"
    assert "hello-from-the-step" in capfd.readouterr().out


def test_a_streamed_pipeline_prints_its_log(workspace_dir: Path, tmp_path: Path,
                                            monkeypatch: pytest.MonkeyPatch,
                                            capfd: pytest.CaptureFixture[str]) -> None:
    monkeypatch.chdir(tmp_path)
    hello = _hello()

    @dsl.pipeline()
    def p():  # type: ignore[no-untyped-def]
        greet = hello()  # type: ignore[operator]
        greet.compute = "local-process"

    job = MLClient().jobs.create_or_update(p(), stream=True)
    assert job.status == "Completed"
    out = capfd.readouterr().out
    assert "[pipeline] step greet: submitted as job" in out
    assert "[greet] hello-from-the-step" in out and "[pipeline] step greet: Completed" in out


def test_an_echo_given_takes_the_log_instead(workspace_dir: Path, tmp_path: Path,
                                             monkeypatch: pytest.MonkeyPatch,
                                             capfd: pytest.CaptureFixture[str]) -> None:
    monkeypatch.chdir(tmp_path)
    seen: list[bytes] = []
    MLClient().jobs.create_or_update(_hello(), stream=True, echo=seen.append)
    assert b"hello-from-the-step" in b"".join(seen)
    assert "hello-from-the-step" not in capfd.readouterr().out
