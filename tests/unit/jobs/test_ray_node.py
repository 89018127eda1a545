"""The node side of a Ray job, pure parts: the stored plan re-rooted on the node, registrations left to
the submitting side, the GPUs Ray assigned as the container's device ids; the log filter of the follower;
the job package (credentials only inside it); the compute's config and its table."""

from __future__ import annotations

import json
import sqlite3
import zipfile
from dataclasses import replace
from pathlib import Path

import pytest

from runner.backends.container_args import container_args
from runner.errors import SpecError
from runner.jobs.node import exit_code_of, node_plan
from runner.jobs.ray_follow import LogSink
from runner.jobs.ray_package import PAYLOAD, find_job_folder, job_package
from runner.modes import AssetType, Direction, Mode, PathKind
from runner.plan.types import Binding, Resources, RunPlan
from runner.uris import ModelRef
from runner.workspace.computes import ComputeStore, RayCompute, compute_from_dict, load_compute
from runner.workspace.db import Workspace

SUBMIT = "/home/me/ws/jobs/j1"


def plan(**changes: object) -> RunPlan:
    out = Binding("model", Direction.OUTPUT, AssetType.CUSTOM_MODEL, Mode.UPLOAD,
                  "azureml://datastores/az/paths/m", PathKind.ANY, f"{SUBMIT}/outputs/model",
                  "/mnt/runner/outputs/model", "/mnt/runner/outputs/model", f"{SUBMIT}/outputs/model",
                  registered_as=ModelRef("tuned", "1"))
    base = RunPlan(job_name="j1", image="runner/busybox:latest", build_context=None, dockerfile=None,
                   command="echo", host_command=f"ls {SUBMIT}/outputs/model", env={},
                   code_dir=f"{SUBMIT}/code", working_dir="/mnt/runner/code", inputs=(), outputs=(out,),
                   literals={}, timeout_s=None)
    return replace(base, **changes)  # type: ignore[arg-type]


def payload(p: RunPlan) -> dict[str, object]:
    return {"plan": json.loads(json.dumps(p.to_dict())), "submit_job_dir": SUBMIT}


def test_the_plan_is_rerooted_and_its_registrations_stay_on_the_submitting_side(tmp_path: Path) -> None:
    node = node_plan(payload(plan()), tmp_path / "j1", tmp_path / "pkg", {})
    assert node.code_dir == f"{tmp_path}/j1/code"
    assert node.outputs[0].host_path == f"{tmp_path}/j1/outputs/model"
    assert node.host_command == f"ls {tmp_path}/j1/outputs/model"
    assert node.outputs[0].registered_as is None


def test_the_build_context_comes_from_the_package(tmp_path: Path) -> None:
    node = node_plan(payload(plan(build_context="/home/me/env")), tmp_path / "j1", tmp_path / "pkg", {})
    assert node.build_context == str(tmp_path / "pkg" / "build")


def test_the_gpus_ray_assigned_become_the_containers_device_ids(tmp_path: Path) -> None:
    asked = plan(resources=Resources(gpu_count=2))
    node = node_plan(payload(asked), tmp_path / "j1", tmp_path / "pkg", {"CUDA_VISIBLE_DEVICES": "1,3"})
    assert node.resources.gpu_ids == ("1", "3")
    request = container_args(node, [])["device_requests"][0]
    assert request["DeviceIDs"] == ["1", "3"] and not request.get("Count")
    plain = container_args(node_plan(payload(asked), tmp_path / "j1", tmp_path / "pkg", {}), [])
    assert plain["device_requests"][0]["Count"] == 2  # no assignment known: any two
    none = node_plan(payload(plan()), tmp_path / "j1", tmp_path / "pkg", {"CUDA_VISIBLE_DEVICES": "0"})
    assert none.resources.gpu_ids == () and "device_requests" not in container_args(none, [])


@pytest.mark.parametrize(("result", "code"), [({"status": "Completed"}, 0), ({"status": "Canceled"}, 143),
                                              ({"status": "Failed", "exit_code": 3}, 3),
                                              ({"status": "Failed", "exit_code": 0}, 1)])
def test_the_entrypoints_exit_code_is_the_jobs(result: dict[str, object], code: int) -> None:
    assert exit_code_of(result) == code


def test_the_log_sink_drops_rays_own_lines_and_resumes_where_it_stopped(tmp_path: Path) -> None:
    log, offset = tmp_path / "std_log.txt", tmp_path / "offset"
    echoed: list[bytes] = []
    sink = LogSink(log, offset, echoed.append)
    ray_log = (b"2026-12-05 01:13:20,212\tINFO job_manager.py:581 -- Runtime env is setting up.\n"
               b"first\nRunning entrypoint for job j1: python -m runner.jobs.node x\nsecond\npart")
    sink.feed(ray_log[:30])
    sink.feed(ray_log[30:])
    assert log.read_bytes() == b"first\nsecond\n" and b"".join(echoed) == b"first\nsecond\n"
    resumed = LogSink(log, offset, None)  # a new follower: the unfinished line is read again
    resumed.catch_up(ray_log + b"ial\n")
    resumed.close()
    assert log.read_bytes() == b"first\nsecond\npartial\n"


