"""``job validate`` (planning, ``check=False``) makes no filesystem that contacts storage as it is made: a
registered fsspec datastore whose URL is an archive chain over remote storage (``zip://::abfs://c/d.zip``:
fsspec reads the archive as it makes the filesystem) is left closed as the job-level URL already is, and
so is a link over ftp://, sftp:// (ssh://, smb://: they connect as soon as they are made), as a job's path
or a datastore's URL. The run opens them, and one that cannot be opened fails it with one error naming
the input (unreachable, missing), never an internal error.

No test here reaches a network: connection attempts are counted (and refused) in process, the CLI runs in
a child in which any internet connection is exit 97, the Azure endpoint is a loopback port nothing
listens on and the ftp host a documentation address (192.0.2.1, RFC 5737) never connected to."""

from __future__ import annotations

import io
import os
import socket
import subprocess
import sys
import zipfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fsspec.implementations.memory import MemoryFileSystem
from fsspec.registry import _registry
from fsspec.spec import AbstractFileSystem

from runner.errors import RunnerError, StorageError
from runner.modes import PathKind
from runner.workspace.datastores import DatastoreStore, FsspecDatastore
from runner.workspace.db import Workspace
from runner.workspace.resolve import Resolver

FIELD = "inputs.a.path"
FTP_HOST = "192.0.2.1:2121"  # TEST-NET-1: documentation only, never this machine
# the CLI in a child process in which an internet connection (or a name look-up) is one exit 97, at once
_NO_NETWORK = """\
import os, socket, sys
def _refuse(*args, **kwargs):
    os.write(2, b"network attempt: " + repr(args[1:] or args).encode() + b"\\n")
    os._exit(97)
_connect = socket.socket.connect
def _connect_local(sock, address):
    if sock.family in (socket.AF_INET, socket.AF_INET6):
        _refuse(sock, address)
    return _connect(sock, address)
socket.socket.connect = _connect_local
socket.socket.connect_ex = _connect_local
socket.getaddrinfo = _refuse
sys.argv = ['runner', *sys.argv[1:]]
from runner.cli.main import main
main()
"""
_KEY = "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw=="


pytestmark = pytest.mark.usefixtures("short_retry_window")  # a closed port: said in seconds


