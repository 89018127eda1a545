"""A Ray cluster's Jobs REST API (its dashboard, ``http://<head>:8265``) with the standard library only.

    client = RayJobsClient("http://127.0.0.2:8265")
    client.version(); client.nodes()                       # both raise one clear BackendError when down
    problem = placement_problem(ResourceRequest(num_cpus=1, resources={"worker_tag": 1}), client.nodes())
    client.upload_package(name, zip_path); client.submit(entrypoint, submission_id="job-1", ...)
    client.info("job-1")["status"]; client.logs("job-1"); client.stop("job-1")

Why REST and not ``ray.job_submission.JobSubmissionClient``: importing it costs ~0.5 s and ~900 modules
(the submitting side needs no ray at all), and it sets no timeout, so a cluster that accepts a connection
and never answers hangs it for minutes; every call here has one. Endpoints and their behaviour were
measured against Ray 2.60 (docs/guides/ray.md). Storage-free: no workspace, no job records.
"""

from __future__ import annotations

import contextlib
import http.client
import json
import logging
import os
import re
import socket
import threading
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

from runner.errors import BackendError, SpecError

log = logging.getLogger(__name__)

TERMINAL = ("SUCCEEDED", "FAILED", "STOPPED")
TIMEOUT_S = 10.0
MAX_UPLOAD_BYTES = 100 * 1024 * 1024  # the dashboard's hard-coded request limit (HTTP 413 above it)
_SIZE = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([kmgt]?)(i?b?)\s*$", re.IGNORECASE)
_UNITS = {"": 1, "k": 1024, "m": 1024 ** 2, "g": 1024 ** 3, "t": 1024 ** 4}


class RayHttpError(BackendError):
    """The dashboard answered with an HTTP error (``status``)."""

    def __init__(self, message: str, *, status: int, hint: str | None = None) -> None:
        super().__init__(message, hint=hint)
        self.status = status


class RayUnreachable(BackendError):
    """The dashboard did not answer (refused, timed out, reset)."""


@dataclass(frozen=True)
class ResourceRequest:
    """What a job's entrypoint reserves on one node (Ray's ``entrypoint_*`` fields)."""

    num_cpus: float = 1.0
    num_gpus: float = 0.0
    memory: int = 0  # bytes
    resources: Mapping[str, float] = field(default_factory=dict)

    def as_totals(self) -> dict[str, float]:
        """Resource name -> amount, as the nodes' ``resources_total`` spell them."""
        totals = dict(self.resources)
        for name, amount in (("CPU", self.num_cpus), ("GPU", self.num_gpus), ("memory", self.memory)):
            if amount:
                totals[name] = totals.get(name, 0) + amount
        return totals

    def submit_fields(self) -> dict[str, Any]:
        fields: dict[str, Any] = {"entrypoint_num_cpus": self.num_cpus}
        if self.num_gpus:
            fields["entrypoint_num_gpus"] = self.num_gpus
        if self.memory:
            fields["entrypoint_memory"] = self.memory
        if self.resources:
            fields["entrypoint_resources"] = dict(self.resources)
        return fields


def parse_size(value: str | int | float, *, field: str) -> int:
    """``2g`` / ``512Mi`` / ``1.5GB`` / ``1000000`` -> bytes (binary units, as docker's ``--memory``)."""
    if isinstance(value, int | float):
        return int(value)
    match = _SIZE.match(str(value))
    if not match:
        raise SpecError(f"'{value}' is not a size", field=field, hint="write a number with a unit: 2g, 512m")
    return int(float(match[1]) * _UNITS[match[2].lower()])


def request_from(ray_properties: Mapping[str, Any] | None, *, gpu_count: int,
                 docker_cpus: float | None, docker_memory: str | None) -> ResourceRequest:
    """The Ray request of a job: ``resources.properties.ray`` (``num_cpus``, ``memory``, ``resources``),
    else the container limits its ``docker_args`` set (``--cpus``, ``--memory``), else 1 CPU; and
    ``resources.gpu_count`` GPUs. Pure."""
    props = dict(ray_properties or {})
    where = "resources.properties.ray"
    unknown = sorted(set(props) - {"num_cpus", "memory", "resources"})
    if unknown:
        raise SpecError(f"unknown field '{unknown[0]}'", field=f"{where}.{unknown[0]}",
                        hint="resources.properties.ray has: num_cpus, memory, resources "
                             "(custom resources, e.g. {worker_tag: 1})")
    if gpu_count < 0:
        raise SpecError("gpu_count: all cannot be asked of a Ray cluster", field="resources.gpu_count",
                        hint="give the number of GPUs the job needs")
    custom = props.get("resources") or {}
    if not isinstance(custom, Mapping) or not all(isinstance(v, int | float) and v > 0
                                                  for v in custom.values()):
        raise SpecError("custom resources must map names to positive amounts", field=f"{where}.resources",
                        hint="e.g. resources: {worker_tag: 1}")
    cpus = props.get("num_cpus", docker_cpus if docker_cpus is not None else 1)
    if not isinstance(cpus, int | float) or cpus < 0:
        raise SpecError(f"num_cpus '{cpus}' is not a number >= 0", field=f"{where}.num_cpus")
    memory = props.get("memory", docker_memory)
    return ResourceRequest(num_cpus=float(cpus), num_gpus=float(gpu_count),
                           memory=parse_size(memory, field=f"{where}.memory") if memory else 0,
                           resources={str(k): float(v) for k, v in custom.items()})


