"""Registering a folder on this machine that holds the folder the registry copies into (the target
datastore's ``LocalUpload/`` for a model, ``DataUpload/`` for a data asset) is refused before anything
is copied: the copy would take the registered versions and its own half-finished staging along."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

from runner.cli.main import app
from runner.client import MLClient
from runner.errors import RegistryError
from runner.spec.data import Data
from runner.spec.model import Model


@pytest.fixture
def client(tmp_path: Path) -> MLClient:
    ml = MLClient(workspace_dir=tmp_path / "ws")
    project = tmp_path / "d" / "proj"
    (project / "DataUpload" / "old" / "1").mkdir(parents=True)
    (project / "DataUpload" / "old" / "1" / "old.txt").write_text("registered before")
    (project / "A.txt").write_text("a")
    (project / "b.txt").write_text("b")
    ml.datastores.create_or_update({"name": "proj", "type": "local", "path": str(project)})
    return ml


def _uploaded(root: Path) -> list[str]:
    return sorted(str(p.relative_to(root)) for p in root.rglob("*") if p.is_file())


@pytest.mark.parametrize("where", ["d/proj", "d"])  # the datastore's root, or a folder holding it
def test_a_data_source_holding_the_datastores_upload_folder_is_refused(client: MLClient, tmp_path: Path,
                                                                      where: str) -> None:
    project = tmp_path / "d" / "proj"
    before = _uploaded(project)
    with pytest.raises(RegistryError) as caught:
        client.data.create_or_update(Data(name="dd", version="1", type="uri_folder",
                                          path=str(tmp_path / where), datastore="proj"))
    err = caught.value
    assert err.field == "path" and "DataUpload" in err.message and "datastore 'proj'" in err.message
    assert err.hint is not None and "azureml://datastores/" in err.hint
    if where == "d/proj":  # in place, as it is: the datastore's own path
        assert "azureml://datastores/proj/paths/" in err.hint
    assert _uploaded(project) == before  # nothing staged, nothing registered
    assert list(client.data.list()) == []


def test_a_model_source_holding_the_default_datastores_upload_folder_is_refused(client: MLClient) -> None:
    root = Path(client.workspace.root) / "datastores" / "workspaceblobstore"
    (root / "model.pkl").parent.mkdir(parents=True, exist_ok=True)
    (root / "model.pkl").write_bytes(b"m")
    client.models.create_or_update(Model(name="first", path=str(root / "model.pkl")))  # makes LocalUpload/
    assert (root / "LocalUpload").is_dir()
    with pytest.raises(RegistryError, match="LocalUpload") as caught:
        client.models.create_or_update(Model(name="m", path=str(root)))
    hint = caught.value.hint
    assert hint is not None and "azureml://datastores/workspaceblobstore/paths/" in hint
    assert [m.name for m in client.models.list()] == ["first"]


def test_a_folder_beside_or_inside_the_upload_folder_still_registers(client: MLClient,
                                                                     tmp_path: Path) -> None:
    project = tmp_path / "d" / "proj"
    (project / "sub").mkdir()
    (project / "sub" / "c.txt").write_text("c")
    created = client.data.create_or_update(Data(name="dd", type="uri_folder", path=str(project / "sub"),
                                                datastore="proj"))
    assert created.version == "1"
    again = client.data.create_or_update(Data(name="again", type="uri_folder", datastore="proj",
                                              path=str(project / "DataUpload" / "old" / "1")))
    assert again.version == "1"
    assert {"DataUpload/old/1/old.txt", "DataUpload/again/1/1/old.txt"} <= set(_uploaded(project))
    assert "DataUpload/dd/1/sub/c.txt" in _uploaded(project)


def test_the_cli_refuses_with_one_clear_error(client: MLClient, tmp_path: Path,
                                              monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("RUNNER_WORKSPACE", str(client.workspace.root))
    result = CliRunner().invoke(app, ["data", "create", "--name", "dd", "--version", "1", "--type",
                                      "uri_folder", "--path", str(tmp_path / "d" / "proj"),
                                      "--datastore", "proj"])
    assert isinstance(result.exception, RegistryError), result.output
    assert "DataUpload" in result.exception.render()
    assert not any(".incoming-" in p for p in _uploaded(tmp_path / "d" / "proj"))
