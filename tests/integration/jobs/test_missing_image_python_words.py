"""A job whose image is not on this machine fails when it starts, and ``ml_client.jobs.stream`` raises
``JobFailedError`` saying so in Python's words: map it with ``ml_client.environments.create_or_update(...)``,
not ``runner environment create`` (which the recorded error, what ``runner job show`` prints, keeps).
The image name is one no registry has; pulling stays disabled."""

from __future__ import annotations

from pathlib import Path

import pytest

from runner import MLClient, command
from runner.errors import JobFailedError

pytestmark = pytest.mark.docker


def test_a_missing_images_failure_speaks_python(workspace_dir: Path, tmp_path: Path,
                                                monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("RUNNER_ALLOW_PULL", raising=False)
    ml_client = MLClient(workspace_dir=workspace_dir)
    job = ml_client.jobs.create_or_update(command(command="echo hi", name="noimg",
                                                  environment="runner/no-such-image-s38m:0"),
                                          stream=True, echo=lambda _: None)
    assert job.status == "Failed"
    with pytest.raises(JobFailedError) as info:
        ml_client.jobs.stream("noimg", echo=lambda _: None)
    text = str(info.value)
    assert "image 'runner/no-such-image-s38m:0' is not available locally" in text, text
    assert "`ml_client.environments.create_or_update(name='N', image='IMAGE')`" in text, text
    assert "runner environment" not in text and "runner job" not in text, text
    assert "`runner environment create --name N --image IMAGE`" in info.value.render()
    assert "`runner environment create" in (ml_client.workspace.get_job("noimg").error or "")
