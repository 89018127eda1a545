"""An fsspec datastore whose url names a host (a port, a user) and whose storage_options give another one:
fsspec's ``_un_chain`` cannot take both (``dict() got multiple values for keyword argument 'host'``, a
``TypeError``). That is one clear error naming the datastore and the option, at planning and when the
datastore is opened, never a raw ``TypeError``; an option's value is never shown (options may hold
secrets). Nothing connects: ftp (the standard library's) and a stand-in sftp class (paramiko is not
installed: its ``_get_kwargs_from_urls`` is sftp's own) make filesystems that are never used."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from fsspec.implementations.memory import MemoryFileSystem
from fsspec.registry import _registry
from fsspec.utils import infer_storage_options

from runner.errors import RunnerError, SpecError
from runner.workspace.datastores import FsspecDatastore
from runner.workspace.db import Workspace
from runner.workspace.fsspec_reads import refuse_fsspec_read
from runner.workspace.resolve import Resolver


class _StandInSFTP(MemoryFileSystem):
    """sftp's URL reading (``SFTPFileSystem._get_kwargs_from_urls``) without paramiko; never connects."""

    protocol = ("sftp", "ssh")

    @staticmethod
    def _get_kwargs_from_urls(urlpath: str) -> dict[str, Any]:
        out = infer_storage_options(urlpath)
        out.pop("path", None)
        out.pop("protocol", None)
        return out


@pytest.fixture
def stand_in_sftp(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(_registry, "sftp", _StandInSFTP)  # fsspec's registry: as it was, afterwards


@pytest.fixture
def resolver(tmp_path: Path) -> Resolver:
    ws = Workspace(tmp_path / "ws")
    ws.secrets_dir.mkdir(parents=True, exist_ok=True)
    return Resolver(ws)


CLASHES = [
    ("ftp://b.example/data", {"host": "a.example"}, "host"),
    ("ftp://me@b.example/data", {"username": "SECRET-USER"}, "username"),
    ("ftp://b.example:2121/data", {"port": 21}, "port"),
    ("simplecache::ftp://b.example/data", {"ftp": {"host": "a.example"}}, "host"),
    ("sftp://b.example/data", {"host": "a.example"}, "host"),
]


def _check(err: RunnerError, name: str, option: str) -> None:
    text = err.render()
    assert isinstance(err, SpecError), text
    assert f"datastore '{name}'" in err.message and f"'{option}'" in err.message, text
    assert "TypeError" not in text and "multiple values" not in text, text
    assert "a.example" not in text and "SECRET-USER" not in text, text  # the option's value: never
    assert err.hint and "storage_options" in err.hint and "url" in err.hint


@pytest.mark.usefixtures("stand_in_sftp")
@pytest.mark.parametrize(("url", "options", "option"), CLASHES)
def test_a_url_and_an_option_naming_two_hosts_is_one_clear_error(
        resolver: Resolver, url: str, options: dict[str, Any], option: str) -> None:
    resolver.datastores.save(FsspecDatastore(name="clash", url=url, storage_options=options))
    for check in (False, True):
        with pytest.raises(RunnerError) as caught:
            resolver.resolve("azureml://datastores/clash/paths/x.csv", field="inputs.d.path", check=check)
        _check(caught.value, "clash", option)
        assert caught.value.field == "inputs.d.path"


@pytest.mark.usefixtures("stand_in_sftp")
@pytest.mark.parametrize(("url", "options", "option"), CLASHES)
def test_opening_such_a_datastore_is_the_same_error(url: str, options: dict[str, Any], option: str,
                                                    tmp_path: Path) -> None:
    with pytest.raises(RunnerError) as caught:
        FsspecDatastore(name="clash", url=url, storage_options=options).open(tmp_path)
    _check(caught.value, "clash", option)


def test_the_same_host_twice_or_only_in_the_options_is_fine(resolver: Resolver) -> None:
    for url in ("ftp://a.example/data", "ftp:///data"):  # checked, never opened (ftp would connect)
        ds = FsspecDatastore(name="fine", url=url, storage_options={"host": "a.example"})
        assert refuse_fsspec_read(resolver.workspace, ds.url, field="inputs.d.path", datastore=ds,
                                  path="x.csv") is None