def placement_problem(request: ResourceRequest, nodes: list[dict[str, Any]]) -> str | None:
    """Why no ALIVE node could ever run ``request`` (the whole request must fit on ONE node), or None.

    A job Ray cannot place stays PENDING for 15 minutes (``RAY_JOB_START_TIMEOUT_SECONDS``) and a stop
    does not end it, so this is checked before submitting; there is no autoscaler here, so the totals
    are what the cluster will ever have."""
    need = request.as_totals()
    alive = [n for n in nodes if n.get("state", "ALIVE") == "ALIVE"]
    known = sorted({k for n in alive for k in n.get("resources_total", {}) if not k.startswith("node:")})
    missing = sorted(k for k in need if not any(k in n.get("resources_total", {}) for n in alive))
    if missing:
        return (f"no node of the cluster has the resource{'s' if len(missing) > 1 else ''} "
                f"{', '.join(repr(m) for m in missing)} (its nodes have: {', '.join(known) or 'nothing'})")
    if any(all(n["resources_total"].get(k, 0) >= v for k, v in need.items()) for n in alive):
        return None
    largest = "; ".join(
        f"{n.get('node_ip', '?')}: " + ", ".join(f"{k}={_amount(k, n['resources_total'].get(k, 0))}"
                                                  for k in need) for n in alive)
    wanted = ", ".join(f"{k}={_amount(k, v)}" for k, v in need.items())
    return f"no single node has {wanted} (the nodes have {largest})"


def _amount(name: str, value: float) -> str:
    if name == "memory":
        return f"{value / 1024 ** 3:.1f} GiB"
    return f"{value:g}"


