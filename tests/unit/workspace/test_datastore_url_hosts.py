"""A datastore over a host whose fsspec filesystem takes the host as an option and drops it from its paths
(ftp://, sftp://, ssh://, smb://: ``FTPFileSystem._strip_protocol('ftp://h:2121/base')`` is ``/base``):
the URL a path on it resolves to (what a ``direct`` binding hands the job, the plan shows and the record
keeps) keeps the scheme, the host and the port (and a user name written in the datastore's URL), as the
datastore's URL names them, or as its storage options do; never a password (storage options hold it).

Nothing here connects anywhere: planning (``check=False``) leaves these filesystems unmade, every
internet connection of this process is refused and counted, and the host is a documentation address
(192.0.2.1, RFC 5737)."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from fsspec.registry import _registry
from fsspec.spec import AbstractFileSystem
from fsspec.utils import infer_storage_options

from runner.modes import AssetType, Direction, PathKind
from runner.plan.build import direct_binding
from runner.workspace.datastores import DatastoreStore, FsspecDatastore
from runner.workspace.db import Workspace
from runner.workspace.resolve import Resolver

FIELD = "inputs.a.path"
HOST = "192.0.2.1:2121"  # TEST-NET-1: documentation only, never connected to
PASSWORD = "s41c-pw-never-shown"


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


def _resolved_url(workspace: Path, url: str, path: str = "x.csv", **options: Any) -> str:
    datastore = FsspecDatastore(name="remote", url=url, storage_options=options)
    DatastoreStore(Workspace(workspace)).save(datastore)
    found = Resolver(Workspace(workspace)).resolve(f"azureml://datastores/remote/paths/{path}", field=FIELD,
                                                   check=False)
    assert found.kind is PathKind.ANY and found.uri == f"azureml://datastores/remote/paths/{path}"
    return found.url


@pytest.mark.parametrize(("url", "options", "expected"), [
    (f"ftp://{HOST}/base", {}, f"ftp://{HOST}/base/x.csv"),
    (f"ftp://{HOST}/base", {"username": "me", "password": PASSWORD}, f"ftp://{HOST}/base/x.csv"),
    (f"ftp://anonymous@{HOST}/base/", {}, f"ftp://anonymous@{HOST}/base/x.csv"),
    (f"ftp://{HOST}", {}, f"ftp://{HOST}/x.csv"),
    ("ftp:///base", {"host": "192.0.2.1", "port": 2121, "password": PASSWORD}, f"ftp://{HOST}/base/x.csv"),
    ("ftp:///base", {"host": "192.0.2.1"}, "ftp://192.0.2.1/base/x.csv"),
    (f"simplecache::ftp://{HOST}/base", {}, f"simplecache::ftp://{HOST}/base/x.csv"),
])
def test_an_ftp_datastore_path_keeps_its_host(workspace_dir: Path, connections: list[Any], url: str,
                                              options: dict[str, Any], expected: str) -> None:
    found = _resolved_url(workspace_dir, url, **options)
    assert found == expected
    assert PASSWORD not in found and connections == []


def test_a_member_of_an_archive_on_an_ftp_host_keeps_the_host(workspace_dir: Path,
                                                             connections: list[Any]) -> None:
    found = _resolved_url(workspace_dir, f"zip://::ftp://{HOST}/base/d.zip", "sub/a.txt")
    assert found == f"zip://sub/a.txt::ftp://{HOST}/base/d.zip" and connections == []


class _Paramiko(AbstractFileSystem):
    """sftp:// and smb:// as fsspec's own filesystems read a URL (the host an option, dropped from the
    path: ``infer_storage_options``), without paramiko or smbprotocol: made here, it fails."""

    protocol: Any = ("sftp", "ssh")

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        raise ConnectionRefusedError(111, "Connection refused")

    @classmethod
    def _strip_protocol(cls, path: Any) -> Any:
        return infer_storage_options(path)["path"]

    @staticmethod
    def _get_kwargs_from_urls(urlpath: str) -> dict[str, Any]:
        out = infer_storage_options(urlpath)
        out.pop("path", None)
        out.pop("protocol", None)
        return out


class _Smb(_Paramiko):
    protocol = "smb"


@pytest.mark.parametrize(("url", "expected"), [
    ("sftp://me@sftp.example.invalid:2222/data", "sftp://me@sftp.example.invalid:2222/data/x.csv"),
    ("ssh://sftp.example.invalid/data", "ssh://sftp.example.invalid/data/x.csv"),
    ("smb://files.example.invalid:4445/share/data", "smb://files.example.invalid:4445/share/data/x.csv"),
])
def test_sftp_ssh_and_smb_datastore_paths_keep_their_host(workspace_dir: Path,
                                                         monkeypatch: pytest.MonkeyPatch, url: str,
                                                         expected: str) -> None:
    for protocol, cls in (("sftp", _Paramiko), ("ssh", _Paramiko), ("smb", _Smb)):
        monkeypatch.setitem(_registry, protocol, cls)  # fsspec's registry: as it was, afterwards
    assert _resolved_url(workspace_dir, url, password=PASSWORD) == expected


def test_a_direct_input_on_an_ftp_datastore_gets_the_host(workspace_dir: Path,
                                                         connections: list[Any]) -> None:
    """What the plan hands the job (the value it prints under "in the job", and the environment's)."""
    DatastoreStore(Workspace(workspace_dir)).save(FsspecDatastore(name="anon", url=f"ftp://{HOST}/base"))
    found = Resolver(Workspace(workspace_dir)).resolve("azureml://datastores/anon/paths/x.csv", field=FIELD,
                                                       check=False)
    binding = direct_binding("a", Direction.INPUT, AssetType.URI_FILE, found, kind=PathKind.FILE)
    assert binding.value == binding.host_value == f"ftp://{HOST}/base/x.csv"
    assert binding.uri == "azureml://datastores/anon/paths/x.csv" and connections == []


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


def test_the_dry_run_plan_of_a_direct_output_on_an_ftp_datastore_names_the_host(workspace_dir: Path,
                                                                                tmp_path: Path) -> None:
    DatastoreStore(Workspace(workspace_dir)).save(FsspecDatastore(
        name="ftpds", url=f"ftp://uploader@{HOST}/base", storage_options={"password": PASSWORD}))
    job = tmp_path / "job.yml"
    job.write_text("command: echo hi\nenvironment:\n  image: python:3.11\noutputs:\n  o:\n"
                   "    type: uri_folder\n    path: azureml://datastores/ftpds/paths/out\n    mode: direct\n")
    env = {**os.environ, "RUNNER_FORKSERVER": "0", "RUNNER_WORKSPACE": str(workspace_dir)}
    result = subprocess.run([sys.executable, "-c", _NO_NETWORK, "job", "create", "--file", str(job),
                             "--dry-run", "-o", "json"], capture_output=True, text=True, timeout=120,
                            check=False, env=env, cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    plan = json.loads(result.stdout)
    assert plan["outputs"][0]["value"] == f"ftp://uploader@{HOST}/base/out", plan["outputs"]
    assert plan["env"]["AZURE_ML_OUTPUT_o"] == f"ftp://uploader@{HOST}/base/out"
    assert PASSWORD not in result.stdout + result.stderr
