"""Links in a folder registered from this machine: a link to a file is copied as the file it names; a link
to a folder and a dangling link are one clear error naming the entry, its source, what is allowed and how
to fix it. The check on the workspace's secrets never follows a link to a folder, and the copy refuses
what the check refuses by what it really opens (device and inode), so a link or a hard link swapped in
after the check does not slip through, onto a folder on this machine or onto another store.

Every link here is made by the test in its own tmp folder and points at a folder or file the test made
(the workspace's own secrets file included)."""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

import pytest

from runner.client import MLClient
from runner.errors import RegistryError, RunnerError
from runner.spec.data import Data
from runner.spec.model import Model
from runner.workspace.registry import ModelRegistry

KEY = "c2VjcmV0LWFjY291bnQta2V5LW5ldmVyLXNob3du"


@pytest.fixture
def client(tmp_path: Path) -> MLClient:
    ml = MLClient(workspace_dir=tmp_path / "ws")
    ml.datastores.create_or_update({"name": "azkey", "type": "azure_blob", "account_name": "a",
                                    "container_name": "c", "credentials": {"account_key": KEY}})
    ml.datastores.create_or_update({"name": "mem", "type": "fsspec", "url": "memory://registry-links"})
    return ml


@pytest.fixture
def source(tmp_path: Path) -> Path:
    folder = tmp_path / "src" / "model"
    (folder / "sub").mkdir(parents=True)
    (folder / "weights.bin").write_bytes(b"weights")
    (folder / "sub" / "config.json").write_text("{}")
    return folder


def _secret_file(ml: MLClient) -> Path:
    path = Path(ml.workspace.secrets_dir) / "datastore-azkey.json"
    assert KEY in path.read_text()
    return path


def _registered_files(ml: MLClient) -> list[Path]:
    return [p for p in Path(ml.workspace.root).rglob("*") if {"LocalUpload", "DataUpload"} & set(p.parts)
            and p.name not in ("LocalUpload", "DataUpload")]


def _register(ml: MLClient, path: Path, *, data: bool = False) -> None:
    if data:  # onto a store that is not on this machine (memory://): the other copy
        ml.data.create_or_update(Data(name="d", path=str(path), type="uri_folder", datastore="mem"))
    else:
        ml.models.create_or_update(Model(name="m", path=str(path)))


def _refused(ml: MLClient, path: Path, *, data: bool = False) -> RegistryError:
    with pytest.raises(RegistryError) as caught:
        _register(ml, path, data=data)
    err = caught.value
    assert err.field == "path" and err.hint, err.render()
    assert "cannot register this" in err.message and KEY not in err.render()
    assert _registered_files(ml) == []  # nothing copied, nothing staged left behind
    return err


@pytest.mark.parametrize("data", [False, True])
@pytest.mark.parametrize("where", ["outside", "inside"])
def test_a_link_to_a_folder_is_one_clear_error(client: MLClient, source: Path, tmp_path: Path, where: str,
                                               data: bool) -> None:
    target = tmp_path / "elsewhere" if where == "outside" else source / "sub"
    target.mkdir(exist_ok=True)
    (source / "linked").symlink_to(target, target_is_directory=True)
    err = _refused(client, source, data=data)
    assert f"'{source}' holds {source / 'linked'}, a link to a folder ({target})" in err.message
    assert "files, folders and links to files are copied" in err.message
    assert err.hint is not None and "cp -rL" in err.hint and str(source / "linked") in err.hint


@pytest.mark.parametrize("data", [False, True])
def test_a_dangling_link_is_one_clear_error(client: MLClient, source: Path, data: bool) -> None:
    (source / "sub" / "gone.bin").symlink_to(source / "missing.bin")
    err = _refused(client, source, data=data)
    assert (f"'{source}' holds {source / 'sub' / 'gone.bin'}, a link to {source / 'missing.bin'}, which "
            "does not exist") in err.message
    assert err.hint is not None and "remove the link" in err.hint


