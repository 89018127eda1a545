"""Registering a model or data asset never copies the workspace's own secrets or database into the
registry (where they would be served for download), however the source reaches them: as given, a
folder that holds them, a link in a folder, a hard link, the database's journal. A registered copy
never gets wider permissions than its source."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest
from click.testing import CliRunner

from runner.cli.main import app
from runner.client import MLClient
from runner.errors import RunnerError
from runner.spec.data import Data
from runner.spec.model import Model

KEY = "c2VjcmV0LWFjY291bnQta2V5LW5ldmVyLXNob3du"


@pytest.fixture
def client(tmp_path: Path) -> MLClient:
    ml = MLClient(workspace_dir=tmp_path / "ws")
    ml.datastores.create_or_update({"name": "azkey", "type": "azure_blob", "account_name": "a",
                                    "container_name": "c", "credentials": {"account_key": KEY}})
    return ml


def _secret_file(ml: MLClient) -> Path:
    path = Path(ml.workspace.secrets_dir) / "datastore-azkey.json"
    assert KEY in path.read_text()
    return path


def _registered_files(ml: MLClient) -> list[Path]:
    return [p for p in Path(ml.workspace.root).rglob("*") if p.is_file() and
            {"LocalUpload", "DataUpload"} & set(p.parts)]


def _refused(ml: MLClient, path: str, *, data: bool = False) -> RunnerError:
    with pytest.raises(RunnerError) as caught:
        if data:
            ml.data.create_or_update(Data(name="d", path=path, type="uri_folder"))
        else:
            ml.models.create_or_update(Model(name="x", path=path))
    err = caught.value
    assert err.field == "path" and err.hint and "cannot register" in err.message, err.render()
    assert "the workspace's secrets" in err.message or "the workspace's database" in err.message
    assert KEY not in err.render()
    assert _registered_files(ml) == []
    return err


def test_a_secrets_file_the_folder_and_the_database_are_refused(client: MLClient) -> None:
    secret = _secret_file(client)
    err = _refused(client, str(secret))
    assert f"'{secret}' lies in the workspace's secrets" in err.message
    _refused(client, str(secret.parent))
    _refused(client, str(client.workspace.db_path))
    _refused(client, f"local://{secret}")


def test_a_folder_that_holds_them_is_refused(client: MLClient) -> None:
    _refused(client, str(client.workspace.root))
    _refused(client, str(Path(client.workspace.root).parent), data=True)


def test_a_link_or_a_hard_link_to_them_inside_a_folder_is_refused(client: MLClient, tmp_path: Path) -> None:
    secret = _secret_file(client)
    folder = tmp_path / "innocent"
    (folder / "sub").mkdir(parents=True)
    (folder / "weights.bin").write_bytes(b"w")
    (folder / "sub" / "key.json").symlink_to(secret)
    _refused(client, str(folder))
    _refused(client, str(folder), data=True)
    (folder / "sub" / "key.json").unlink()
    (folder / "sub" / "ws").symlink_to(client.workspace.root, target_is_directory=True)
    _refused(client, str(folder))
    (folder / "sub" / "ws").unlink()
    os.link(secret, folder / "sub" / "hard.json")
    _refused(client, str(folder / "sub" / "hard.json"))
    _refused(client, str(folder))


def test_the_databases_journal_is_refused(client: MLClient, tmp_path: Path) -> None:
    wal = Path(f"{client.workspace.db_path}-wal")
    wal.write_bytes(b"journal")  # sqlite's write-ahead log beside the database
    _refused(client, str(wal))


def test_an_ordinary_folder_with_a_link_registers(client: MLClient, tmp_path: Path) -> None:
    folder = tmp_path / "model"
    folder.mkdir()
    (folder / "weights.bin").write_bytes(b"w")
    (folder / "alias.bin").symlink_to(folder / "weights.bin")
    created = client.models.create_or_update(Model(name="ok", path=str(folder)))
    assert created.version == "1"


def test_the_cli_refuses_with_one_clear_error(client: MLClient, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("RUNNER_WORKSPACE", str(client.workspace.root))
    secret = _secret_file(client)
    for noun in ("model", "data"):
        result = CliRunner().invoke(app, [noun, "create", "--name", "x", "--path", str(secret)])
        err = result.exception
        assert isinstance(err, RunnerError), result.output
        assert "the workspace's secrets" in err.render() and KEY not in err.render() + result.output


def test_a_registered_copy_is_not_more_readable_than_its_source(client: MLClient, tmp_path: Path) -> None:
    source = tmp_path / "private.bin"
    source.write_bytes(b"p")
    source.chmod(0o640)
    folder = tmp_path / "folder"
    folder.mkdir()
    (folder / "owner-only.bin").write_bytes(b"o")
    (folder / "owner-only.bin").chmod(0o600)
    (folder / "shared.bin").write_bytes(b"s")
    (folder / "shared.bin").chmod(0o644)
    client.models.create_or_update(Model(name="f", path=str(source)))
    client.models.create_or_update(Model(name="d", path=str(folder)))
    modes = {p.name: stat.S_IMODE(p.stat().st_mode) for p in _registered_files(client)}
    assert modes["private.bin"] & 0o007 == 0 and modes["owner-only.bin"] & 0o077 == 0, modes
    mask = os.umask(0)
    os.umask(mask)
    assert modes["shared.bin"] == 0o644 & ~mask, modes  # as readable as its source, the umask allowing
