"""Jobs on a real 2-node Ray cluster (``compute: azureml:ray``), through the real CLI: data from Azurite
on the worker node, outputs uploaded and registered with lineage, placement by a custom resource, logs
streamed while the job runs, cancel, two jobs at once, a follower that dies, a cluster that vanishes, and
one clear error for each thing that cannot be submitted."""

from __future__ import annotations

import json
import os
import signal
import time
from pathlib import Path
from typing import Any

import pytest
from jobs_support import cli, containers_of, create_azure_datastore, show, spawn, wait_for_status, write_job
from ray_overlap import WAIT_FOR_GO, release_together

from runner.backends.ray_jobs import TERMINAL, RayJobsClient

pytestmark = [pytest.mark.docker, pytest.mark.azure, pytest.mark.ray]

WORKER = "{worker_tag: 1}"
HEAD = "{'node:127.0.0.2': 0.01}"


@pytest.fixture
def ws(workspace_dir: Path, ray_cluster: Any, azure_container: Any, docker_client: Any, tmp_path: Path,
       monkeypatch: pytest.MonkeyPatch) -> Path:
    """A workspace with an Azure datastore ``az`` (a fresh Azurite container) and the compute ``ray``
    (the session's cluster) writing there."""
    monkeypatch.setenv("RUNNER_CANCEL_GRACE_S", "3")
    ray_cluster.wait_idle()
    create_azure_datastore(workspace_dir, tmp_path, azure_container)
    cli(workspace_dir, "compute", "create", "--name", "ray", "--type", "ray",
        "--address", ray_cluster.address, "--datastore", "az", check=True)
    return workspace_dir


def upload(azure_container: Any, blobs: dict[str, bytes]) -> None:
    from azure.storage.blob import BlobServiceClient

    service = BlobServiceClient.from_connection_string(azure_container.azurite.connection_string)
    for name, data in blobs.items():
        service.get_blob_client(azure_container.name, name).upload_blob(data, overwrite=True)


def job_yaml(command: str, *, pin: str = WORKER, extra: str = "") -> str:
    return f"""
        command: {command}
        environment: runner/busybox:latest
        compute: azureml:ray
        resources:
          properties:
            ray: {{resources: {pin}}}
        {extra}
        """


def test_model_inputs_on_the_worker_and_an_output_registered_with_lineage(ws: Path, azure_container: Any,
                                                                           tmp_path: Path) -> None:
    upload(azure_container, {"models/m1/weights.txt": b"w=42\n", "models/m1/sub/conf.txt": b"conf\n"})
    cli(ws, "model", "create", "--name", "base", "--version", "1", "--path",
        "azureml://datastores/az/paths/models/m1", check=True)
    job = write_job(tmp_path, job_yaml(
        "cat ${{inputs.mounted}}/weights.txt ${{inputs.copied}}/sub/conf.txt && "
        "cp ${{inputs.mounted}}/weights.txt ${{outputs.tuned}}/ && echo done > ${{outputs.tuned}}/log.txt",
        extra="""inputs:
          mounted: {type: custom_model, path: azureml:base:1, mode: ro_mount}
          copied: {type: custom_model, path: azureml:base:1, mode: download}
        outputs:
          tuned: {type: custom_model, name: tuned, version: "7"}"""))
    result = cli(ws, "job", "create", "--file", str(job), "--name", "r-lineage", "--stream")
    assert result.returncode == 0, result.stderr
    assert "w=42" in result.stdout and "conf" in result.stdout
    record = show(ws, "r-lineage")
    assert record["status"] == "Completed" and record["exit_code"] == 0
    assert record["extra"]["ray"]["node_ip"] == "127.0.0.3"  # the custom resource placed it on the worker
    assert record["registered_models"] == ["azureml:tuned:7"]
    assert record["outputs"]["artifacts"].startswith("azureml://datastores/az/")
    model = json.loads(cli(ws, "model", "show", "--name", "tuned", "--version", "7", "-o", "json",
                           check=True).stdout)
    assert model["job_name"] == "r-lineage" and model["path"] == "azureml://jobs/r-lineage/outputs/tuned"
    cli(ws, "job", "download", "--name", "r-lineage", "--all", "-p", str(tmp_path / "dl"), check=True)
    assert (tmp_path / "dl/named-outputs/tuned/weights.txt").read_text() == "w=42\n"
    assert "w=42" in (tmp_path / "dl/artifacts/user_logs/std_log.txt").read_text()
    log = (ws / "jobs/r-lineage/user_logs/std_log.txt").read_text()
    assert "Running entrypoint" not in log and "Runtime env is setting up" not in log  # Ray's own lines
    node_log = (ws / "jobs/r-lineage/node_runner.log").read_text()
    assert azure_container.azurite.key not in node_log + log  # the credentials never show


