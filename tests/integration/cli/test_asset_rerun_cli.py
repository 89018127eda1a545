"""A CI script run twice: ``runner model create`` / ``runner data create`` of an existing version with the
same local content succeed (as ``az ml`` does), other content is one error naming the differing file; a
model's stage is updated with ``--set stage=...`` and ``model list --stage`` sees it. Real processes."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path


def runner(*args: str, ws: Path, cwd: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "RUNNER_WORKSPACE": str(ws)}
    return subprocess.run([sys.executable, "-m", "runner", *args], capture_output=True, text=True, env=env,
                          cwd=cwd, timeout=240)


def test_ci_rerun_registers_the_same_versions_again(tmp_path: Path) -> None:
    ws = tmp_path / "ws"
    (tmp_path / "mlflow-model").mkdir()
    (tmp_path / "mlflow-model" / "model.pkl").write_bytes(b"weights")
    (tmp_path / "data").mkdir()
    (tmp_path / "data" / "rows.csv").write_text("a,b\n1,2\n")
    model = ("model", "create", "--name", "intv", "--version", "3", "--path", "mlflow-model/model.pkl")
    data = ("data", "create", "--name", "dd", "--version", "1", "--path", "data")
    for run in range(2):
        made = runner(*model, "--description", f"run {run}", ws=ws, cwd=tmp_path)
        assert made.returncode == 0, made.stderr
        assert json.loads(made.stdout)["description"] == f"run {run}"
        made = runner(*data, ws=ws, cwd=tmp_path)
        assert made.returncode == 0, made.stderr
    (tmp_path / "data" / "rows.csv").write_text("a,b\n1,3\n")
    refused = runner(*data, ws=ws, cwd=tmp_path)
    assert refused.returncode == 1 and "Asset paths cannot be updated" in refused.stderr
    assert "rows.csv" in refused.stderr and "Traceback" not in refused.stderr


def test_stage_is_updated_and_listed(tmp_path: Path) -> None:
    ws = tmp_path / "ws"
    (tmp_path / "model.pkl").write_bytes(b"w")
    assert runner("model", "create", "--name", "m1", "--version", "1", "--path", "model.pkl", ws=ws,
                  cwd=tmp_path).returncode == 0
    updated = runner("model", "update", "--name", "m1", "--version", "1", "--set", "stage=Production",
                     ws=ws, cwd=tmp_path)
    assert updated.returncode == 0, updated.stderr
    assert json.loads(updated.stdout)["stage"] == "Production"
    listed = runner("model", "list", "--stage", "Production", "-o", "json", ws=ws, cwd=tmp_path)
    assert listed.returncode == 0, listed.stderr
    assert [(m["name"], m["stage"]) for m in json.loads(listed.stdout)] == [("m1", "Production")]
    listed = runner("model", "list", "--stage", "Staging", "-o", "json", ws=ws, cwd=tmp_path)
    assert listed.returncode == 0 and json.loads(listed.stdout) == []
