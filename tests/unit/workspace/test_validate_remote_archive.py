"""An input that is an archive chain over remote storage (``zip://<member>::abfs://...``, ``tar://``, a cache
around either) is not opened when a job is planned (``check=False``: ``job validate``, ``job create``):
fsspec reads the archive as it makes its filesystem, so validate would contact storage (and, for an
unreachable endpoint, wait out the SDK's retries). Planning parses the chain and checks its protocols and
form; the run opens it, and a chain that cannot be read there is one clear error: the archive missing,
its storage unreachable, or a file that is not the archive its link reads.

Nothing here reaches a network: the endpoint is a 127.0.0.1 port nothing listens on, and a connection
attempt fails the test; the remote store of the in-process cases is memory under another protocol."""

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

from runner.errors import ResolveError, SpecError, StorageError
from runner.modes import PathKind
from runner.workspace.db import Workspace
from runner.workspace.resolve import Resolver

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


def _job(tmp_path: Path, url: str, mode: str) -> Path:
    job = tmp_path / "job.yml"
    job.write_text(f"command: cat ${{{{inputs.a}}}}\nenvironment:\n  image: python:3.11\ninputs:\n  a:\n"
                   f"    type: uri_file\n    path: {url}\n    mode: {mode}\n")
    return job


@pytest.mark.parametrize(("url", "mode"), [
    ("zip://a.txt::abfs://c/d.zip", "download"),
    ("tar://a.txt::abfs://c/d.tar.gz", "ro_mount"),
    ("simplecache::zip://a.txt::abfs://c/d.zip", "download"),
    ("zip://a.txt::https://data.example.invalid/d.zip", "download"),
])
def test_validate_of_a_remote_archive_input_contacts_nothing(tmp_path: Path, url: str, mode: str) -> None:
    connection = (f"DefaultEndpointsProtocol=http;AccountName=devstoreaccount1;AccountKey={_KEY};"
                  f"BlobEndpoint=http://127.0.0.1:{_free_port()}/devstoreaccount1;")
    env = {**os.environ, "RUNNER_FORKSERVER": "0", "RUNNER_WORKSPACE": str(tmp_path / "ws"),
           "AZURE_STORAGE_CONNECTION_STRING": connection}
    result = subprocess.run([sys.executable, "-c", _NO_NETWORK, "job", "validate", "--file",
                             str(_job(tmp_path, url, mode))], capture_output=True, text=True, timeout=120,
                            check=False, env=env, cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert "network attempt" not in result.stderr
    assert url in result.stdout, result.stdout  # the plan names the input as written


class _Remote(MemoryFileSystem):
    """A store elsewhere (its protocol is none of this machine's), held in memory: what it opened is
    ``opened``."""

    protocol = ("s39f-remote",)
    opened: list[str] = []

    @classmethod
    def _strip_protocol(cls, path: Any) -> Any:
        return MemoryFileSystem._strip_protocol(str(path).replace("s39f-remote://", "memory://", 1))

    def _open(self, path: str, *args: Any, **kwargs: Any) -> Any:
        self.opened.append(path)
        return super()._open(path, *args, **kwargs)


@pytest.fixture
def remote(monkeypatch: pytest.MonkeyPatch) -> Iterator[MemoryFileSystem]:
    monkeypatch.setitem(_registry, "s39f-remote", _Remote)  # fsspec's registry: as it was, afterwards
    monkeypatch.setattr(_Remote, "opened", [])
    store = MemoryFileSystem()
    data = io.BytesIO()
    with zipfile.ZipFile(data, "w") as archive:
        archive.writestr("a.txt", "inside\n")
    store.pipe("/s39f/d.zip", data.getvalue())
    store.pipe("/s39f/junk.zip", b"not an archive" * 40)
    yield store
    store.rm("/s39f", recursive=True)


@pytest.fixture
def resolver(tmp_path: Path) -> Resolver:
    return Resolver(Workspace(tmp_path / "ws"))


def test_planning_leaves_a_remote_archive_closed(resolver: Resolver, remote: MemoryFileSystem) -> None:
    found = resolver.resolve("zip://a.txt::s39f-remote://s39f/d.zip", field="inputs.a.path", check=False)
    assert found.kind is PathKind.ANY and found.cache_key is None and _Remote.opened == []
    assert found.uri == found.url == "zip://a.txt::s39f-remote://s39f/d.zip" and found.path == "a.txt"
    assert found.fs.cat_file("a.txt") == b"inside\n"  # made when used: the archive read then
    assert _Remote.opened == ["/s39f/d.zip"]


def test_the_run_reads_the_remote_archive(resolver: Resolver, remote: MemoryFileSystem) -> None:
    found = resolver.resolve("zip://a.txt::s39f-remote://s39f/d.zip", field="inputs.a.path", check=True)
    assert found.kind is PathKind.FILE and _Remote.opened == ["/s39f/d.zip"]


@pytest.mark.parametrize("url", ["zip://a.txt::s39f-remote://s39f/", "zip://a.txt::s39f-remote://",
                                 "tar://a.txt::simplecache::s39f-remote://s39f/"])
def test_a_chain_whose_archive_link_names_no_file_is_refused_when_planned(
        resolver: Resolver, remote: MemoryFileSystem, url: str) -> None:
    with pytest.raises(SpecError) as info:
        resolver.resolve(url, field="inputs.a.path", check=False)
    err = info.value
    assert err.field == "inputs.a.path" and err.message.startswith("input 'a' cannot be read: ")
    assert f"'{url}'" in err.message and "names no archive file" in err.message, err.message
    assert err.hint and "<protocol>://<path of the archive>" in err.hint and _Remote.opened == []


def test_a_missing_remote_archive_is_said_when_the_job_runs(resolver: Resolver, remote: MemoryFileSystem
                                                           ) -> None:
    url = "zip://a.txt::s39f-remote://s39f/gone.zip"
    assert resolver.resolve(url, field="inputs.a.path", check=False).kind is PathKind.ANY
    with pytest.raises(ResolveError) as info:
        resolver.resolve(url, field="inputs.a.path", check=True)
    assert "the file 's39f-remote://s39f/gone.zip' that" in info.value.message
    assert "does not exist" in info.value.message and "last link" in (info.value.hint or "")


@pytest.mark.parametrize("check", [True, False])
def test_a_remote_file_that_is_no_archive_is_one_clear_error(resolver: Resolver, remote: MemoryFileSystem,
                                                             check: bool) -> None:
    found = resolver.resolve("zip://a.txt::s39f-remote://s39f/junk.zip", field="inputs.a.path", check=False)
    with pytest.raises(SpecError) as info:  # when the run opens it, or when the planned one is used
        if check:
            resolver.resolve(found.uri, field="inputs.a.path", check=True)
        else:
            found.fs.info(found.path)
    err = info.value
    assert err.field == "inputs.a.path" and err.message.startswith("input 'a' cannot be read through "), err
    assert "'s39f-remote://s39f/junk.zip' cannot be read as a zip archive" in err.message, err.message
    assert err.hint and "zip:// reads a .zip" in err.hint


class ServiceRequestError(Exception):
    """The Azure SDK's, by name (``storage_errors.classify`` reads names): no connection could be made."""


def test_an_unreachable_remote_archive_is_a_cannot_connect_error_at_run(
        resolver: Resolver, monkeypatch: pytest.MonkeyPatch) -> None:
    import fsspec.core

    def unreachable(url: str, **_: Any) -> Any:
        raise ServiceRequestError("Cannot connect to host 127.0.0.1:9 [Connect call failed]")

    monkeypatch.setattr(fsspec.core, "url_to_fs", unreachable)
    url = "zip://a.txt::abfs://c/d.zip"
    with pytest.raises(StorageError) as info:
        resolver.resolve(url, field="inputs.a.path", check=True)
    assert f"cannot connect to the storage service holding '{url}'" in info.value.message
    assert "127.0.0.1:9" in info.value.message and "host and port" in (info.value.hint or "")
