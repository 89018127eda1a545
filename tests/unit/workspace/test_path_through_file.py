"""A path that goes on below a file (``azureml://datastores/<ds>/paths/runner.db/x`` where ``runner.db``
is a file) names nothing that can exist: one error that says which part of the path is a file, at
planning (``check=False``, what ``job validate`` does) and when the job runs (``check=True``), never
fsspec's ``NotADirectoryError`` with the storage hint about credentials.

Everything lives in this test's tmp_path (a throwaway workspace and datastore folder)."""

from __future__ import annotations

from pathlib import Path

import pytest

from runner.errors import ResolveError, RunnerError
from runner.workspace.datastores import FsspecDatastore, LocalDatastore
from runner.workspace.db import Workspace
from runner.workspace.resolve import Resolver


@pytest.fixture
def resolver(tmp_path: Path) -> Resolver:
    ws = Workspace(tmp_path / "ws")
    ws.secrets_dir.mkdir(parents=True, exist_ok=True)
    store = tmp_path / "store"
    (store / "sub").mkdir(parents=True)
    (store / "runner.db").write_bytes(b"not a folder")
    found = Resolver(ws)
    found.datastores.save(LocalDatastore(name="loc", path=str(store)))
    found.datastores.save(FsspecDatastore(name="cached", url=f"simplecache::file://{store}"))
    return found


def _check(err: RunnerError, through: str) -> None:
    text = err.render()
    assert isinstance(err, ResolveError), text
    assert f"'{through}'" in err.message and "is a file" in err.message, text
    assert "NotADirectoryError" not in text and "credentials" not in text, text
    assert err.hint and "folder" in err.hint


@pytest.mark.parametrize("check", [False, True])
@pytest.mark.parametrize("datastore", ["loc", "cached"])
def test_a_datastore_path_below_a_file_names_the_file(resolver: Resolver, datastore: str,
                                                      check: bool) -> None:
    with pytest.raises(RunnerError) as caught:
        resolver.resolve(f"azureml://datastores/{datastore}/paths/runner.db/x/y.csv", field="inputs.d.path",
                         asset_type="uri_file", check=check)
    _check(caught.value, f"azureml://datastores/{datastore}/paths/runner.db")


@pytest.mark.parametrize("form", ["{p}", "file://{p}"])
def test_a_host_path_below_a_file_names_the_file(resolver: Resolver, tmp_path: Path, form: str) -> None:
    below = tmp_path / "store" / "runner.db" / "x"
    with pytest.raises(RunnerError) as caught:
        resolver.resolve(form.format(p=below), field="inputs.d.path", check=False)
    _check(caught.value, str(tmp_path / "store" / "runner.db"))


def test_an_output_below_a_file_names_the_file(resolver: Resolver) -> None:
    with pytest.raises(RunnerError) as caught:
        resolver.resolve_output("azureml://datastores/loc/paths/runner.db/out", job_name="j",
                                output_name="o", field="outputs.o.path", check=False)
    _check(caught.value, "azureml://datastores/loc/paths/runner.db")


def test_the_file_itself_and_a_real_folder_still_resolve(resolver: Resolver) -> None:
    assert resolver.resolve("azureml://datastores/loc/paths/runner.db", check=False).kind.value == "file"
    assert resolver.resolve("azureml://datastores/loc/paths/sub", check=False).kind.value == "folder"
