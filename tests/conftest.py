"""Shared fixtures: an isolated workspace per test, and the real services (Docker, FUSE, Azurite).

A missing service skips locally with a message saying how to provision it; under ``CI=true`` it fails.
So do tests marked ``examples`` when the Azure ML examples folder (``../shared/azureml-examples`` beside
the checkout, or ``RUNNER_EXAMPLES_DIR``) is absent: a clone of the repository alone runs the rest, and
tests marked ``root`` when the suite does not run as root. A missing Python package (the oracle
``azure-ai-ml``) is the same: ``require_module`` skips locally and fails in CI.

Under ``CI=true`` no skip survives, whatever raised it (``pytest.skip``, ``importorskip``, ``skipif``):
``pytest_runtest_makereport`` and ``pytest_make_collect_report`` below turn it into a failure that says
what was missing. ``scripts/test.sh`` sets ``CI=true`` unless it is given ``--allow-skips``.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import socket
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from marker_audit import _audit_fuse_marker, _mount_watcher  # noqa: F401  (RUNNER_AUDIT_MARKERS=1)
from needs import IN_CI, missing, missing_service, require_root
from private_azurite import AZURITE_BIN, PrivateAzurite
from repo_paths import EXAMPLES, REPO  # noqa: F401  (re-exported for fixtures)

# Azurite's published development account (https://learn.microsoft.com/azure/storage/common/storage-use-azurite)
AZURITE_ACCOUNT = "devstoreaccount1"
AZURITE_KEY = "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw=="


def pytest_runtest_setup(item: pytest.Item) -> None:
    if item.get_closest_marker("examples") is not None and not EXAMPLES.is_dir():
        missing(f"the Azure ML examples are not at {EXAMPLES}: they sit beside the checkout as "
                "../shared/azureml-examples (or set RUNNER_EXAMPLES_DIR)")
    root = item.get_closest_marker("root")
    if root is not None:
        require_root(str(root.args[0]) if root.args else "the test changes mounts")


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]):  # type: ignore[no-untyped-def]
    """Under CI=true a skipped test is a failed one (an expected failure, ``xfail``, stays one)."""
    outcome = yield
    report = outcome.get_result()
    if IN_CI and report.skipped and not hasattr(report, "wasxfail"):
        report.outcome = "failed"
        report.longrepr = f"skipped under CI=true, which allows no skips: {_skip_reason(report)}"


@pytest.hookimpl(hookwrapper=True)
def pytest_make_collect_report(collector: pytest.Collector):  # type: ignore[no-untyped-def]
    """Under CI=true a module that skips itself at import (``importorskip``) fails instead."""
    outcome = yield
    report = outcome.get_result()
    if IN_CI and report.skipped:
        report.outcome = "failed"
        report.longrepr = f"skipped under CI=true, which allows no skips: {_skip_reason(report)}"


def _skip_reason(report: pytest.BaseReport) -> str:
    longrepr = report.longrepr
    if isinstance(longrepr, tuple) and len(longrepr) == 3:  # (file, line, "Skipped: reason")
        return str(longrepr[2])
    return str(longrepr)


# A marker is a promise: a test marked fuse, docker or azure needs that service, so it asks for it (and
# skips locally, fails in CI, when it is missing) even where it reaches the service only through a job.
MARKER_FIXTURES = {"fuse": "fuse_available", "docker": "docker_client", "azure": "azurite"}


@pytest.fixture(autouse=True)
def _marked_services(request: pytest.FixtureRequest) -> None:
    for marker, fixture in MARKER_FIXTURES.items():
        if request.node.get_closest_marker(marker) is not None:
            request.getfixturevalue(fixture)


def cache_dir() -> Path:
    return Path(os.environ.get("RUNNER_CACHE_DIR", Path.home() / ".cache" / "runner"))


@pytest.fixture
def workspace_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """An isolated, empty workspace directory; ``RUNNER_WORKSPACE`` points at it."""
    ws = tmp_path / "workspace"
    ws.mkdir()
    monkeypatch.setenv("RUNNER_WORKSPACE", str(ws))
    return ws


@pytest.fixture(scope="session")
def docker_client():  # type: ignore[no-untyped-def]
    """A docker-py client for the real engine."""
    import docker

    try:
        client = docker.from_env(timeout=30)
        client.ping()
    except Exception as exc:  # noqa: BLE001 - any failure means "no engine"
        missing_service(f"Docker engine ({exc.__class__.__name__})")
    yield client
    client.close()


@pytest.fixture(scope="session")
def fuse_available() -> bool:
    """True when FUSE mounts can be made here (device, helper binary, binding)."""
    if not Path("/dev/fuse").exists():
        missing_service("/dev/fuse")
    if not (shutil.which("fusermount3") or shutil.which("fusermount")):
        missing_service("fusermount (Debian packages fuse3 / libfuse2)")
    try:
        import mfusepy  # noqa: F401
    except (ImportError, OSError) as exc:
        missing_service(f"the FUSE binding mfusepy ({exc})")
    return True


@dataclass(frozen=True)
class Azurite:
    host: str
    port: int
    account: str = AZURITE_ACCOUNT
    key: str = AZURITE_KEY

    @property
    def blob_endpoint(self) -> str:
        return f"http://{self.host}:{self.port}/{self.account}"

    @property
    def connection_string(self) -> str:
        return (f"DefaultEndpointsProtocol=http;AccountName={self.account};AccountKey={self.key};"
                f"BlobEndpoint={self.blob_endpoint};")


def azurite_port() -> int:
    if os.environ.get("RUNNER_AZURITE_PORT"):
        return int(os.environ["RUNNER_AZURITE_PORT"])
    port_file = cache_dir() / "azurite" / "port"
    return int(port_file.read_text().strip()) if port_file.exists() else 10000


@pytest.fixture(scope="session")
def azurite() -> Azurite:
    """The Azurite Blob service started by provisioning, on loopback."""
    info = Azurite("127.0.0.1", azurite_port())
    try:
        with socket.create_connection((info.host, info.port), timeout=2):
            pass
    except OSError:
        missing_service(f"Azurite on {info.host}:{info.port}")
    return info


@dataclass(frozen=True)
class AzureContainer:
    azurite: Azurite
    name: str


@pytest.fixture
def azure_container(azurite: Azurite) -> Iterator[AzureContainer]:
    """A fresh, empty blob container for one test, deleted afterwards."""
    from azure.storage.blob import BlobServiceClient

    service = BlobServiceClient.from_connection_string(azurite.connection_string)
    name = f"t{uuid.uuid4().hex[:20]}"
    service.create_container(name)
    yield AzureContainer(azurite, name)
    with contextlib.suppress(Exception):  # best-effort cleanup of a test container
        service.delete_container(name)


@pytest.fixture
def private_azurite(tmp_path: Path) -> Iterator[PrivateAzurite]:
    """An Azurite of this test alone, which it may stop mid-transfer (never the shared one)."""
    if not AZURITE_BIN.exists():
        missing_service(f"the Azurite binary at {AZURITE_BIN}")
    server = PrivateAzurite(tmp_path / "azurite")
    server.start()
    yield server
    server.stop()


UNRESOLVABLE_HOST = "acct.blob.example.invalid"


@pytest.fixture
def unresolvable_host(monkeypatch: pytest.MonkeyPatch) -> str:
    """A host name that does not resolve (a wrong account name), answered here by a patched
    ``socket.getaddrinfo``, not by a DNS server: nothing leaves the machine."""
    lookup = socket.getaddrinfo

    def unknown(name: Any, *args: Any, **kwargs: Any) -> Any:
        if name == UNRESOLVABLE_HOST:
            raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")
        return lookup(name, *args, **kwargs)

    monkeypatch.setattr(socket, "getaddrinfo", unknown)
    return UNRESOLVABLE_HOST


@pytest.fixture
def short_retry_window(monkeypatch: pytest.MonkeyPatch) -> None:
    """A loopback port nothing listens on is a storage that is not up (yet): refused connections are retried
    for ``RUNNER_RETRY_TOTAL_S`` (mounts.retry), shortened so a test's closed port is said in seconds."""
    monkeypatch.setenv("RUNNER_RETRY_TOTAL_S", "2")
