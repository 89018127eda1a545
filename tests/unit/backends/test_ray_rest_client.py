"""The Ray Jobs REST client's pure parts (resource requests, placement) and its HTTP behaviour against a
real local HTTP server (refused, silent, 404, an error with a traceback body)."""

from __future__ import annotations

import socket
from collections.abc import Iterator
from typing import Any

import pytest
from ray_dashboard_standin import serving

from runner.backends.ray_jobs import (
    RayHttpError,
    RayJobsClient,
    RayUnreachable,
    ResourceRequest,
    parse_size,
    placement_problem,
    request_from,
)
from runner.errors import SpecError

NODES = [
    {"node_ip": "127.0.0.2", "state": "ALIVE", "resources_total": {"CPU": 2.0, "memory": 8 * 2 ** 30,
                                                                    "node:127.0.0.2": 1.0}},
    {"node_ip": "127.0.0.3", "state": "ALIVE", "resources_total": {"CPU": 2.0, "memory": 8 * 2 ** 30,
                                                                    "worker_tag": 1.0, "GPU": 1.0}},
    {"node_ip": "127.0.0.4", "state": "DEAD", "resources_total": {"CPU": 64.0, "big": 1.0}},
]


def test_a_job_reserves_one_cpu_unless_told_otherwise() -> None:
    request = request_from(None, gpu_count=0, docker_cpus=None, docker_memory=None)
    assert request.submit_fields() == {"entrypoint_num_cpus": 1.0}


def test_docker_limits_become_the_reservation_and_properties_win() -> None:
    from_docker = request_from(None, gpu_count=1, docker_cpus=0.5, docker_memory="2g")
    assert from_docker.submit_fields() == {"entrypoint_num_cpus": 0.5, "entrypoint_num_gpus": 1.0,
                                           "entrypoint_memory": 2 * 2 ** 30}
    explicit = request_from({"num_cpus": 2, "memory": "512Mi", "resources": {"worker_tag": 1}}, gpu_count=0,
                            docker_cpus=0.5, docker_memory="2g")
    assert explicit.submit_fields() == {"entrypoint_num_cpus": 2.0, "entrypoint_memory": 512 * 2 ** 20,
                                        "entrypoint_resources": {"worker_tag": 1.0}}


@pytest.mark.parametrize(("props", "gpus", "field"), [
    ({"cpus": 1}, 0, "resources.properties.ray.cpus"),
    ({"resources": {"x": 0}}, 0, "resources.properties.ray.resources"),
    ({"num_cpus": "many"}, 0, "resources.properties.ray.num_cpus"),
    ({"memory": "lots"}, 0, "resources.properties.ray.memory"),
    ({}, -1, "resources.gpu_count"),
])
def test_a_bad_request_names_its_field(props: dict[str, Any], gpus: int, field: str) -> None:
    with pytest.raises(SpecError) as caught:
        request_from(props, gpu_count=gpus, docker_cpus=None, docker_memory=None)
    assert caught.value.field == field


def test_sizes() -> None:
    assert parse_size("2g", field="f") == 2 * 2 ** 30
    assert parse_size("1.5GiB", field="f") == int(1.5 * 2 ** 30)
    assert parse_size(1000, field="f") == 1000


def test_placement_on_one_alive_node() -> None:
    assert placement_problem(ResourceRequest(num_cpus=2, resources={"worker_tag": 1}), NODES) is None
    assert placement_problem(ResourceRequest(num_cpus=1, num_gpus=1), NODES) is None


def test_a_missing_resource_and_a_request_no_node_can_hold_say_which() -> None:
    missing = placement_problem(ResourceRequest(resources={"big": 1}), NODES)  # only on a DEAD node
    assert missing is not None and "no node of the cluster has the resource 'big'" in missing
    assert "worker_tag" in missing  # what the nodes do have
    too_big = placement_problem(ResourceRequest(num_cpus=3), NODES)
    assert too_big is not None and "no single node has CPU=3" in too_big and "127.0.0.3: CPU=2" in too_big
    split = placement_problem(ResourceRequest(num_cpus=1, num_gpus=1, resources={"node:127.0.0.2": 0.01}),
                              NODES)
    assert split is not None and "no single node" in split  # GPU on one node, the pin on the other


class _Handler:
    """What the stand-in dashboard answers: ``routes`` (a path -> status and body), else 404."""
    routes: dict[str, tuple[int, Any]] = {}


@pytest.fixture
def dashboard() -> Iterator[str]:
    with serving(lambda path: _Handler.routes.get(path, (404, "Job nope does not exist"))) as address:
        yield address


def test_client_reads_nodes_and_jobs(dashboard: str) -> None:
    _Handler.routes = {
        "/api/v0/nodes": (200, {"data": {"result": {"result": NODES}}}),
        "/api/jobs/j1": (200, {"status": "RUNNING", "submission_id": "j1"}),
        "/api/jobs/boom": (500, "Traceback (most recent call last):\n  ...\nValueError: Job with "
                                "submission_id boom already exists"),
    }
    client = RayJobsClient(dashboard)
    assert [n["node_ip"] for n in client.nodes()] == ["127.0.0.2", "127.0.0.3"]  # ALIVE only
    assert client.info("j1") == {"status": "RUNNING", "submission_id": "j1"}
    assert client.info("nope") is None
    with pytest.raises(RayHttpError) as caught:
        client.info("boom")
    assert caught.value.status == 500 and caught.value.message.endswith("already exists")


def test_a_refused_and_a_silent_cluster_are_unreachable_with_a_timeout() -> None:
    with socket.socket() as closed:
        closed.bind(("127.0.0.1", 0))
        port = closed.getsockname()[1]
    with pytest.raises(RayUnreachable, match="not reachable"):
        RayJobsClient(f"http://127.0.0.1:{port}").version()
    with socket.socket() as silent:  # accepts, never answers
        silent.bind(("127.0.0.1", 0))
        silent.listen()
        with pytest.raises(RayUnreachable, match="timed out"):
            RayJobsClient(f"http://127.0.0.1:{silent.getsockname()[1]}", timeout=0.5).version()
