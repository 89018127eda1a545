"""A curated environment that the provisioned image stands in for, with another scikit-learn than the
curated one (``sklearn-1.0`` runs on scikit-learn 1.5), is named in the plan's and the record's warnings."""

from __future__ import annotations

import json
from pathlib import Path

from jobs_support import cli, write_job


def test_an_older_curated_environment_is_warned_about(workspace_dir: Path, tmp_path: Path) -> None:
    job = write_job(tmp_path, "command: echo hi\nenvironment: azureml:sklearn-1.0:1\n")
    result = cli(workspace_dir, "job", "validate", "--file", str(job), "-o", "json")
    assert result.returncode == 0, result.stderr
    warnings = json.loads(result.stdout)["warnings"]
    assert any("sklearn-1.0" in w and "runner/python:3.11" in w and "scikit-learn 1.5" in w
               for w in warnings), warnings
    current = write_job(tmp_path, "command: echo hi\nenvironment: azureml:sklearn-1.5:1\n", name="cur.yml")
    plan = json.loads(cli(workspace_dir, "job", "validate", "--file", str(current), "-o", "json").stdout)
    assert not any("stands in" in w for w in plan["warnings"])


def test_job_create_prints_the_plan_warnings_once_before_the_log(workspace_dir: Path, tmp_path: Path) -> None:
    """``job create`` says what ``job validate`` says: every warning of the plan (the stand-in image, the
    ignored compute), once each, on stderr, before the job's log; with ``-o json`` stdout is the record."""
    job = write_job(tmp_path, "command: echo job-log-line\nenvironment: azureml:sklearn-1.0:1\n"
                              "compute: azureml:gpu-cluster\n")
    plan = json.loads(cli(workspace_dir, "job", "validate", "--file", str(job), "-o", "json").stdout)
    warnings = plan["warnings"]
    assert any("stands in" in w for w in warnings) and any("gpu-cluster" in w for w in warnings)
    for output in ("json", "table"):
        result = cli(workspace_dir, "job", "create", "--file", str(job), "--stream", "--backend", "process",
                     "-o", output)
        assert result.returncode == 0, result.stderr
        warned = [line for line in result.stderr.splitlines() if line.startswith("warning: ")]
        assert warned == [f"warning: {w}" for w in plan["warnings"]], (warned, plan["warnings"])
        if output == "json":
            assert json.loads(result.stdout)["status"] == "Completed"
            assert result.stderr.index("stands in") < result.stderr.index("job-log-line")
        else:
            assert "job-log-line" in result.stdout
