"""A job on a real Ray cluster whose output holds what no output can keep (a FIFO): runner on the node
leaves it out of the upload and records why, and the record on the submitting side holds the plan's
warnings first, then the node's, each once (``runner job show`` lists them, one row each). Everything in
the test's throwaway workspace and Azurite container; the FIFO is never opened."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from jobs_support import cli, create_azure_datastore, show, write_job

pytestmark = [pytest.mark.docker, pytest.mark.azure, pytest.mark.ray]


@pytest.fixture
def ws(workspace_dir: Path, ray_cluster: Any, azure_container: Any, docker_client: Any,
       tmp_path: Path) -> Path:
    """A workspace with an Azure datastore ``az`` and the compute ``ray`` (the session's cluster)."""
    ray_cluster.wait_idle()
    create_azure_datastore(workspace_dir, tmp_path, azure_container)
    cli(workspace_dir, "compute", "create", "--name", "ray", "--type", "ray",
        "--address", ray_cluster.address, "--datastore", "az", check=True)
    return workspace_dir


def test_the_nodes_output_warnings_follow_the_plans_in_the_record(ws: Path, tmp_path: Path) -> None:
    job = write_job(tmp_path, """
        command: mkfifo ${{outputs.u}}/fifo && echo ok > ${{outputs.u}}/ok.txt
        environment: runner/busybox:latest
        compute: azureml:ray
        outputs:
          u: {type: uri_folder, mode: upload, path: "azureml://datastores/az/paths/warned/u"}
        environment_variables: {WHERE: "${{outputs.u}}"}
        resources:
          properties:
            ray: {resources: {worker_tag: 1}}
        """)
    result = cli(ws, "job", "create", "--file", str(job), "--name", "r-warned", "--stream")
    assert result.returncode == 0, result.stdout + result.stderr
    record = show(ws, "r-warned")
    assert record["status"] == "Completed"
    plan_warnings = record["extra"]["plan"]["warnings"]
    assert any("environment_variables.WHERE contains" in w for w in plan_warnings)
    *first, node = record["extra"]["warnings"]
    assert first == plan_warnings and node.startswith("outputs.u: 1 entry not uploaded: fifo (a FIFO)")
    table = cli(ws, "job", "show", "--name", "r-warned", check=True).stdout.splitlines()
    rows = [line.split(None, 1)[1] for line in table if line.split()[:1] == ["warning"]]
    assert rows == record["extra"]["warnings"]