def test_logs_stream_while_it_runs_and_cancel_leaves_no_container(ws: Path, tmp_path: Path,
                                                                  docker_client: Any) -> None:
    job = write_job(tmp_path, job_yaml(
        "trap 'echo stopping; echo partial > ${{outputs.o}}/p.txt; exit 143' TERM; "
        "i=0; while true; do i=$((i+1)); echo tick $i; sleep 0.5; done",
        extra="outputs:\n          o: {type: uri_folder}"))
    name = cli(ws, "job", "create", "--file", str(job), "--name", "r-cancel", check=True).stdout.strip()
    wait_for_status(ws, name, {"Running"})
    log = ws / "jobs" / name / "user_logs" / "std_log.txt"
    deadline = time.monotonic() + 60
    while "tick 3" not in (log.read_text() if log.exists() else ""):
        assert time.monotonic() < deadline, "the log did not grow while the job ran"
        time.sleep(0.2)
    assert show(ws, name)["status"] == "Running"  # streamed while it runs, not after
    streamer = spawn(ws, "job", "stream", "--name", name)
    cancel = cli(ws, "job", "cancel", "--name", name)
    assert cancel.returncode == 0, cancel.stderr
    out, _ = streamer.communicate(timeout=60)
    record = show(ws, name)
    assert record["status"] == "Canceled" and streamer.returncode == 3
    assert "tick 3" in out and "stopping" in out
    assert containers_of(docker_client, name) == []  # on the node: the node's runner removed it
    assert record["outputs_partial"] is True
    cli(ws, "job", "download", "--name", name, "--output-name", "o", "-p", str(tmp_path / "dl"), check=True)
    assert (tmp_path / "dl/named-outputs/o/p.txt").read_text() == "partial\n"


def test_two_jobs_run_at_once_on_the_two_nodes(ws: Path, tmp_path: Path, docker_client: Any) -> None:
    command = f"echo start; {WAIT_FOR_GO}; echo end"  # ends well only once released with the other one
    a = write_job(tmp_path / "a", job_yaml(command, pin=HEAD))
    b = write_job(tmp_path / "b", job_yaml(command, pin=WORKER))
    cli(ws, "job", "create", "--file", str(a), "--name", "r-head", check=True)
    cli(ws, "job", "create", "--file", str(b), "--name", "r-worker", check=True)
    release_together(docker_client, ["r-head", "r-worker"])  # both commands were running at once
    records = [wait_for_status(ws, n, {"Completed", "Failed", "Canceled"}, timeout=180)
               for n in ("r-head", "r-worker")]
    assert [r["status"] for r in records] == ["Completed", "Completed"], [r["error"] for r in records]
    assert {r["extra"]["ray"]["node_ip"] for r in records} == {"127.0.0.2", "127.0.0.3"}


def test_a_follower_that_dies_is_replaced_by_the_next_command(ws: Path, tmp_path: Path) -> None:
    job = write_job(tmp_path, job_yaml("for i in 1 2 3 4 5 6; do echo line $i; sleep 0.5; done"))
    name = cli(ws, "job", "create", "--file", str(job), "--name", "r-follow", check=True).stdout.strip()
    record = wait_for_status(ws, name, {"Running"})
    os.kill(record["runner_pid"], signal.SIGKILL)
    cli(ws, "job", "list", check=True)  # reconciles: the job is not lost, a new follower takes it up
    record = wait_for_status(ws, name, {"Completed", "Failed", "Canceled"}, timeout=120)
    assert record["status"] == "Completed"
    lines = (ws / "jobs" / name / "user_logs/std_log.txt").read_text().splitlines()
    assert lines == [f"line {i}" for i in range(1, 7)]  # nothing lost, nothing twice


def _vanish(ws: Path, name: str) -> None:
    """The cluster of ``name`` disappears: its record now names an address where nothing answers."""
    import sqlite3

    with sqlite3.connect(ws / "runner.db") as conn:
        row = conn.execute("SELECT record FROM jobs WHERE name = ?", (name,)).fetchone()
        data = json.loads(row[0])
        data["extra"]["ray"]["address"] = "http://127.0.0.2:9"
        conn.execute("UPDATE jobs SET record = ? WHERE name = ?", (json.dumps(data), name))