def _free_port() -> int:
    """A loopback port nothing listens on (bound, then closed)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _job(tmp_path: Path, path: str) -> Path:
    job = tmp_path / "job.yml"
    job.write_text(f"command: cat ${{{{inputs.a}}}}\nenvironment:\n  image: python:3.11\ninputs:\n  a:\n"
                   f"    type: uri_file\n    path: {path}\n    mode: download\n")
    return job


def _validate_offline(tmp_path: Path, workspace: Path, path: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "RUNNER_FORKSERVER": "0", "RUNNER_WORKSPACE": str(workspace)}
    return subprocess.run([sys.executable, "-c", _NO_NETWORK, "job", "validate", "--file",
                           str(_job(tmp_path, path))], capture_output=True, text=True, timeout=120,
                          check=False, env=env, cwd=tmp_path)


@pytest.fixture
def connections(monkeypatch: pytest.MonkeyPatch) -> list[Any]:
    """Every internet connection attempted in this process, refused."""
    attempts: list[Any] = []
    connect = socket.socket.connect

    def counted(sock: socket.socket, address: Any) -> None:
        if sock.family in (socket.AF_INET, socket.AF_INET6):
            attempts.append(address)
            raise ConnectionRefusedError(111, "Connection refused")
        connect(sock, address)

    monkeypatch.setattr(socket.socket, "connect", counted)
    return attempts


def _save(workspace: Path, name: str, url: str, **options: Any) -> None:
    DatastoreStore(Workspace(workspace)).save(FsspecDatastore(name=name, url=url, storage_options=options))


# ---- an archive chain over remote storage, registered as a datastore ----------------------------------

def test_validate_of_an_unreachable_remote_archive_datastore_contacts_nothing(workspace_dir: Path,
                                                                             tmp_path: Path) -> None:
    connection = (f"DefaultEndpointsProtocol=http;AccountName=devstoreaccount1;AccountKey={_KEY};"
                  f"BlobEndpoint=http://127.0.0.1:{_free_port()}/devstoreaccount1;")
    _save(workspace_dir, "arch", "zip://::abfs://c/d.zip", abfs={"connection_string": connection})
    result = _validate_offline(tmp_path, workspace_dir, "azureml://datastores/arch/paths/a.txt")
    assert result.returncode == 0, result.stderr
    assert "network attempt" not in result.stderr and "azureml://datastores/arch/paths/a.txt" in result.stdout


def test_the_run_of_an_unreachable_remote_archive_datastore_is_one_clear_error(workspace_dir: Path) -> None:
    connection = (f"DefaultEndpointsProtocol=http;AccountName=devstoreaccount1;AccountKey={_KEY};"
                  f"BlobEndpoint=http://127.0.0.1:{_free_port()}/devstoreaccount1;")
    _save(workspace_dir, "arch", "zip://::abfs://c/d.zip", abfs={"connection_string": connection})
    with pytest.raises(StorageError) as info:
        Resolver(Workspace(workspace_dir)).resolve("azureml://datastores/arch/paths/a.txt", field=FIELD)
    assert info.value.field == FIELD and "cannot connect" in info.value.message, info.value.message
    assert "datastore 'arch'" in (info.value.hint or "") and _KEY not in str(info.value.render())


class _Remote(MemoryFileSystem):
    """A store elsewhere (its protocol is none of this machine's), held in memory: what it opened is
    ``opened``."""

    protocol = ("s40c-remote",)
    opened: list[str] = []

    @classmethod
    def _strip_protocol(cls, path: Any) -> Any:
        return MemoryFileSystem._strip_protocol(str(path).replace("s40c-remote://", "memory://", 1))

    def _open(self, path: str, *args: Any, **kwargs: Any) -> Any:
        self.opened.append(path)
        return super()._open(path, *args, **kwargs)


@pytest.fixture
def remote(monkeypatch: pytest.MonkeyPatch, workspace_dir: Path) -> Iterator[Resolver]:
    monkeypatch.setitem(_registry, "s40c-remote", _Remote)  # fsspec's registry: as it was, afterwards
    monkeypatch.setattr(_Remote, "opened", [])
    store = MemoryFileSystem()
    data = io.BytesIO()
    with zipfile.ZipFile(data, "w") as archive:
        archive.writestr("sub/a.txt", "inside\n")
    store.pipe("/s40c/d.zip", data.getvalue())
    _save(workspace_dir, "arch", "zip://::s40c-remote://s40c/d.zip")
    _save(workspace_dir, "gone", "zip://::s40c-remote://s40c/gone.zip")
    yield Resolver(Workspace(workspace_dir))
    store.rm("/s40c", recursive=True)


def test_planning_leaves_a_remote_archive_datastore_closed(remote: Resolver) -> None:
    found = remote.resolve("azureml://datastores/arch/paths/sub/a.txt", field=FIELD, check=False)
    assert found.kind is PathKind.ANY and found.cache_key is None and _Remote.opened == []
    assert found.uri == "azureml://datastores/arch/paths/sub/a.txt" and found.datastore == "arch"
    assert found.url == "zip://sub/a.txt::s40c-remote://s40c/d.zip", found.url
    assert found.fs.cat_file(found.path) == b"inside\n"  # made when used: the archive read then
    assert _Remote.opened == ["/s40c/d.zip"]


def test_the_run_reads_the_remote_archive_datastore(remote: Resolver) -> None:
    found = remote.resolve("azureml://datastores/arch/paths/sub/a.txt", field=FIELD, check=True)
    assert found.kind is PathKind.FILE and found.fs.cat_file(found.path) == b"inside\n"


def test_a_missing_remote_archive_of_a_datastore_is_said_when_the_job_runs(remote: Resolver) -> None:
    assert remote.resolve("azureml://datastores/gone/paths/a.txt", field=FIELD, check=False).kind \
        is PathKind.ANY
    with pytest.raises(RunnerError) as info:
        remote.resolve("azureml://datastores/gone/paths/a.txt", field=FIELD, check=True)
    err = info.value
    assert err.field == FIELD and "s40c-remote://s40c/gone.zip" in err.message, err.message
    assert "does not exist" in err.message and "datastore 'gone'" in err.message, err.message


# ---- filesystems that connect as they are made: ftp://, sftp:// -----------------------------------------

@pytest.mark.parametrize("path", [f"ftp://{FTP_HOST}/data/a.txt", "azureml://datastores/ftpds/paths/a.txt"])
def test_planning_makes_no_ftp_connection(workspace_dir: Path, connections: list[Any], path: str) -> None:
    _save(workspace_dir, "ftpds", f"ftp://{FTP_HOST}/data")
    found = Resolver(Workspace(workspace_dir)).resolve(path, field=FIELD, check=False)
    assert found.kind is PathKind.ANY and connections == []
    assert found.path == "/data/a.txt", found.path


@pytest.mark.parametrize("path", [f"ftp://{FTP_HOST}/data/a.txt", "azureml://datastores/ftpds/paths/a.txt"])
def test_the_run_of_an_unreachable_ftp_store_is_one_clear_error(workspace_dir: Path, connections: list[Any],
                                                                 path: str) -> None:
    _save(workspace_dir, "ftpds", f"ftp://{FTP_HOST}/data")
    with pytest.raises(StorageError) as info:
        Resolver(Workspace(workspace_dir)).resolve(path, field=FIELD, check=True)
    assert info.value.field == FIELD and "cannot connect" in info.value.message, info.value.message
    assert connections, "the run did try to connect"


@pytest.mark.parametrize("path", [f"ftp://{FTP_HOST}/data/a.txt", "azureml://datastores/ftpds/paths/a.txt"])
def test_validate_of_an_ftp_input_connects_nowhere(workspace_dir: Path, tmp_path: Path, path: str) -> None:
    _save(workspace_dir, "ftpds", f"ftp://{FTP_HOST}/data")
    result = _validate_offline(tmp_path, workspace_dir, path)
    assert result.returncode == 0, result.stderr
    assert "network attempt" not in result.stderr and path in result.stdout


class _Sftp(AbstractFileSystem):
    """sftp:// as paramiko's filesystem is: it connects when it is made (made here: a failure)."""

    protocol = ("sftp", "ssh")
    made: list[Any] = []

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        self.made.append(kwargs)
        raise ConnectionRefusedError(111, "Connection refused")


@pytest.mark.parametrize("path", ["sftp://sftp.example.invalid/data/a.txt",
                                  "simplecache::sftp://sftp.example.invalid/data/a.txt",
                                  "azureml://datastores/sftpds/paths/a.txt"])
def test_planning_makes_no_sftp_filesystem(workspace_dir: Path, monkeypatch: pytest.MonkeyPatch,
                                           path: str) -> None:
    monkeypatch.setitem(_registry, "sftp", _Sftp)
    monkeypatch.setattr(_Sftp, "made", [])
    _save(workspace_dir, "sftpds", "sftp://sftp.example.invalid/data", username="u")
    resolver = Resolver(Workspace(workspace_dir))
    assert resolver.resolve(path, field=FIELD, check=False).kind is PathKind.ANY and _Sftp.made == []
    with pytest.raises(StorageError) as info:  # the run makes it
        resolver.resolve(path, field=FIELD, check=True)
    assert info.value.field == FIELD and "cannot connect" in info.value.message and _Sftp.made
