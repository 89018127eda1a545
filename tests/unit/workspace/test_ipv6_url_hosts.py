"""A URL whose host is an IPv6 literal: fsspec splits a chain at every '::', the one inside the brackets of
``[::1]`` too, so such a URL is one error saying so and how to write it (the address in full, or a host
name); the loopback refusal sees the host in every bracketed form that is left (full, zero-padded,
IPv4-mapped or -compatible, with a zone) and as fsspec itself reads the host (``infer_storage_options``:
the netloc up to its last ':'), so a bracket cannot hide ``localhost`` from it.

Nothing here opens a connection: the refusal comes before fsspec makes a filesystem."""

from __future__ import annotations

import ipaddress
from pathlib import Path

import pytest

from runner.errors import SpecError
from runner.uris import StorageUrl, parse_path
from runner.workspace.datastores import FsspecDatastore
from runner.workspace.db import Workspace
from runner.workspace.loopback import is_this_machine, own_addresses, refuse_this_machine
from runner.workspace.resolve import Resolver


@pytest.fixture
def ws(tmp_path: Path) -> Workspace:
    return Workspace(tmp_path / "ws")


@pytest.mark.parametrize(("url", "full"), [
    ("sftp://[::1]/x", "[0:0:0:0:0:0:0:1]"),
    ("http://[::1]:8080/a", "[0:0:0:0:0:0:0:1]"),
    ("sftp://[fe80::1%eth0]/x", "[fe80:0:0:0:0:0:0:1%eth0]"),
    ("https://[fe80::1%25eth0]/x", "[fe80:0:0:0:0:0:0:1%25eth0]"),
    ("ftp://me@[::ffff:127.0.0.1]:21/x", "[0:0:0:0:0:ffff:7f00:1]"),
    ("https://[2001:db8::5]/x.csv", "[2001:db8:0:0:0:0:0:5]"),
    ("simplecache::sftp://[::1]/x", "[0:0:0:0:0:0:0:1]"),
    ("zip://a.txt::http://[::1]:8000/d.zip", "[0:0:0:0:0:0:0:1]"),
])
def test_an_ipv6_literal_with_a_double_colon_is_one_clear_error(url: str, full: str) -> None:
    with pytest.raises(SpecError) as info:
        parse_path(url, field="inputs.d.path")
    err = info.value
    assert err.field == "inputs.d.path" and f"'{url}'" in err.message
    assert "'::'" in err.message and "chain" in err.message  # fsspec splits there
    assert err.hint and full in err.hint and "host name" in err.hint
    assert "Traceback" not in err.render()


def test_the_same_error_when_a_job_input_is_resolved(ws: Workspace) -> None:
    with pytest.raises(SpecError) as info:
        Resolver(ws).resolve("sftp://[::1]/etc/hostname", field="inputs.d.path", check=False)
    assert "'::'" in info.value.message and "[0:0:0:0:0:0:0:1]" in (info.value.hint or "")


def test_a_datastore_url_with_an_ipv6_double_colon_is_refused(ws: Workspace) -> None:
    resolver = Resolver(ws)
    resolver.datastores.save(FsspecDatastore(name="six", url="sftp://[::1]/data"))
    with pytest.raises(SpecError) as info:
        resolver.resolve("azureml://datastores/six/paths/x.csv", field="inputs.d.path", check=False)
    err = info.value
    assert "datastore 'six'" in err.message and "'::'" in err.message
    assert "[0:0:0:0:0:0:0:1]" in (err.hint or "") and err.field == "inputs.d.path"


def test_the_storage_emulator_on_ipv6_loopback_is_still_a_storage_url() -> None:
    assert isinstance(parse_path("http://[::1]:10000/devstoreaccount1/c/x.csv"), StorageUrl)


@pytest.mark.parametrize("url", [
    "sftp://[0:0:0:0:0:0:0:1]/etc/hostname",
    "sftp://me@[0000:0000:0000:0000:0000:0000:0000:0001]:22/x",
    "http://[0:0:0:0:0:0:0:0]:8080/jobs",
    "https://[0:0:0:0:0:FFFF:127.0.0.1]/x",
    "https://[0:0:0:0:0:ffff:7f00:1]/x",
    "ftp://[0:0:0:0:0:0:127.0.0.1]/x",  # IPv4-compatible: the embedded IPv4 address
    "sftp://[0:0:0:0:0:0:0:1%25lo]:22/x",
    "simplecache::sftp://[0:0:0:0:0:0:0:1]/x",
    "sftp://localhost:22[v1.x]/x",  # fsspec connects to 'localhost', urlsplit says 'v1.x'
    "ftp://127.0.0.1:[v1.x]/x",
])
def test_every_bracketed_form_of_this_machine_is_refused(ws: Workspace, url: str) -> None:
    with pytest.raises(SpecError) as info:
        Resolver(ws).resolve(url, field="inputs.d.path", check=False)
    err = info.value
    assert err.message.startswith("input 'd' cannot be read") and "this machine" in err.message
    assert err.hint and "local path" in err.hint


def test_an_own_address_in_bracketed_ipv6_form_is_refused() -> None:
    mine = [a for a in own_addresses() if a.version == 4 and not a.is_loopback]
    if not mine:
        pytest.skip("this machine has no non-loopback IPv4 address to test with")
    exploded = ipaddress.IPv6Address(f"::ffff:{mine[0]}").exploded  # 0000:...:ffff:c0a8:0001
    with pytest.raises(SpecError):
        refuse_this_machine(f"sftp://[{exploded}]/x", {}, field="inputs.d.path")


@pytest.mark.parametrize(("url", "options"), [
    ("sftp:///data", {"host": "[0:0:0:0:0:0:0:1]"}),
    ("sftp:///data", {"host": "::1"}),
    ("sftp:///data", {"sftp": {"host": "0:0:0:0:0:0:127.0.0.1"}}),
    ("https://[0:0:0:0:0:0:0:1]:8443/files", {}),
])
def test_a_datastore_host_in_bracketed_form_is_refused(
        ws: Workspace, url: str, options: dict[str, object]) -> None:
    resolver = Resolver(ws)
    resolver.datastores.save(FsspecDatastore(name="loop6", url=url, storage_options=options))
    with pytest.raises(SpecError) as info:
        resolver.resolve("azureml://datastores/loop6/paths/x.csv", field="inputs.d.path", check=False)
    assert "datastore 'loop6'" in info.value.message and "this machine" in info.value.message


@pytest.mark.parametrize("host", ["2001:db8:0:0:0:0:0:5", "[2001:db8:0:0:0:0:0:5]", "0:0:0:0:0:0:0:2",
                                  "64:ff9b:0:0:0:0:a01:203"])
def test_a_remote_ipv6_address_is_not_this_machine(host: str) -> None:
    assert not is_this_machine(host)
