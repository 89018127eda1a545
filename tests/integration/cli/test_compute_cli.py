"""`runner compute create/list/show/delete` and ``ml_client.compute`` (no cluster needed: a compute whose
address does not answer is shown as unreachable)."""

from __future__ import annotations

import json
from pathlib import Path

from jobs_support import cli, write_job

from runner import MLClient
from runner.workspace.computes import RayCompute


def test_compute_lifecycle_from_flags_and_file(workspace_dir: Path, tmp_path: Path) -> None:
    created = cli(workspace_dir, "compute", "create", "--name", "ray", "--type", "ray",
                  "--address", "http://127.0.0.2:9/", check=True)
    assert json.loads(created.stdout)["address"] == "http://127.0.0.2:9"
    spec = write_job(tmp_path, """
        $schema: https://azuremlschemas.azureedge.net/latest/compute.schema.json
        name: gpu
        type: ray
        address: http://10.0.0.5:8265
        datastore: blob
        description: the team's nodes
        """, name="compute.yml")
    cli(workspace_dir, "compute", "create", "--file", str(spec), check=True)
    listed = json.loads(cli(workspace_dir, "compute", "list", "-o", "json", check=True).stdout)
    assert [(c["name"], c["datastore"]) for c in listed] == [("gpu", "blob"), ("ray", "workspaceblobstore")]
    shown = json.loads(cli(workspace_dir, "compute", "show", "--name", "ray", "-o", "json",
                           check=True).stdout)
    assert shown["state"] == "unreachable" and "not reachable" in shown["error"]
    cli(workspace_dir, "compute", "delete", "--name", "ray", check=True)
    missing = cli(workspace_dir, "compute", "show", "--name", "ray")
    assert missing.returncode != 0 and "unknown compute 'ray'" in missing.stderr and "gpu" in missing.stderr


def test_a_bad_compute_gets_one_clear_error(workspace_dir: Path, tmp_path: Path) -> None:
    for args, expected in ((["--name", "x", "--address", "10.0.0.5:8265"], "is not http://"),
                           (["--name", "x", "--type", "amlcompute", "--address", "http://h:1"],
                            "unknown compute type 'amlcompute'"),
                           (["--name", "x y", "--address", "http://h:1"], "invalid compute name")):
        result = cli(workspace_dir, "compute", "create", *args)
        assert result.returncode == 2 and result.stderr.count("error:") == 1, result.stderr
        assert expected in result.stderr and "Traceback" not in result.stderr


def test_ml_client_compute(workspace_dir: Path) -> None:
    ml_client = MLClient(workspace_dir=workspace_dir)
    made = ml_client.compute.begin_create_or_update(
        RayCompute(name="ray", address="http://127.0.0.2:9")).result()
    assert made.name == "ray" and [c.name for c in ml_client.compute.list()] == ["ray"]
    assert ml_client.compute.get("ray").address == "http://127.0.0.2:9"
    ml_client.compute.begin_delete("ray").result()
    assert list(ml_client.compute.list()) == []