def test_a_cluster_that_disappears_fails_the_job_but_keeps_what_reached_the_node(
        ws: Path, tmp_path: Path, ray_cluster: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("RUNNER_RAY_LOST_S", "1")
    kept_output = "outputs:\n          o: {type: custom_model, name: kept}"
    done = write_job(tmp_path / "done", job_yaml("echo kept > ${{outputs.o}}/k.txt", extra=kept_output))
    slow = write_job(tmp_path / "slow", job_yaml("sleep 30", pin=HEAD))
    cli(ws, "job", "create", "--file", str(slow), "--name", "r-gone", check=True)
    gone_follower = wait_for_status(ws, "r-gone", {"Running"})["runner_pid"]
    # a job the node finished: its result reached the datastore before the cluster went away
    cli(ws, "job", "create", "--file", str(done), "--name", "r-kept", check=True)
    os.kill(show(ws, "r-kept")["runner_pid"], signal.SIGKILL)  # nobody follows it while it runs
    deadline = time.monotonic() + 60  # (no runner command meanwhile: it would start a new follower)
    while not any(p.name == "result.json" for p in _control(ws, "r-kept")):
        assert time.monotonic() < deadline, _why_no_result(ws, ray_cluster, "r-kept")
        time.sleep(0.5)
    os.kill(gone_follower, signal.SIGKILL)
    for name in ("r-gone", "r-kept"):
        _vanish(ws, name)
    try:
        cli(ws, "job", "list", check=True)  # new followers find the cluster gone
        gone = wait_for_status(ws, "r-gone", {"Completed", "Failed", "Canceled"}, timeout=60)
        kept = wait_for_status(ws, "r-kept", {"Completed", "Failed", "Canceled"}, timeout=60)
    finally:  # the real r-gone still runs on the head: stop it, so its container goes too
        RayJobsClient(ray_cluster.address).stop("r-gone")
    assert gone["status"] == "Failed" and "stopped answering" in gone["error"]
    assert kept["status"] == "Completed" and kept["registered_models"] == ["azureml:kept:1"]
    cli(ws, "job", "download", "--name", "r-kept", "--output-name", "o", "-p", str(tmp_path / "dl"),
        check=True)
    assert (tmp_path / "dl/named-outputs/o/k.txt").read_text() == "kept\n"
    deadline = time.monotonic() + 60
    while RayJobsClient(ray_cluster.address).info("r-gone")["status"] not in TERMINAL:
        assert time.monotonic() < deadline, "the stopped job did not end"
        time.sleep(0.5)


def _why_no_result(ws: Path, ray_cluster: Any, name: str) -> str:
    """What Ray and the node say about ``name`` (for the failure message of a job that did not end)."""
    said = f"the node did not record a result for {name}"
    try:
        client = RayJobsClient(ray_cluster.address)
        info = client.info(name) or {}
        node_log = ws / "jobs" / name / "node_runner.log"
        others = {j.get("submission_id"): j.get("status") for j in client.jobs()
                  if j.get("submission_id") != name}
        return (f"{said}: Ray says {info.get('status')} ({info.get('message')!r}); the cluster's other jobs "
                f"{others}; control files {[p.name for p in _control(ws, name)]}; "
                f"Ray's log:\n{client.logs(name)[-3000:]}\n"
                f"node log: {node_log.read_text()[-3000:] if node_log.exists() else '(none here)'}")
    except Exception as exc:  # noqa: BLE001 - the message must survive whatever asking Ray raises
        return f"{said} (asking Ray why failed: {exc})"


def _control(ws: Path, name: str) -> list[Path]:
    """The node's control files of ``name`` on the datastore, listed through runner's own resolver."""
    from runner.workspace.db import Workspace
    from runner.workspace.resolve import Resolver

    resolved = Resolver(Workspace(ws)).resolve_output(
        f"azureml://datastores/az/paths/runner/ray-jobs/{name}", job_name=name, output_name="x")
    try:  # listed afresh: adlfs keeps listings, and one taken between the node's two writes hid the result
        resolved.fs.invalidate_cache(resolved.path)
        return [Path(p) for p in resolved.fs.ls(resolved.path, detail=False)]
    except FileNotFoundError:
        return []


def test_what_cannot_be_submitted_gets_one_clear_error_and_no_record(ws: Path, tmp_path: Path) -> None:
    cli(ws, "compute", "create", "--name", "down", "--address", "http://127.0.0.2:9", "--datastore", "az",
        check=True)
    (tmp_path / "here").mkdir()
    job = write_job(tmp_path, job_yaml("echo hi"))
    cases = {
        "unreachable": (["--set", "compute=azureml:down"], "is not reachable"),
        "missing resource": (["--set", "resources.properties.ray.resources.gpu_tag=1"],
                             "no node of the cluster has the resource 'gpu_tag'"),
        "unplaceable": (["--set", "resources.properties.ray.num_cpus=64"], "CPU=64 (the nodes have"),
        "local data": (["--set", "inputs.d.path=" + str(tmp_path / "here")], "is a path on this machine"),
    }
    for case, (args, expected) in cases.items():
        result = cli(ws, "job", "create", "--file", str(job), "--name", f"r-{case.replace(' ', '-')}", *args)
        assert result.returncode != 0, case
        assert result.stderr.count("error:") == 1 and expected in result.stderr, (case, result.stderr)
        assert "Traceback" not in result.stderr
    assert json.loads(cli(ws, "job", "list", "-o", "json", check=True).stdout) == []


def test_a_compute_that_is_not_registered_runs_here_with_one_line(workspace_dir: Path, tmp_path: Path,
                                                                   docker_client: Any) -> None:
    job = write_job(tmp_path, """
        command: echo here
        environment: runner/busybox:latest
        compute: azureml:cpu-cluster
        """)
    result = cli(workspace_dir, "job", "create", "--file", str(job), "--stream")
    assert result.returncode == 0 and "here" in result.stdout
    notes = [line for line in result.stderr.splitlines() if "cpu-cluster" in line]
    assert len(notes) == 1 and "not registered" in notes[0] and "runs on this machine" in notes[0]
