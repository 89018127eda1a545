"""Every warning the CLI prints reads ``warning: ...``, also one a module logs
(``runner.workspace.job_output_state``'s "may be partial" when a Failed job's output is registered): a CI
step grepping ``^warning:`` finds it; no ``WARNING <logger>: ...`` line. Each run in its own process, its
workspace in tmp_path."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from runner.workspace.db import JobRecord, Workspace
from runner.workspace.job_records import JobStatus


def _runner(cwd: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "RUNNER_FORKSERVER": "0", "HOME": str(cwd)}
    env.pop("RUNNER_WORKSPACE", None)
    code = "import sys\nsys.argv = ['runner', *sys.argv[1:]]\nfrom runner.cli.main import main\nmain()"
    return subprocess.run([sys.executable, "-c", code, *args], capture_output=True, text=True,
                          timeout=120, check=False, env=env, cwd=cwd)


@pytest.mark.parametrize("debug", [False, True])
def test_a_logged_warning_prints_as_a_warning_line(tmp_path: Path, debug: bool) -> None:
    ws = Workspace(tmp_path / "ws")
    ws.create_job(JobRecord(name="train-3", status=JobStatus.FAILED,
                            outputs={"o": "azureml://datastores/workspaceblobstore/paths/azureml/train-3/o"}))
    folder = ws.default_datastore_root / "azureml" / "train-3" / "o"
    folder.mkdir(parents=True)
    (folder / "model.pkl").write_bytes(b"w")
    result = _runner(tmp_path, "-w", str(ws.root), *(["--debug"] if debug else []), "model", "create",
                     "--name", "m", "--path", "azureml://jobs/train-3/outputs/o")
    assert result.returncode == 0, result.stderr
    lines = result.stderr.splitlines()
    partial = [line for line in lines if "may be partial" in line]
    assert len(partial) == 1 and partial[0].startswith("warning: job 'train-3' ended Failed"), lines
    assert not [line for line in lines if line.startswith("WARNING")], lines