def test_a_link_to_a_file_is_copied_as_that_file(client: MLClient, source: Path, tmp_path: Path) -> None:
    outside = tmp_path / "outside.bin"
    outside.write_bytes(b"outside")
    (source / "alias.bin").symlink_to(outside)
    created = client.models.create_or_update(Model(name="ok", path=str(source)))
    copied = {p.name: p for p in _registered_files(client) if p.is_file()}
    assert created.version == "1" and not copied["alias.bin"].is_symlink()
    assert copied["alias.bin"].read_bytes() == b"outside" and copied["weights.bin"].read_bytes() == b"weights"


def test_the_check_does_not_follow_a_link_to_a_folder(client: MLClient, source: Path, tmp_path: Path) -> None:
    """A hard link to the secrets file below a linked folder: following the link would find it (and a link
    to ``/`` would walk the whole disk); the check stops at the link and names it instead."""
    decoy = tmp_path / "decoy" / "deep"
    decoy.mkdir(parents=True)
    os.link(_secret_file(client), decoy / "hard.json")
    (source / "sub" / "up").symlink_to(decoy.parent, target_is_directory=True)
    err = _refused(client, source)
    assert f"holds {source / 'sub' / 'up'}, a link to a folder ({decoy.parent})" in err.message
    assert "hard.json" not in err.message


def test_a_link_to_a_folder_that_holds_the_secrets_is_refused_as_such(client: MLClient, source: Path) -> None:
    (source / "ws").symlink_to(client.workspace.root, target_is_directory=True)
    err = _refused(client, source)
    assert f"holds {source / 'ws'}, a link to a folder that holds the workspace's secrets" in err.message


def _swap_after_check(monkeypatch: pytest.MonkeyPatch, swap: Callable[[], None]) -> None:
    """Run ``swap`` between the check on the secrets and the copy (``check_source`` runs there)."""
    original = ModelRegistry.check_source

    def checked_then_swapped(self: ModelRegistry, asset: Model, resolved: object) -> None:
        original(self, asset, resolved)  # type: ignore[arg-type]
        swap()

    monkeypatch.setattr(ModelRegistry, "check_source", checked_then_swapped)
    monkeypatch.setattr("runner.workspace.registry.DataRegistry.check_source",
                        lambda self, asset, resolved: swap())


@pytest.mark.parametrize("data", [False, True])
@pytest.mark.parametrize("how", ["link", "hard link"])
def test_a_file_swapped_for_the_secrets_after_the_check_is_refused_by_the_copy(
        client: MLClient, source: Path, monkeypatch: pytest.MonkeyPatch, how: str, data: bool) -> None:
    secret = _secret_file(client)

    def swap() -> None:
        (source / "weights.bin").unlink()
        if how == "link":
            (source / "weights.bin").symlink_to(secret)
        else:
            os.link(secret, source / "weights.bin")

    _swap_after_check(monkeypatch, swap)
    err = _refused(client, source, data=data)
    assert f"holds {source / 'weights.bin'}, which leads into the workspace's secrets" in err.message


def test_a_folder_swapped_for_a_link_after_the_check_is_refused_by_the_copy(
        client: MLClient, source: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    def swap() -> None:
        (source / "sub" / "config.json").unlink()
        (source / "sub").rmdir()
        (source / "sub").symlink_to(client.workspace.secrets_dir, target_is_directory=True)

    _swap_after_check(monkeypatch, swap)
    err = _refused(client, source)
    assert f"holds {source / 'sub'}, a link to a folder that lies in the workspace's secrets" in err.message


def test_a_fifo_is_refused_by_name(client: MLClient, source: Path) -> None:
    os.mkfifo(source / "sub" / "pipe")
    with pytest.raises(RunnerError) as caught:  # never opened: the test would block, not fail
        client.models.create_or_update(Model(name="m", path=str(source)))
    assert f"{source / 'sub' / 'pipe'}" in caught.value.message
    assert "is not a regular file" in caught.value.message and caught.value.hint