def test_a_follower_killed_between_the_log_and_its_offset_writes_no_line_twice(tmp_path: Path) -> None:
    """A follower appends to the job's log, then records how far it got; one killed in between left
    lines the next follower reads again from Ray's log: they are in the job's log once."""
    log, offset = tmp_path / "std_log.txt", tmp_path / "offset"
    ray_log = b"line 1\nline 2\nline 3\n"
    first = LogSink(log, offset, None)
    first.feed(ray_log[:7])  # "line 1\n", committed
    with log.open("ab") as sink:  # the next write landed, then the follower was killed
        sink.write(b"line 2\n")
    resumed = LogSink(log, offset, None)
    resumed.catch_up(ray_log)
    resumed.close()
    assert log.read_bytes() == ray_log
    assert offset.read_text().split() == [str(len(ray_log)), str(len(ray_log))]
    again = LogSink(log, offset, None)  # nothing new: nothing written, nothing skipped
    again.catch_up(ray_log)
    assert log.read_bytes() == ray_log


def test_an_offset_written_by_an_older_runner_is_read(tmp_path: Path) -> None:
    log, offset = tmp_path / "std_log.txt", tmp_path / "offset"
    log.write_bytes(b"line 1\n")
    offset.write_text("7")
    sink = LogSink(log, offset, None)
    sink.catch_up(b"line 1\nline 2\n")
    assert log.read_bytes() == b"line 1\nline 2\n"


def test_the_job_package_holds_payload_code_and_build(tmp_path: Path) -> None:
    code = tmp_path / "code"
    (code / "pkg").mkdir(parents=True)
    (code / "pkg" / "train.py").write_text("print(1)\n")
    (code / "__pycache__").mkdir()
    (code / "__pycache__" / "x.pyc").write_bytes(b"junk")
    name, top, path = job_package(tmp_path, {"secret": "s3cr3t"}, code=code, build=None)
    assert name.startswith("_ray_pkg_") and name.endswith(".zip") and "s3cr3t" not in name + top
    assert path.stat().st_mode & 0o777 == 0o600  # credentials inside: owner-only
    with zipfile.ZipFile(path) as archive:
        assert sorted(archive.namelist()) == sorted([f"{top}/{PAYLOAD}", f"{top}/code/pkg/train.py"])
        archive.extractall(tmp_path / "extracted")
    assert find_job_folder(top, ["", str(tmp_path / "nowhere"), str(tmp_path / "extracted")]) == (
        tmp_path / "extracted" / top)


def test_compute_config_and_its_errors(tmp_path: Path) -> None:
    good = tmp_path / "c.yml"
    good.write_text("name: gpu\ntype: ray\naddress: http://10.0.0.5:8265/\ndatastore: az\n")
    compute = load_compute(good)
    assert (compute.address, compute.datastore, compute.ship_runner) == ("http://10.0.0.5:8265", "az", True)
    for text, field in (("name: x\ntype: kubernetes\naddress: http://h:1\n", "type"),
                        ("name: x\naddress: 10.0.0.5:8265\n", "address"),
                        ("name: x\naddress: http://h:1\nsize: big\n", "size"),
                        ("name: x\n", "address")):
        bad = tmp_path / "bad.yml"
        bad.write_text(text)
        with pytest.raises(SpecError) as caught:
            load_compute(bad)
        assert caught.value.field == field and caught.value.where is not None


def test_computes_live_in_an_additive_table(tmp_path: Path) -> None:
    ws = Workspace(tmp_path / "ws")
    store = ComputeStore(ws)
    store.save(RayCompute(name="ray", address="http://127.0.0.2:8265"))
    assert store.get("ray").address == "http://127.0.0.2:8265" and store.names() == ["ray"]
    store.save(compute_from_dict({"name": "ray", "address": "http://127.0.0.2:9999"}))
    assert store.get("ray").address == "http://127.0.0.2:9999"
    store.delete("ray")
    assert store.find("ray") is None
    # a workspace made before the table existed (schema 2) gains it when opened
    old = tmp_path / "old"
    Workspace(old)
    with sqlite3.connect(old / "runner.db") as conn:
        conn.execute("DROP TABLE computes")
        conn.execute("PRAGMA user_version=2")
    ComputeStore(Workspace(old)).save(RayCompute(name="c", address="http://h:1"))
