"""An fsspec input that reaches this machine over the network (sftp/ssh, ftp, smb, http(s), webhdfs to a
loopback address or this machine's name, hdfs with the configured default file system) reads this
machine's files, or the runner's own web UI, around the guards a local path is held to: it is refused
with one error saying why and what to give instead. Remote hosts are read as before.

Nothing here opens a connection: the refusal comes before fsspec makes a filesystem."""

from __future__ import annotations

import socket
from pathlib import Path

import pytest

from runner.errors import RunnerError, SpecError
from runner.uris import StorageUrl, parse_path
from runner.workspace.datastores import FsspecDatastore
from runner.workspace.db import Workspace
from runner.workspace.resolve import Resolver


@pytest.fixture
def ws(tmp_path: Path) -> Workspace:
    return Workspace(tmp_path / "ws")


@pytest.mark.parametrize("url", [
    "sftp://localhost/root/.local/share/runner/secrets/k.json",
    "ssh://127.0.0.1/etc/hostname",
    "sftp://me@127.3.2.1:2222/data/x.csv",
    "ssh://LOCALHOST./data/x.csv",
    "sftp://127.1/data/x.csv",
    "sftp://0.0.0.0/data/x.csv",
    "ftp://localhost/data/x.csv",
    "smb://127.0.0.1/share/x.csv",
    "http://localhost:8765/jobs",
    "https://127.0.0.1/x.csv",
    "http://app.localhost/x.csv",
    "webhdfs://localhost:9870/data/x.csv",
    "hdfs://localhost:8020/data/x.csv",
    "hdfs:///data/x.csv",
    "hdfs://default/data/x.csv",
    "simplecache::sftp://localhost/data/x.csv",
    "zip://a.txt::http://127.0.0.1:8000/d.zip",
    f"sftp://{socket.gethostname()}/data/x.csv",
])
def test_a_url_reading_this_machine_over_the_network_is_refused(ws: Workspace, url: str) -> None:
    with pytest.raises(SpecError) as info:
        Resolver(ws).resolve(url, field="inputs.d.path", check=False)
    err = info.value
    assert err.message.startswith("input 'd' cannot be read") and "this machine" in err.message
    assert err.field == "inputs.d.path" and err.hint and "local path" in err.hint
    assert "Traceback" not in err.render()


@pytest.mark.parametrize(("url", "options"), [
    ("sftp://localhost/data", {}),
    ("sftp:///data", {"host": "127.0.0.1"}),
    ("ssh:///data", {"ssh": {"host": "localhost"}}),
    ("hdfs:///data", {}),
    ("http://127.0.0.1:8765/files", {}),
])
def test_a_datastore_reading_this_machine_over_the_network_is_refused(
        ws: Workspace, url: str, options: dict[str, object]) -> None:
    resolver = Resolver(ws)
    resolver.datastores.save(FsspecDatastore(name="loop", url=url, storage_options=options))
    with pytest.raises(SpecError) as info:
        resolver.resolve("azureml://datastores/loop/paths/x.csv", field="inputs.d.path", check=False)
    assert "datastore 'loop'" in info.value.message and "this machine" in info.value.message
    assert "local" in (info.value.hint or "")


def test_a_remote_http_url_is_read_as_before(ws: Workspace) -> None:
    found = Resolver(ws).resolve("https://example.com/data/x.csv", field="inputs.d.path", check=False)
    assert found.url == "https://example.com/data/x.csv" and found.local_path is None


@pytest.mark.parametrize("url", ["sftp://files.example.com/data/x.csv", "hdfs://namenode.example.com:8020/x",
                                 "ssh://10.1.2.3/data/x.csv"])
def test_a_remote_host_is_not_taken_for_this_machine(ws: Workspace, url: str) -> None:
    try:
        Resolver(ws).resolve(url, field="inputs.d.path", check=False)
    except RunnerError as err:  # no backend installed here (paramiko, pyarrow): that, not this machine
        assert "this machine" not in err.message


def test_the_storage_emulator_on_loopback_is_still_a_storage_url() -> None:
    assert isinstance(parse_path("http://127.0.0.1:10000/devstoreaccount1/c/x.csv"), StorageUrl)
