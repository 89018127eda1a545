"""A registration source that holds the datastore's upload folder (``DataUpload/``, ``LocalUpload/``) is
refused however it holds it: by path, or through a bind mount of the folder (or of the datastore's root)
inside the source, which no path comparison sees. Folders are compared by (device, inode).

Everything is in this test's tmp_path; each bind mount is undone in a ``finally``."""

from __future__ import annotations

import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from runner.client import MLClient
from runner.errors import RegistryError
from runner.spec.data import Data
from runner.spec.model import Model


@contextmanager
def bind(source: Path, target: Path) -> Iterator[None]:
    target.mkdir(parents=True)
    subprocess.run(["mount", "--bind", str(source), str(target)], check=True)
    try:
        yield
    finally:
        subprocess.run(["umount", str(target)], check=True)


@pytest.fixture
def client(tmp_path: Path) -> MLClient:
    ml = MLClient(workspace_dir=tmp_path / "ws")
    project = tmp_path / "proj"
    (project / "DataUpload" / "old" / "1").mkdir(parents=True)
    (project / "DataUpload" / "old" / "1" / "old.txt").write_text("registered before")
    ml.datastores.create_or_update({"name": "proj", "type": "local", "path": str(project)})
    (tmp_path / "src").mkdir()
    (tmp_path / "src" / "a.txt").write_text("a")
    return ml


def _files(root: Path) -> list[str]:
    return sorted(str(p.relative_to(root)) for p in root.rglob("*") if p.is_file())


@pytest.mark.root("makes bind mounts")
@pytest.mark.parametrize("mounted", ["proj/DataUpload", "proj"])
def test_a_source_holding_a_bind_mount_of_the_upload_folder_is_refused(client: MLClient, tmp_path: Path,
                                                                       mounted: str) -> None:
    project, src = tmp_path / "proj", tmp_path / "src"
    before = _files(project)
    with bind(tmp_path / mounted, src / "deep" / "m"):
        with pytest.raises(RegistryError) as caught:
            client.data.create_or_update(Data(name="dd", version="1", type="uri_folder", path=str(src),
                                              datastore="proj"))
        assert _files(project) == before  # nothing staged, nothing registered
    err = caught.value
    assert err.field == "path" and "DataUpload" in err.message and "datastore 'proj'" in err.message
    assert str(src / "deep" / "m") in err.message and "bind mount" in err.message
    assert err.hint and "azureml://datastores/proj/paths/" in err.hint
    assert list(client.data.list()) == []


@pytest.mark.root("makes bind mounts")
def test_a_source_that_is_a_bind_mount_of_the_upload_folder_is_refused(client: MLClient,
                                                                       tmp_path: Path) -> None:
    root = Path(client.workspace.root) / "datastores" / "workspaceblobstore"
    root.mkdir(parents=True, exist_ok=True)
    (root / "m.pkl").write_bytes(b"m")
    client.models.create_or_update(Model(name="first", path=str(root / "m.pkl")))  # makes LocalUpload/
    with bind(root / "LocalUpload", tmp_path / "view"), pytest.raises(RegistryError, match="LocalUpload"):
        client.models.create_or_update(Model(name="m", path=str(tmp_path / "view")))
    assert [m.name for m in client.models.list()] == ["first"]


@pytest.mark.root("makes bind mounts")
def test_a_bind_mount_of_another_folder_still_registers(client: MLClient, tmp_path: Path) -> None:
    (tmp_path / "other").mkdir()
    (tmp_path / "other" / "o.txt").write_text("o")
    with bind(tmp_path / "other", tmp_path / "src" / "m"):
        created = client.data.create_or_update(Data(name="dd", type="uri_folder", path=str(tmp_path / "src"),
                                                    datastore="proj"))
    assert created.version == "1"
    assert {"DataUpload/dd/1/src/a.txt", "DataUpload/dd/1/src/m/o.txt"} <= set(_files(tmp_path / "proj"))
