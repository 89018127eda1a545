"""container_args: a RunPlan + bind mounts -> docker-py create kwargs, with no daemon."""

from __future__ import annotations

import os
from dataclasses import replace
from pathlib import Path

import pytest
from docker.types import DeviceRequest, Mount, Ulimit

from runner.backends.base import JOB_LABEL, BindMount, PreparedImage, RunSpec
from runner.backends.container_args import RELAYED, choose_network, container_args
from runner.backends.docker import context_hash
from runner.backends.docker_args import parse_docker_args
from runner.backends.process import host_env, host_path_pairs, substitute_paths
from runner.errors import SpecError
from runner.modes import AssetType, Direction, Mode, PathKind
from runner.plan.network import needs_network, plan_network, store_endpoints
from runner.plan.types import Binding, Resources, RunPlan


def binding(name: str, direction: Direction, mode: Mode, value: str | None = None) -> Binding:
    kind = "inputs" if direction is Direction.INPUT else "outputs"
    container = f"/mnt/runner/{kind}/{name}"
    return Binding(name=name, direction=direction, type=AssetType.URI_FOLDER, mode=mode,
                   uri=f"azureml://datastores/workspaceblobstore/paths/{name}", kind=PathKind.FOLDER,
                   host_path=f"/ws/jobs/j1/{kind}/{name}", container_path=container,
                   value=value or container, host_value=f"/ws/jobs/j1/{kind}/{name}")


def make_plan(**changes: object) -> RunPlan:
    plan = RunPlan(
        job_name="j1", image="runner/busybox:latest", build_context=None, dockerfile=None,
        command="cat ${AZURE_ML_INPUT_data}", host_command="cat ${AZURE_ML_INPUT_data}",
        env={"AZURE_ML_INPUT_data": "/mnt/runner/inputs/data", "GREETING": "hi"},
        code_dir="/ws/jobs/j1/code", working_dir="/mnt/runner/code",
        inputs=(binding("data", Direction.INPUT, Mode.RO_MOUNT),),
        outputs=(binding("model", Direction.OUTPUT, Mode.UPLOAD),),
        literals={}, timeout_s=None)
    return replace(plan, **changes)  # type: ignore[arg-type]


MOUNTS = (BindMount("/ws/jobs/j1/inputs/data", "/mnt/runner/inputs/data", read_only=True),
          BindMount("/ws/jobs/j1/outputs/model", "/mnt/runner/outputs/model", read_only=False),
          BindMount("/ws/jobs/j1/code", "/mnt/runner/code", read_only=False))


def test_basic_arguments() -> None:
    image = PreparedImage(name="runner/busybox:latest", id="sha256:abc", shell="/bin/sh")
    args = container_args(make_plan(), MOUNTS, image=image, env={"MLFLOW_RUN_ID": "j1"},
                          labels={"runner.workspace": "/ws"})
    assert args["image"] == "sha256:abc"
    # the shell runs the command with its stderr on its stdout (one pipe: the log keeps their order)
    assert args["entrypoint"] == ["/bin/sh", "-c", 'exec "$0" -c "$1" 2>&1', "/bin/sh"]
    assert args["command"] == ["cat ${AZURE_ML_INPUT_data}"]
    assert args["working_dir"] == "/mnt/runner/code"
    assert args["environment"] == {"AZURE_ML_INPUT_data": "/mnt/runner/inputs/data", "GREETING": "hi",
                                   "MLFLOW_RUN_ID": "j1"}
    assert args["labels"] == {JOB_LABEL: "j1", "runner.workspace": "/ws"}
    assert args["network_mode"] == "none"
    assert "device_requests" not in args and "shm_size" not in args


def test_mounts_are_typed_and_inputs_read_only() -> None:
    mounts = container_args(make_plan(), MOUNTS)["mounts"]
    assert all(isinstance(m, Mount) for m in mounts)
    by_target = {m["Target"]: m for m in mounts}
    assert by_target["/mnt/runner/inputs/data"]["ReadOnly"] is True
    assert by_target["/mnt/runner/inputs/data"]["Source"] == "/ws/jobs/j1/inputs/data"
    assert by_target["/mnt/runner/outputs/model"]["ReadOnly"] is False
    assert {m["Type"] for m in mounts} == {"bind"}


def test_bash_by_default_without_a_detected_shell() -> None:
    assert container_args(make_plan(), ())["entrypoint"][:2] == ["/bin/bash", "-c"]


def test_direct_remote_binding_uses_host_network() -> None:
    direct = binding("blob", Direction.INPUT, Mode.DIRECT, value="abfs://c/data")
    plan = make_plan(inputs=(direct,))
    assert needs_network(plan)
    assert container_args(plan, ())["network_mode"] == "host"


