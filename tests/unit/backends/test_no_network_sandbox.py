"""A container with no network: ``NetworkDisabled`` (no engine network sandbox, no ``libnetwork-setkey``
hook) with the job's own hosts file bound at /etc/hosts; any other network keeps the engine's sandbox."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest

from runner.backends.base import BindMount
from runner.backends.container_args import (
    ETC_HOSTS,
    NO_NETWORK_HOSTS,
    container_args,
    write_hosts_file,
)
from runner.backends.docker import _write_hosts
from runner.errors import BackendError
from runner.modes import AssetType, Direction, Mode, PathKind
from runner.plan.types import Binding, RunPlan

MOUNTS = (BindMount("/ws/jobs/j1/outputs/model", "/mnt/runner/outputs/model", read_only=False),
          BindMount("/ws/jobs/j1/code", "/mnt/runner/code", read_only=False))


def make_plan(*inputs: Binding) -> RunPlan:
    return RunPlan(job_name="j1", image="runner/busybox:latest", build_context=None, dockerfile=None,
                   command="echo hi", host_command="echo hi", env={}, code_dir="/ws/jobs/j1/code",
                   working_dir="/mnt/runner/code", inputs=inputs, outputs=(), literals={}, timeout_s=None)


def direct_input() -> Binding:
    return Binding(name="blob", direction=Direction.INPUT, type=AssetType.URI_FOLDER, mode=Mode.DIRECT,
                   uri="azureml://datastores/blobs/paths/data", kind=PathKind.FOLDER,
                   host_path="/ws/jobs/j1/inputs/blob", container_path="/mnt/runner/inputs/blob",
                   value="abfs://c/data", host_value="abfs://c/data")


def test_no_network_disables_the_sandbox_and_binds_the_hosts_file() -> None:
    args = container_args(make_plan(), MOUNTS, hosts_file="/ws/jobs/j1/etc_hosts")
    assert args["network_mode"] == "none" and args["network_disabled"] is True
    hosts = [m for m in args["mounts"] if m["Target"] == ETC_HOSTS]
    assert len(hosts) == 1 and hosts[0]["Source"] == "/ws/jobs/j1/etc_hosts"
    assert hosts[0]["ReadOnly"] is False and hosts[0]["Type"] == "bind"  # writable, as Docker's own
    assert len(args["mounts"]) == len(MOUNTS) + 1  # the job's binds unchanged


def test_without_a_hosts_file_the_engine_keeps_its_sandbox() -> None:
    args = container_args(make_plan(), MOUNTS)
    assert args["network_mode"] == "none" and "network_disabled" not in args
    assert ETC_HOSTS not in {m["Target"] for m in args["mounts"]}


@pytest.mark.parametrize("network", ["host", "bridge"])
def test_a_network_keeps_the_engines_hosts_file(network: str) -> None:
    args = container_args(make_plan(direct_input()), MOUNTS, network=network,
                          hosts_file="/ws/jobs/j1/etc_hosts")
    assert args["network_mode"] == network and "network_disabled" not in args
    assert ETC_HOSTS not in {m["Target"] for m in args["mounts"]}


def test_the_hosts_file_is_dockers_and_readable_by_every_user(tmp_path: Path) -> None:
    path = tmp_path / "etc_hosts"
    old = os.umask(0o077)
    try:
        write_hosts_file(str(path))
    finally:
        os.umask(old)
    assert path.read_text() == NO_NETWORK_HOSTS
    assert NO_NETWORK_HOSTS.splitlines()[:2] == ["127.0.0.1\tlocalhost",
                                                 "::1\tlocalhost ip6-localhost ip6-loopback"]
    assert stat.S_IMODE(path.stat().st_mode) == 0o644  # a container's other user reads it
    path.write_text("127.0.0.1 left from before\n" * 50)
    write_hosts_file(str(path))  # written over, never appended to
    assert path.read_text() == NO_NETWORK_HOSTS


def test_a_link_at_the_hosts_file_is_not_followed(tmp_path: Path) -> None:
    target = tmp_path / "elsewhere"
    target.write_text("keep\n")
    (tmp_path / "etc_hosts").symlink_to(target)
    with pytest.raises(OSError):
        write_hosts_file(str(tmp_path / "etc_hosts"))
    with pytest.raises(BackendError) as info:  # as the job's run says it: one error, no traceback
        _write_hosts(str(tmp_path / "etc_hosts"))
    assert f"the container's hosts file {tmp_path / 'etc_hosts'} cannot be written" in info.value.message
    assert target.read_text() == "keep\n"


def test_a_relayed_container_joins_the_holder_and_keeps_its_own_hosts_file() -> None:
    """``network_mode: container:<holder>`` (``netns_relay``): the holder's namespace, the sandbox question
    settled by the holder, and the job's own /etc/hosts bound as with no network (the holder has none)."""
    args = container_args(make_plan(direct_input()), MOUNTS, network="container:abc",
                          hosts_file="/ws/jobs/j1/etc_hosts")
    assert args["network_mode"] == "container:abc" and "network_disabled" not in args
    hosts = args["mounts"][-1]
    assert hosts["Target"] == ETC_HOSTS and hosts["Source"] == "/ws/jobs/j1/etc_hosts"