class RayJobsClient:
    """One Ray cluster's Jobs API; every request has a timeout."""

    def __init__(self, address: str, *, timeout: float = TIMEOUT_S) -> None:
        self.address = address.rstrip("/")
        self.timeout = timeout

    # ---- plumbing -----------------------------------------------------------------------------
    def _request(self, method: str, path: str, body: Any = None, *, data: Any = None,
                 headers: Mapping[str, str] | None = None) -> Any:
        sent = dict(headers or {})
        if body is not None:
            data, sent["Content-Type"] = json.dumps(body).encode(), "application/json"
        request = urllib.request.Request(self.address + path, data=data, headers=sent, method=method)
        try:
            with urllib.request.urlopen(request, timeout=self.timeout) as response:  # noqa: S310
                payload = response.read().decode("utf-8", errors="replace")
        except urllib.error.HTTPError as exc:
            text = exc.read().decode("utf-8", errors="replace")
            raise RayHttpError(f"the Ray cluster at {self.address} answered {method} {path.split('?')[0]} "
                               f"with HTTP {exc.code}: {_last_line(text)}", status=exc.code) from exc
        except (urllib.error.URLError, OSError, http.client.HTTPException) as exc:
            reason = getattr(exc, "reason", exc)
            what = "timed out" if isinstance(reason, TimeoutError | socket.timeout) else str(reason)
            rest = "that the head's dashboard runs (`ray start --head --dashboard-host ...`) and that this " \
                   "machine may reach it"
            raise RayUnreachable(f"the Ray cluster at {self.address} is not reachable ({what})",
                                 hint=f"check the address (`runner compute show`), {rest}",
                                 python_hint=f"check the address (`ml_client.compute.get(<name>)`), {rest}") \
                from exc
        return json.loads(payload) if payload[:1] in ("{", "[") else payload

    # ---- cluster -------------------------------------------------------------------------------
    def version(self) -> dict[str, Any]:
        result: dict[str, Any] = self._request("GET", "/api/version")
        return result

    def nodes(self) -> list[dict[str, Any]]:
        """ALIVE nodes: node_id, node_ip, is_head_node, resources_total (resource names exact)."""
        data = self._request("GET", "/api/v0/nodes?limit=1000&detail=1")
        return [n for n in data["data"]["result"]["result"] if n.get("state") == "ALIVE"]

    # ---- packages (runtime_env py_modules) --------------------------------------------------------
    def package_exists(self, name: str) -> bool:
        try:
            self._request("GET", f"/api/packages/gcs/{name}")
        except RayHttpError as exc:
            if exc.status == 404:
                return False
            raise
        return True

    def upload_package(self, name: str, zip_path: str | os.PathLike[str]) -> str:
        """PUT a zip (streamed from disk) unless the cluster has it; its ``gcs://`` URI."""
        size = os.path.getsize(zip_path)
        if size > MAX_UPLOAD_BYTES:
            raise BackendError(f"the package {name} is {size / 2 ** 20:.0f} MiB; a Ray cluster takes at most "
                               f"{MAX_UPLOAD_BYTES // 2 ** 20} MiB per package",
                               hint="keep data out of code: (pass it as an input instead)")
        if not self.package_exists(name):
            with open(zip_path, "rb") as handle:
                self._request("PUT", f"/api/packages/gcs/{name}", data=handle,
                              headers={"Content-Length": str(size), "Content-Type": "application/zip"})
        return f"gcs://{name}"

    # ---- jobs ------------------------------------------------------------------------------------
    def submit(self, entrypoint: str, *, submission_id: str, runtime_env: dict[str, Any],
               request: ResourceRequest, metadata: Mapping[str, str] | None = None) -> str:
        body = {"entrypoint": entrypoint, "submission_id": submission_id, "runtime_env": runtime_env,
                "metadata": dict(metadata or {}), **request.submit_fields()}
        result = self._request("POST", "/api/jobs/", body)
        return str(result["submission_id"])

    def info(self, submission_id: str) -> dict[str, Any] | None:
        """The job's info (status, message, driver_exit_code, driver_node_id, ...); None when the
        cluster does not know it (never submitted, or the cluster was restarted)."""
        try:
            result: dict[str, Any] = self._request("GET", f"/api/jobs/{_quote(submission_id)}")
        except RayHttpError as exc:
            if exc.status == 404:
                return None
            raise
        return result

    def jobs(self) -> list[dict[str, Any]]:
        """Every job the cluster knows, each as ``info`` gives it."""
        return list(self._request("GET", "/api/jobs/"))

    def logs(self, submission_id: str) -> str:
        return str(self._request("GET", f"/api/jobs/{_quote(submission_id)}/logs")["logs"])

    def stop(self, submission_id: str) -> bool:
        """Ask Ray to stop the job (SIGTERM, then SIGKILL after the job's ``RAY_JOB_STOP_WAIT_TIME_S``);
        asynchronous. A job still PENDING is stopped once it starts."""
        return bool(self._request("POST", f"/api/jobs/{_quote(submission_id)}/stop")["stopped"])

    def delete(self, submission_id: str) -> bool:
        return bool(self._request("DELETE", f"/api/jobs/{_quote(submission_id)}")["deleted"])

    def node_ips(self) -> dict[str, str]:
        return {n["node_id"]: n["node_ip"] for n in self.nodes()}

    def log_stream(self, submission_id: str, node_ip: str) -> LogStream:
        return LogStream(self.address, submission_id, node_ip, timeout=self.timeout)


class LogStream:
    """The driver's log as it grows: ``GET /api/v0/logs/stream`` (chunked, only new bytes). The stream
    never ends by itself (it stays open after the job ended), so the follower ``close()``s it."""

    def __init__(self, address: str, submission_id: str, node_ip: str, *, timeout: float) -> None:
        parts = urllib.parse.urlsplit(address)
        self._conn = http.client.HTTPConnection(parts.hostname or "", parts.port or 80, timeout=timeout)
        query = urllib.parse.urlencode({"node_ip": node_ip, "filename": f"job-driver-{submission_id}.log",
                                        "lines": -1, "interval": 0.2})
        self._path = f"/api/v0/logs/stream?{query}"
        self._closed = threading.Event()

    def chunks(self) -> Iterator[bytes]:
        """Bytes as they come; ends on close() or when the stream breaks (the caller reconciles)."""
        try:
            self._conn.request("GET", self._path)
            response = self._conn.getresponse()
            if response.status != 200:
                return
            if self._conn.sock is not None:
                self._conn.sock.settimeout(None)  # a quiet job writes nothing for long stretches
            while not self._closed.is_set() and (chunk := response.read1(65536)):
                yield chunk
        except (OSError, http.client.HTTPException, ValueError, AttributeError) as exc:
            # (http.client raises ValueError / AttributeError when close() pulls the socket from
            # under a read; the follower closes the stream when the job has ended)
            if not self._closed.is_set():
                log.debug("log stream ended: %s", exc)

    def close(self) -> None:
        self._closed.set()
        sock = self._conn.sock
        if sock is not None:
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)
        self._conn.close()


def _quote(submission_id: str) -> str:
    return urllib.parse.quote(submission_id, safe="")


def _last_line(text: str) -> str:
    """An error body's useful part (Ray answers some errors with a whole Python traceback)."""
    lines = [line.strip() for line in text.strip().splitlines() if line.strip()]
    return (lines[-1] if lines else "(no body)")[:300]