def test_direct_uses_the_default_network_unless_its_stores_are_on_loopback() -> None:
    blob = (binding("blob", Direction.INPUT, Mode.DIRECT, value="abfs://c/data"),)
    azurite = make_plan(inputs=blob, store_endpoints=("127.0.0.1:10000",))  # its datastore's endpoint
    public = make_plan(inputs=blob, store_endpoints=("acct.blob.core.windows.net:443",))
    for default in ("bridge", None):  # never the host's network: only the stores' endpoints, relayed
        network, why = choose_network(plan_network(azurite), default)
        assert network == RELAYED and why.startswith("relayed to 127.0.0.1:10000 only: ")
    # a pure call with no relay given gives no network at all, never the host's
    assert container_args(azurite, ())["network_mode"] == "none"
    # the credentials the job gets (its env) name no endpoint the plan does not: they choose nothing
    connection = {"AZURE_STORAGE_CONNECTION_STRING": "BlobEndpoint=http://127.0.0.1:10000/a;"}
    assert container_args(public, (), env=connection)["network_mode"] == "host"
    assert choose_network(plan_network(public), "bridge") == (
        "bridge", "the engine's default network (bridge) for direct bindings")
    network, why = choose_network(plan_network(public), None)
    assert network == "host" and "no default network" in why
    assert choose_network(plan_network(make_plan()), "bridge") == (  # no direct binding: no network
        "none", "none: no binding needs one")


def test_store_endpoints_and_which_stores_are_relayed() -> None:
    blob = (binding("blob", Direction.INPUT, Mode.DIRECT, value="abfs://c/data"),
            binding("web", Direction.INPUT, Mode.DIRECT, value="https://LOCALHOST/x"))
    plan = make_plan(inputs=blob, store_endpoints=("127.0.0.1:10000", "[::1]:8080"))
    assert store_endpoints(plan) == [("127.0.0.1", 10000), ("::1", 8080), ("localhost", 443)]
    assert choose_network(plan_network(plan), None)[1].startswith(
        "relayed to 127.0.0.1:10000, [::1]:8080, localhost:443 only: ")
    # a store off this machine beside one on loopback: today's network (the relay would cut it off)
    mixed = replace(plan, store_endpoints=("127.0.0.1:10000", "acct.blob.example:443"))
    assert plan_network(mixed).kind == "default"
    assert choose_network(plan_network(mixed), "bridge")[0] == "bridge"
    # an http(s) URL of a direct binding is an endpoint too
    url = make_plan(inputs=(binding("u", Direction.INPUT, Mode.DIRECT, value="http://127.0.0.2:9/f"),))
    assert choose_network(plan_network(url), None) == (
        RELAYED, "relayed to 127.0.0.2:9 only: a direct binding's store is on loopback; the container has no "
                 "other network")


def test_direct_local_binding_keeps_network_off() -> None:
    direct = binding("local", Direction.INPUT, Mode.DIRECT, value="/ws/datastores/x/data")
    assert container_args(make_plan(inputs=(direct,)), ())["network_mode"] == "none"


@pytest.mark.parametrize(("count", "expected"), [(1, 1), (2, 2), (-1, -1)])
def test_gpu_device_requests_from_plan(count: int, expected: int) -> None:
    plan = make_plan(resources=Resources(gpu_count=count))
    requests = container_args(plan, ())["device_requests"]
    assert len(requests) == 1 and isinstance(requests[0], DeviceRequest)
    assert requests[0]["Count"] == expected
    assert requests[0]["Capabilities"] == [["gpu"]]


def test_shm_size_and_docker_args_with_the_unsafe_opt_in() -> None:
    plan = make_plan(resources=Resources(shm_size="2g", docker_args=(
        "--ipc=host --ulimit memlock=-1:-1", "--cap-add SYS_PTRACE", "-e EXTRA=1", "--gpus all"),
        unsafe_docker_args=True))
    args = container_args(plan, ())
    assert args["shm_size"] == "2g"
    assert args["ipc_mode"] == "host"
    assert args["cap_add"] == ["SYS_PTRACE"]
    assert args["environment"]["EXTRA"] == "1"
    ulimit = args["ulimits"][0]
    assert isinstance(ulimit, Ulimit) and (ulimit.name, ulimit.soft, ulimit.hard) == ("memlock", -1, -1)
    assert args["device_requests"][0]["Count"] == -1


def test_docker_args_resources() -> None:
    kw = parse_docker_args(["--cpus=1.5 --memory 2g --pids-limit 100 --user 1000:1000 --init --rm"])
    assert kw == {"nano_cpus": 1_500_000_000, "mem_limit": "2g", "pids_limit": 100,
                  "user": "1000:1000", "init": True}


@pytest.mark.parametrize("bad", ["--network host", "-v /:/host", "--mount type=bind,src=/,dst=/h"])
def test_networks_and_mounts_are_never_accepted(bad: str) -> None:
    for allow_unsafe in (False, True):
        with pytest.raises(SpecError) as info:
            parse_docker_args([bad], allow_unsafe=allow_unsafe)
        assert info.value.field == "resources.docker_args"
        assert "not supported (runner chooses the network and binds exactly" in info.value.message
        assert "--ipc" in (info.value.hint or "")


