"""The Docker backend, through docker-py.

``container_args`` is pure (plan + mounts -> ``containers.create`` kwargs) and unit-tested with no
daemon; ``DockerBackend`` finds or builds the image, detects its shell once per image id, and starts
the container; ``ContainerRun`` (``runner.backends.docker_run``) streams logs, waits, stops and removes it.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import stat
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any, BinaryIO

from runner.backends.capabilities import Capabilities
from runner.backends.docker_args import engine_error, parse_docker_args
from runner.backends.docker_client import docker_client
from runner.errors import BackendError, SpecError
from runner.plan.network import DEFAULT, plan_network
from runner.plan.types import RunPlan
from runner.spec.image_ref import check_image_reference

if TYPE_CHECKING:
    from runner.backends.base import PreparedImage, RunSpec
    from runner.backends.docker_run import ContainerRun

log = logging.getLogger(__name__)

PROBE_LABEL = "runner.probe"
SHELLS = ("/bin/bash", "/usr/bin/bash", "/bin/sh", "/usr/bin/sh")
BUILD_TAG_PREFIX = "runner-build/"
# run from a checkout of runner (not an installed package): its provisioning script starts an engine
_PROVISION = Path(__file__).resolve().parents[2] / "scripts" / "provision.sh"
DOCKER_HINT = ("start the Docker engine (`sudo systemctl start docker`, or Docker Desktop) and check "
               "DOCKER_HOST, or run the job on the host with --backend process"
               + ("; in a checkout of runner, `bash scripts/provision.sh` starts one" if _PROVISION.is_file()
                  else ""))
DOCKER_PYTHON_HINT = DOCKER_HINT.replace("with --backend process", "with backend='process'")


def context_hash(context: Path, dockerfile: str | None) -> str:
    """A stable hash of a build context (paths, modes and content, streamed) and its Dockerfile name, as
    ``docker build`` sends it: a link as the link (never followed: it may lead out of the context), a
    FIFO, socket or device by its mode alone (never opened; ``job validate`` refuses one)."""
    digest = hashlib.sha256((dockerfile or "Dockerfile").encode())
    for path in _context_entries(context):
        try:
            mode = path.lstat().st_mode
            digest.update(str(path.relative_to(context)).encode() + b"\0" + oct(mode).encode())
            if stat.S_ISLNK(mode):
                digest.update(b"->" + os.fsencode(os.readlink(path)))
            elif stat.S_ISREG(mode):
                _hash_file(path, digest)
        except OSError as exc:  # changed since the job was checked (swapped, made unreadable)
            raise BackendError(f"the build context {context} cannot be read: '{path}': "
                               f"{exc.strerror or exc}", hint="restore the entry, or remove it from the "
                                                              "build context") from exc
    return digest.hexdigest()[:16]


def _context_entries(context: Path) -> list[Path]:
    """Every file, link and special entry below ``context``, sorted; no link to a folder followed."""
    found: list[Path] = []
    for folder, dirs, files in os.walk(context):  # followlinks=False: a linked folder is one entry
        found += [Path(folder, name) for name in files]
        found += [Path(folder, name) for name in dirs if os.path.islink(os.path.join(folder, name))]
    return sorted(found)


def _hash_file(path: Path, digest: Any) -> None:
    """A regular file's content, opened with no link followed and never blocking (a FIFO swapped in)."""
    fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK)
    with os.fdopen(fd, "rb") as handle:
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            raise OSError(0, "not a regular file any more")
        while chunk := handle.read(1 << 20):
            digest.update(chunk)


class ShellCache:
    """image id -> shell path, kept in a small JSON file so detection runs once per image."""

    def __init__(self, path: Path | None) -> None:
        self.path = path
        self._data: dict[str, str] = {}
        if path and path.exists():
            try:
                self._data = json.loads(path.read_text())
            except (OSError, ValueError):
                self._data = {}

    def get(self, image_id: str) -> str | None:
        return self._data.get(image_id)

    def put(self, image_id: str, shell: str) -> None:
        self._data[image_id] = shell
        if self.path is None:
            return
        self.path.parent.mkdir(parents=True, exist_ok=True)
        tmp = self.path.with_suffix(f".{os.getpid()}.tmp")
        tmp.write_text(json.dumps(self._data))
        tmp.replace(self.path)


