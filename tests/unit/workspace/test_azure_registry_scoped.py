"""The runner's retrying adlfs filesystem (``mounts.stores.azure_sdk.RetryingAzureBlobFileSystem``) is what
the runner reads Azure URLs with, and nothing else in the process: after a Python API user's job read
abfs://, az:// and abfss:// URLs (chains included), that user's own ``fsspec.filesystem("abfs")`` /
``pd.read_csv("abfs://...")`` still get adlfs' own class, which fsspec's registry still names for those
protocols. What the runner made still says ``abfs://`` (a path's URL), and a class someone else registered
for an Azure protocol is still the one the runner reads that protocol with.

Nothing is contacted: making these filesystems sends no request, and the endpoints are 127.0.0.1 ports
nothing listens on."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import textwrap
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import fsspec
import pytest
from fsspec.registry import _registry, known_implementations

from mounts.retry import SDK_CONNECT_RETRIES
from mounts.stores.azure_urls import AZURE_PROTOCOLS
from runner.workspace.datastores import FsspecDatastore
from runner.workspace.db import Workspace
from runner.workspace.fsspec_reads import open_fsspec_url, refuse_fsspec_read

_KEY = "a2V5LW5vdC11c2VkLWJ5LWFueS1zZXJ2aWNlLWluLXRoZXNlLXRlc3Rz"  # base64, never sent anywhere
ADLFS = "adlfs.spec.AzureBlobFileSystem"


def _closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _connection() -> str:
    return (f"DefaultEndpointsProtocol=http;AccountName=devstoreaccount1;AccountKey={_KEY};"
            f"BlobEndpoint=http://127.0.0.1:{_closed_port()}/devstoreaccount1;")


def _name(cls: type) -> str:
    return f"{cls.__module__}.{cls.__qualname__}"


def _retries(fs: Any) -> int:
    return int(fs.service_client._config.retry_policy.connect_retries)


_USER_SCRIPT = textwrap.dedent("""
    import json, sys
    import fsspec

    def classes():
        return {p: f"{c.__module__}.{c.__qualname__}"
                for p in ("abfs", "az", "abfss") for c in [fsspec.get_filesystem_class(p)]}

    seen = {"before": classes()}
    import mounts, runner  # noqa: F401
    from runner import Input, MLClient, command
    import runner.workspace.fsspec_reads, runner.workspace.transfers  # noqa: F401
    seen["imported"] = classes()
    client = MLClient(workspace_dir=sys.argv[1])
    errors = []
    for url in ("abfs://c/a.txt", "az://c/a.txt", "abfss://c/a.txt", "simplecache::abfs://c/a.txt",
                "zip://a.txt::az://c/d.zip"):
        job = command(command="cat ${{inputs.a}}", environment="python:3.11-slim",
                      inputs={"a": Input(type="uri_file", path=url)})
        errors.append(client.jobs.validate(job).error)
    seen["validated"] = classes()
    user = fsspec.filesystem("abfs", connection_string=sys.argv[2], skip_instance_cache=True)
    cached, _ = fsspec.core.url_to_fs("simplecache::az://c/a.txt", az={"connection_string": sys.argv[2]})
    seen["user"] = [f"{type(fs).__module__}.{type(fs).__qualname__}" for fs in (user, cached.fs)]
    seen["errors"] = [str(e) if e else None for e in errors]
    print(json.dumps(seen))
""")


def test_a_python_api_job_leaves_the_users_azure_filesystems_alone(tmp_path: Path) -> None:
    """In a process of its own (fsspec's registry as a user's program has it): importing the runner changes
    nothing, and neither does validating jobs that read Azure URLs (their filesystems made)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AZURE_STORAGE_", "FSSPEC_"))}
    env["AZURE_STORAGE_CONNECTION_STRING"] = _connection()
    ran = subprocess.run([sys.executable, "-c", _USER_SCRIPT, str(tmp_path / "ws"), _connection()],
                         cwd=tmp_path, env=env, capture_output=True, text=True, timeout=300)
    assert ran.returncode == 0, ran.stdout + ran.stderr
    seen = json.loads(ran.stdout.strip().splitlines()[-1])
    adlfs = {protocol: ADLFS for protocol in AZURE_PROTOCOLS}
    assert seen["before"] == adlfs and seen["imported"] == adlfs, seen
    assert seen["validated"] == adlfs, seen  # the runner's reads did not swap the user's class
    assert seen["user"] == [ADLFS, ADLFS], seen
    assert not any("runner-" in (error or "") for error in seen["errors"]), seen