@pytest.mark.parametrize("bad", ["--privileged", "--cap-add SYS_ADMIN", "--cap-add=ALL", "--ipc=host",
                                 "--security-opt apparmor=unconfined", "--device /dev/sda",
                                 "--pid host", "--userns=host", "--uts host"])
def test_options_that_weaken_isolation_need_the_opt_in(bad: str) -> None:
    with pytest.raises(SpecError) as info:
        parse_docker_args([bad])
    assert info.value.field == "resources.docker_args"
    assert "could weaken the container's isolation" in info.value.message
    assert "--allow-unsafe-docker-args" in (info.value.hint or "")
    assert parse_docker_args([bad], allow_unsafe=True)  # accepted when asked for


def test_safe_ipc_modes_need_no_opt_in() -> None:
    assert parse_docker_args(["--ipc=private"]) == {"ipc_mode": "private"}
    assert parse_docker_args(["--ipc shareable"]) == {"ipc_mode": "shareable"}


def test_docker_arg_missing_value() -> None:
    with pytest.raises(SpecError, match="needs a value"):
        parse_docker_args(["--ulimit"])


def test_bad_ulimit_refused() -> None:
    with pytest.raises(SpecError, match="name=soft"):
        parse_docker_args(["--ulimit nofile=lots"])


def test_context_hash_changes_with_content(tmp_path: Path) -> None:
    (tmp_path / "Dockerfile").write_text("FROM runner/busybox:latest\n")
    first = context_hash(tmp_path, None)
    assert context_hash(tmp_path, None) == first
    (tmp_path / "extra.txt").write_text("x")
    assert context_hash(tmp_path, None) != first
    assert context_hash(tmp_path, "Other.dockerfile") != context_hash(tmp_path, None)


def test_process_env_uses_host_paths() -> None:
    env = host_env(RunSpec(plan=make_plan(), mounts=(), env={"MLFLOW_RUN_ID": "j1"}))
    assert env["AZURE_ML_INPUT_data"] == "/ws/jobs/j1/inputs/data"
    assert env["GREETING"] == "hi" and env["MLFLOW_RUN_ID"] == "j1"
    assert env["PATH"] == os.environ["PATH"]


def test_process_paths_point_where_the_data_is(tmp_path: Path) -> None:
    data = tmp_path / "datastore" / "data"
    data.mkdir(parents=True)
    plan = make_plan(host_command="ls /ws/jobs/j1/inputs/data/sub /ws/jobs/j1/inputs/data2",
                     env={"AZURE_ML_INPUT_data": "/mnt/runner/inputs/data"})
    spec = RunSpec(plan=plan, mounts=(), host_paths={"inputs/data": str(data)})
    pairs = host_path_pairs(spec)
    assert pairs == [("/ws/jobs/j1/inputs/data", str(data))]
    assert substitute_paths(plan.host_command, pairs) == f"ls {data}/sub /ws/jobs/j1/inputs/data2"
    assert host_env(spec)["AZURE_ML_INPUT_data"] == str(data)


def test_process_paths_of_an_input_and_an_output_that_share_a_name(tmp_path: Path) -> None:
    read, write = tmp_path / "store" / "in", tmp_path / "store" / "out"
    read.mkdir(parents=True)
    write.mkdir(parents=True)
    plan = make_plan(inputs=(binding("x", Direction.INPUT, Mode.RO_MOUNT),),
                     outputs=(binding("x", Direction.OUTPUT, Mode.RW_MOUNT),),
                     host_command="cp /ws/jobs/j1/inputs/x/a /ws/jobs/j1/outputs/x/a")
    spec = RunSpec(plan=plan, mounts=(), host_paths={"inputs/x": str(read), "outputs/x": str(write)})
    pairs = host_path_pairs(spec)
    assert sorted(pairs) == [("/ws/jobs/j1/inputs/x", str(read)), ("/ws/jobs/j1/outputs/x", str(write))]
    assert substitute_paths(plan.host_command, pairs) == f"cp {read}/a {write}/a"


@pytest.mark.parametrize("value", ["/mnt/runner/outputs/o", "/mnt/runner/code/outputs", "/mnt/runner",
                                   "/mnt/runner/", "/mnt/./runner/inputs/x:size=1m", "//mnt/runner/mlruns",
                                   "/mnt/other/../runner/artifacts", "relative/path"])
def test_a_tmpfs_over_what_runner_binds_is_refused(value: str) -> None:
    with pytest.raises(SpecError) as info:
        parse_docker_args([f"--tmpfs {value}"])
    assert info.value.field == "resources.docker_args" and info.value.hint
    assert "/mnt/runner" in info.value.render() or "absolute" in info.value.message


def test_a_tmpfs_elsewhere_is_accepted() -> None:
    assert parse_docker_args(["--tmpfs /scratch:size=64m", "--tmpfs=/mnt/runner2"])["tmpfs"] == {
        "/scratch": "size=64m", "/mnt/runner2": ""}