class DockerBackend:
    """Runs plans as containers on the local Docker engine."""

    name = "docker"
    capabilities = Capabilities(
        read_only_binds=True,
        in_container=True,
        host_process_group=False,
        docker_args=True,
        gpus=True,
        network_isolation=True,
    )

    def __init__(self, *, cache_dir: Path | None = None, allow_pull: bool = False,
                 quiet: bool = False) -> None:
        self.allow_pull = allow_pull
        self.quiet = quiet  # no progress display for image builds
        self.shells = ShellCache(cache_dir / "image_shells.json" if cache_dir else None)
        self._client: Any = None

    @property
    def client(self) -> Any:
        if self._client is None:
            try:
                self._client = docker_client()
            except Exception as exc:  # noqa: BLE001 - any failure here means "no usable engine"
                raise BackendError(f"the Docker engine is not reachable ({exc.__class__.__name__})",
                                   hint=DOCKER_HINT, python_hint=DOCKER_PYTHON_HINT) from exc
        return self._client

    def check(self, plan: RunPlan) -> None:
        # an unsupported (or, without the opt-in, unsafe) option is refused before the job is queued
        parse_docker_args(plan.resources.docker_args, allow_unsafe=plan.resources.unsafe_docker_args)
        if plan.conda:  # an image built from a conda file: its base image is the one named
            check_image_reference(plan.conda.base_image)
        elif not plan.build_context:
            check_image_reference(plan.image)

    def prepare_image(self, plan: RunPlan) -> PreparedImage:
        import requests.exceptions

        try:
            return self._prepare_image(plan)
        except requests.exceptions.ConnectionError as exc:
            raise BackendError("the Docker engine is not reachable (connection refused)",
                               hint=DOCKER_HINT, python_hint=DOCKER_PYTHON_HINT) from exc

    def _prepare_image(self, plan: RunPlan) -> PreparedImage:
        if plan.conda:
            from runner.backends.conda_image import build_conda_image  # start-up cost: a run's

            base = self._find(plan.conda.base_image)
            image = build_conda_image(self.client, plan.conda, base, quiet=self.quiet)
        elif plan.build_context:
            image = self._build(Path(plan.build_context), plan.dockerfile)
            if plan.image and plan.image not in image.tags:  # the name a mapped environment uses
                repository, _, tag = plan.image.rpartition(":") if ":" in plan.image.split("/")[-1] \
                    else (plan.image, "", "latest")
                image.tag(repository, tag)
        else:
            image = self._find(plan.image)
        image_id = str(image.id)
        shell = self.shells.get(image_id)
        if shell is None:
            shell = self._detect_shell(image_id)
            self.shells.put(image_id, shell)
        from runner.backends.base import PreparedImage  # start-up cost: a run's types, not validate's

        return PreparedImage(name=plan.image or str(image.tags[0] if image.tags else image_id),
                             id=image_id, shell=shell)

    def _find(self, name: str) -> Any:
        import docker.errors

        if not name:
            raise SpecError("the job has no environment image", field="environment",
                            hint="set environment: <image> or environment: {build: {path: ...}}")
        try:
            return self.client.images.get(name)
        except docker.errors.ImageNotFound as exc:
            if self.allow_pull:
                return self._pull(name, exc)
            raise BackendError(
                f"image '{name}' is not available locally (pulling is disabled)",
                hint="build or import it (`docker images` lists what exists), map an Azure environment "
                     "with `runner environment create --name N --image IMAGE`, or set "
                     "RUNNER_ALLOW_PULL=1") from exc
        except docker.errors.APIError as exc:
            raise BackendError(f"cannot inspect image '{name}': {exc.explanation}") from exc

    def _pull(self, name: str, cause: Exception) -> Any:
        import docker.errors

        try:
            return self.client.images.pull(name)
        except docker.errors.APIError as exc:
            raise BackendError(f"image '{name}' is not local and pulling it failed: {exc.explanation}",
                               hint="build or import the image locally") from cause

    def _build(self, context: Path, dockerfile: str | None) -> Any:
        import docker.errors

        if not context.is_dir():  # checked when the job was created: removed since
            raise BackendError(f"the build context {context} is not a folder (any more)",
                               hint="restore it, or point environment.build.path at the folder")
        tag = f"{BUILD_TAG_PREFIX}{context_hash(context, dockerfile)}:latest"
        try:
            return self.client.images.get(tag)
        except docker.errors.ImageNotFound:
            pass
        log.info("building environment image %s from %s", tag, context)
        from runner.backends.context_build import build_image  # a build only: its Dockerfile parser

        return build_image(self.client, context, dockerfile, tag, allow_pull=self.allow_pull)

    def _detect_shell(self, image_id: str) -> str:
        """Look for bash, then sh, in a created (never started) container's filesystem."""
        import docker.errors

        container = self.client.api.create_container(image_id, command=["true"], network_disabled=True,
                                                     labels={PROBE_LABEL: "shell"})
        try:
            for shell in SHELLS:
                try:
                    self.client.api.get_archive(container["Id"], shell)[0].close()
                    return shell
                except docker.errors.NotFound:
                    continue
        finally:
            self.client.api.remove_container(container["Id"], force=True)
        raise BackendError(f"image {image_id[:19]} has neither bash nor sh",
                           hint="command jobs need a shell in the image")

    def start(self, spec: RunSpec, image: PreparedImage) -> ContainerRun:
        import docker.errors

        from runner.backends.container_args import (  # start-up cost: a run's, not validate's
            ETC_HOSTS,
            RELAYED,
            choose_network,
            container_args,
        )
        from runner.backends.docker_run import ContainerRun  # start-up cost: a run's, not validate's

        planned = plan_network(spec.plan)  # as `job validate` printed it: its stores found once, here
        network, why = choose_network(planned, self._default_network() if planned.kind == DEFAULT else None)
        relay = None
        if network == RELAYED:  # the holder and its relay first: they exist before the command runs
            from runner.backends.netns_relay import relayed_network  # its job only: asyncio, ctypes

            relay, network, why = relayed_network(self.client, spec, image, why, planned.endpoints)
        kwargs = container_args(spec.plan, spec.mounts, image=image, env=spec.env, labels=spec.labels,
                                network=network, hosts_file=spec.hosts_file)
        try:
            if spec.hosts_file and any(m.get("Target") == ETC_HOSTS for m in kwargs["mounts"]):  # bound
                _write_hosts(spec.hosts_file)
            container = self._create(kwargs)
        except BaseException as exc:
            if relay:
                relay.close()
            if isinstance(exc, docker.errors.APIError):  # its words may echo a secret value: *** there
                raise engine_error("could not create the container", exc.explanation, spec.plan) from exc
            if isinstance(exc, docker.errors.DockerException):  # docker-py refused an argument
                raise engine_error("could not create the container", exc, spec.plan) from exc
            raise
        run = ContainerRun(container, network=why, relay=relay)
        try:
            container.start()
        except BaseException as exc:  # an API error, a timeout, Ctrl-C: never leave it behind
            run.remove()
            if isinstance(exc, docker.errors.APIError):
                raise engine_error("could not start the container", exc.explanation, spec.plan) from exc
            raise
        return run

    def _default_network(self) -> str | None:
        """The engine's default network (``bridge``), when it has one (``dockerd --bridge=none``: not)."""
        try:
            return "bridge" if self.client.networks.list(names=["bridge"]) else None
        except Exception:  # noqa: BLE001 - no answer: take the host's network, and say so
            return None

    def _create(self, kwargs: dict[str, Any]) -> Any:
        """``containers.create`` without its follow-up inspect (one API round trip instead of two)."""
        from docker.models.containers import _create_container_args

        api = self.client.api
        created = api.create_container(**_create_container_args({**kwargs, "version": api._version}))
        return self.client.containers.prepare_model({"Id": created["Id"]})

    def remove_leftovers(self, labels: Mapping[str, str], log_to: BinaryIO | None = None) -> list[str]:
        """Force-remove containers carrying all ``labels`` (a dead runner's job containers); with
        ``log_to`` (the job's log, opened for appending) first append what each one printed beyond what
        the log holds (the tail its dead runner never wrote)."""
        import requests.exceptions

        from runner.backends.base import append_new  # start-up cost: a run's, not validate's
        from runner.backends.docker_run import ContainerRun  # start-up cost: a run's, not validate's

        filters = {"label": [f"{k}={v}" for k, v in labels.items()]}
        removed = []
        try:
            found = self.client.containers.list(all=True, filters=filters)
        except requests.exceptions.ConnectionError as exc:
            raise BackendError("the Docker engine is not reachable (connection refused)",
                               hint=DOCKER_HINT, python_hint=DOCKER_PYTHON_HINT) from exc
        for container in found:
            if log_to is not None:
                append_new(ContainerRun(container, log_offset=log_to.tell(), follow=False).logs(), log_to)
            container.remove(force=True)
            removed.append(str(container.id))
        return removed

    def reattach(self, ident: str, log_offset: int = 0) -> ContainerRun | None:
        """The job's container ``ident`` if it still exists (its runner died); its ``logs()`` skip the
        first ``log_offset`` bytes (those its runner wrote to the job's log already)."""
        import docker.errors

        from runner.backends.docker_run import ContainerRun  # start-up cost: a run's, not validate's

        try:
            return ContainerRun(self.client.containers.get(ident), log_offset=log_offset)
        except docker.errors.NotFound:
            return None


def _write_hosts(path: str) -> None:
    from runner.backends.container_args import write_hosts_file  # start-up cost: a run's, not validate's

    try:
        write_hosts_file(path)
    except OSError as exc:  # a full disk, a link put there
        raise BackendError(f"the container's hosts file {path} cannot be written: {exc.strerror or exc}",
                           hint="free space in the workspace, or remove what is at that path") from exc