@pytest.fixture
def registry(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """fsspec's registry for the Azure protocols as a fresh process has it, and as it was afterwards."""
    monkeypatch.delenv("RUNNER_RETRY_TOTAL_S", raising=False)
    monkeypatch.setenv("AZURE_STORAGE_CONNECTION_STRING", _connection())
    for protocol in AZURE_PROTOCOLS:
        monkeypatch.delitem(_registry, protocol, raising=False)
        monkeypatch.setitem(known_implementations, protocol, dict(known_implementations[protocol]))
    yield
    from adlfs import AzureBlobFileSystem

    AzureBlobFileSystem.clear_instance_cache()


@pytest.mark.usefixtures("registry")
@pytest.mark.parametrize("protocol", AZURE_PROTOCOLS)
def test_an_azure_url_is_read_with_retries_and_keeps_its_name(protocol: str) -> None:
    fs, path = open_fsspec_url(f"{protocol}://c/a.txt", field="inputs.a.path")
    assert path == "c/a.txt" and _retries(fs) == SDK_CONNECT_RETRIES
    assert fs.unstrip_protocol(path) == "abfs://c/a.txt"  # adlfs' own name for it, as before
    assert _name(fsspec.get_filesystem_class(protocol)) == ADLFS
    assert _name(type(fsspec.filesystem(protocol))) == ADLFS


@pytest.mark.usefixtures("registry")
def test_an_account_in_the_url_is_still_read_from_it() -> None:
    fs, path = open_fsspec_url("abfs://c@acct.dfs.core.windows.net/d/a.txt", field="inputs.a.path")
    assert path == "c/d/a.txt" and fs.account_name == "acct" and _retries(fs) == SDK_CONNECT_RETRIES
    assert _name(fsspec.get_filesystem_class("abfs")) == ADLFS


@pytest.mark.usefixtures("registry")
def test_a_chained_datastore_over_azure_retries_with_options_named_by_its_protocol(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A datastore's storage options for a chain's Azure link are keyed by that link's protocol (``az``)."""
    monkeypatch.delenv("AZURE_STORAGE_CONNECTION_STRING")  # only the options name the account
    workspace = Workspace(tmp_path / "ws")
    workspace.secrets_dir.mkdir(parents=True, exist_ok=True)
    ds = FsspecDatastore(name="cached", url="simplecache::az://c",
                         storage_options={"az": {"connection_string": _connection()}})
    refuse_fsspec_read(workspace, ds.url, field="inputs.a.path", datastore=ds, path="a.txt")
    fs, root = ds.open(workspace.root)
    assert root == "c" and _retries(fs.fs) == SDK_CONNECT_RETRIES
    assert ds.url_for("c/a.txt") == "simplecache::az://c/a.txt"
    assert _name(fsspec.get_filesystem_class("az")) == ADLFS


@pytest.mark.usefixtures("registry")
def test_a_class_someone_else_registered_for_an_azure_protocol_is_the_one_read_with(
        monkeypatch: pytest.MonkeyPatch) -> None:
    class Elsewhere(fsspec.AbstractFileSystem):
        protocol = "abfs"

    monkeypatch.setitem(_registry, "abfs", Elsewhere)
    fs, _ = open_fsspec_url("abfs://c/a.txt", field="inputs.a.path")
    assert type(fs) is Elsewhere
    az, _ = open_fsspec_url("az://c/a.txt", field="inputs.a.path")
    assert _retries(az) == SDK_CONNECT_RETRIES and _name(fsspec.get_filesystem_class("az")) == ADLFS
