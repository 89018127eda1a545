"""The runner reads Azure with its own retrying adlfs, registered in the process under runner-only
protocol names (``mounts.stores.azure_urls.OWN_PROTOCOLS``: ``runner-abfs``, ``runner-az``,
``runner-abfss``). A user never writes them: a path, a chained URL's link, the protocols fsspec reads a
datastore's URL as, or a datastore's ``url:`` naming one is one ``SpecError`` at that field, saying what
to write instead (``abfs://``, ``az://``, ``abfss://``), whether or not the names are registered yet (a job
with an Azure input registers them in the process, where the Python API creates the next). No storage is
contacted; workspaces in tmp_path."""

from __future__ import annotations

from pathlib import Path

import pytest

from mounts.stores.azure_urls import OWN_PROTOCOLS, use_retrying_adlfs
from runner import MLClient
from runner.errors import SpecError
from runner.fsspec_links import fsspec_protocols, refuse_protocols
from runner.reserved_protocols import is_reserved
from runner.uris import FsspecUrl, LocalPath, parse_path

WRITTEN = [
    ("runner-abfs://c/azureml/victim/x", "runner-abfs", "abfs://c/azureml/victim/x"),
    ("runner-az://c/in", "runner-az", "az://c/in"),
    ("runner-abfss://c@acct.dfs.core.windows.net/in", "runner-abfss", "abfss://c@acct.dfs.core.windows.net/in"),
    ("RUNNER-ABFS://c/in", "RUNNER-ABFS", "abfs://c/in"),
    ("simplecache::runner-abfs://c/in", "runner-abfs", "simplecache::abfs://c/in"),
    ("zip://a.txt::runner-az://c/d.zip", "runner-az", "zip://a.txt::az://c/d.zip"),
    ("runner-abfs::abfs://c/in", "runner-abfs", None),
    ("runner-s3://b/k", "runner-s3", None),
]


@pytest.fixture(params=[False, True], ids=["unregistered", "registered"])
def registered(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> bool:
    from fsspec.registry import _registry, known_implementations

    if request.param:
        use_retrying_adlfs()  # as an Azure input of a job run in this process does
    else:  # as in a fresh process (another test may have registered them)
        for ours in OWN_PROTOCOLS.values():
            monkeypatch.delitem(known_implementations, ours, raising=False)
            monkeypatch.delitem(_registry, ours, raising=False)
    return bool(request.param)


@pytest.mark.parametrize(("path", "protocol", "instead"), WRITTEN)
def test_a_path_naming_a_runner_only_protocol_is_one_error_at_its_field(
        registered: bool, path: str, protocol: str, instead: str | None) -> None:
    with pytest.raises(SpecError) as caught:
        parse_path(path, field="outputs.out.path")
    err = caught.value
    assert err.field == "outputs.out.path"
    assert f"'{protocol}'" in err.message and "runner" in err.message, err.message
    assert err.hint is not None and all(f"{p}://" in err.hint for p in ("abfs", "az", "abfss")), err.hint
    if instead is not None:
        assert instead in err.hint, err.hint


def test_the_names_the_runner_registers_are_all_reserved() -> None:
    assert OWN_PROTOCOLS and all(is_reserved(ours) for ours in OWN_PROTOCOLS.values())
    assert not any(is_reserved(theirs) for theirs in (*OWN_PROTOCOLS, "s3", "simplecache", "file", "zip"))


def test_fsspecs_protocols_of_a_datastore_url_naming_one_are_refused(registered: bool) -> None:
    """What fsspec reads a datastore's URL as (a storage option ``protocol`` renames a link)."""
    with pytest.raises(SpecError) as caught:
        refuse_protocols("abfs://c/in", ["runner-abfs"], "inputs.a.path", known=True)
    assert caught.value.field == "inputs.a.path" and "'runner-abfs'" in caught.value.message


@pytest.mark.parametrize("path", ["runner-abfs/x.csv", "./runner-abfs::x", "abfs://c/runner-abfs/x",
                                  "zip://a::file:///tmp/runner-abfs.zip", "simplecache::abfs://runner-abfs/x",
                                  "runners://c/x", "runner://c/x"])
def test_other_paths_holding_the_words_are_not_refused(path: str) -> None:
    try:
        ref = parse_path(path, field="inputs.a.path")
    except SpecError as err:  # refused for another reason (runner://: not a protocol fsspec knows: later)
        assert "runner-only" not in err.message and "runner's own" not in err.message, err.message
        return
    assert isinstance(ref, LocalPath | FsspecUrl)
    assert not any(is_reserved(p) for p in fsspec_protocols(str(ref)))


@pytest.mark.parametrize("url", ["runner-abfs://c", "simplecache::runner-az://c/d"])
def test_a_datastore_url_naming_one_is_refused_when_created(
        registered: bool, url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    client = MLClient(workspace_dir=tmp_path / "ws")
    with pytest.raises(SpecError) as caught:
        client.datastores.create_or_update({"name": "ds", "type": "fsspec", "url": url})
    err = caught.value
    assert err.field is not None and err.field.endswith("url"), err.field
    assert "runner-a" in err.message, err.message
    assert err.hint is not None and "abfs://" in err.hint, err.hint
    assert "ds" not in [d.name for d in client.datastores.list()]
