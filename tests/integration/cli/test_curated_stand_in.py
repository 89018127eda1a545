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
