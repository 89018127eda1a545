"""An fsspec chain over this machine's files (``zip://<member>::file:///<archive>``, ``tar::``, a cache)
reads that host file, so the file is guarded as a host path is, before anything opens it: never the
workspace's secrets or database, never through a link that leads out of a local datastore. A datastore
whose URL or storage options chain over this machine's files is guarded the same way.

Everything lives in this test's tmp_path: a throwaway workspace, its fake secret, the archives."""

from __future__ import annotations

import io
import tarfile
import zipfile
from pathlib import Path

import pytest
from fsspec.implementations.tar import TarFileSystem
from fsspec.implementations.zip import ZipFileSystem

from runner.errors import SpecError
from runner.modes import PathKind
from runner.workspace.datastores import FsspecDatastore
from runner.workspace.db import Workspace
from runner.workspace.resolve import Resolver

SECRET = b"SECRET-KEY-0123"


@pytest.fixture
def ws(tmp_path: Path) -> Workspace:
    workspace = Workspace(tmp_path / "ws")
    workspace.secrets_dir.mkdir(parents=True, exist_ok=True)
    return workspace


def _zip(path: Path, member: str = "a.txt", data: bytes = SECRET) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    with zipfile.ZipFile(path, "w") as zf:
        zf.writestr(member, data)
    return path


def _tar(path: Path, member: str = "a.txt", data: bytes = SECRET) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    with tarfile.open(path, "w") as tf:
        info = tarfile.TarInfo(member)
        info.size = len(data)
        tf.addfile(info, io.BytesIO(data))
    return path


@pytest.fixture
def never_opened(monkeypatch: pytest.MonkeyPatch) -> None:
    """An archive is read when fsspec makes its filesystem: the guard must come first."""
    def refuse(*args: object, **kwargs: object) -> None:
        raise AssertionError("an archive was opened before the guard")
    monkeypatch.setattr(ZipFileSystem, "__init__", refuse)
    monkeypatch.setattr(TarFileSystem, "__init__", refuse)


@pytest.mark.usefixtures("never_opened")
@pytest.mark.parametrize("form", ["zip://a.txt::file://{p}", "zip://a.txt::{p}", "zip://a.txt::local://{p}",
                                  "zip://a.txt::simplecache::file://{p}", "simplecache::zip://a.txt::file://{p}"])
def test_an_archive_in_the_secrets_is_never_opened(ws: Workspace, form: str) -> None:
    archive = _zip(ws.secrets_dir / "keys.zip")
    with pytest.raises(SpecError) as info:
        Resolver(ws).resolve(form.format(p=archive), field="inputs.d.path", check=False)
    assert info.value.message.startswith("input 'd' cannot be read:") and "secrets" in info.value.message
    assert info.value.field == "inputs.d.path" and info.value.hint


@pytest.mark.usefixtures("never_opened")
@pytest.mark.parametrize("protocol", ["zip", "tar"])
def test_the_database_is_never_opened_as_an_archive(ws: Workspace, protocol: str) -> None:
    ws.db_path.parent.mkdir(parents=True, exist_ok=True)
    ws.db_path.write_bytes(b"SQLite format 3\x00")
    with pytest.raises(SpecError) as info:
        Resolver(ws).resolve(f"{protocol}://a.txt::file://{ws.db_path}", field="inputs.d")
    assert "runner.db" in info.value.message and info.value.message.startswith("input 'd' cannot be read")


@pytest.mark.usefixtures("never_opened")
def test_an_archive_behind_a_link_out_of_a_local_datastore_is_refused(ws: Workspace, tmp_path: Path) -> None:
    outside = tmp_path / "outside"
    _tar(outside / "d.tar")
    root = ws.default_datastore_root
    root.mkdir(parents=True, exist_ok=True)
    (root / "evil").symlink_to(outside)  # what an earlier job's direct output could leave there
    with pytest.raises(SpecError) as info:
        Resolver(ws).resolve(f"tar://a.txt::file://{root}/evil/d.tar", field="inputs.d.path")
    assert "leads out of local datastore" in info.value.message and "evil" in info.value.message


def test_an_archive_elsewhere_is_read(ws: Workspace, tmp_path: Path) -> None:
    archive = _zip(tmp_path / "data" / "d.zip", data=b"hello")
    found = Resolver(ws).resolve(f"zip://a.txt::file://{archive}", field="inputs.d.path")
    assert found.kind is PathKind.FILE and found.fs.cat_file(found.path) == b"hello"


def test_a_chain_through_another_protocol_is_refused(ws: Workspace, tmp_path: Path) -> None:
    """Only a cache or an archive may wrap the next link (fsspec hands that link to the one before)."""
    with pytest.raises(SpecError) as info:
        Resolver(ws).resolve(f"memory://x/y::file://{tmp_path}/d.zip", field="inputs.d.path")
    assert "'memory'" in info.value.message and "before its last link" in info.value.message
    assert "simplecache" in (info.value.hint or "")


@pytest.mark.parametrize(("url", "options"), [
    ("simplecache::file://{root}", {}),
    ("filecache::local://{root}", {}),
    ("simplecache://{root}", {"target_protocol": "file"}),
])
def test_a_datastore_caching_this_machines_files_is_guarded_below_its_root(
        ws: Workspace, url: str, options: dict[str, str]) -> None:
    """A cache over a folder holding the workspace: its secrets stay refused, the rest is read."""
    (ws.secrets_dir / "k.json").write_bytes(SECRET)
    (ws.root / "notes.txt").write_text("fine\n")
    resolver = Resolver(ws)
    resolver.datastores.save(FsspecDatastore(name="cached", url=url.format(root=ws.root),
                                             storage_options=options))
    with pytest.raises(SpecError) as info:
        resolver.resolve("azureml://datastores/cached/paths/secrets/k.json", field="inputs.d.path")
    assert info.value.message.startswith("input 'd' cannot be read") and "secrets" in info.value.message
    if "::" not in url:  # (a chained datastore URL's url_for is another matter: its protocol is the chain)
        assert resolver.resolve("azureml://datastores/cached/paths/notes.txt").kind is PathKind.FILE


@pytest.mark.usefixtures("never_opened")
def test_a_datastore_over_an_archive_in_the_secrets_is_never_opened(ws: Workspace) -> None:
    archive = _zip(ws.secrets_dir / "keys.zip")
    resolver = Resolver(ws)
    resolver.datastores.save(FsspecDatastore(name="arch", url=f"zip://::file://{archive}"))
    with pytest.raises(SpecError) as info:
        resolver.resolve("azureml://datastores/arch/paths/a.txt", field="inputs.d.path")
    assert "secrets" in info.value.message


@pytest.mark.parametrize(("url", "options", "named"), [
    ("reference://", {"fo": "/tmp/refs.json"}, "'reference'"),
    ("zip://", {"fo": "/tmp/keys.zip", "target_protocol": "file"}, "fo"),
    ("simplecache://x", {"target_protocol": "reference"}, "'reference'"),
])
def test_a_datastore_naming_further_files_in_its_options_is_refused(
        ws: Workspace, url: str, options: dict[str, str], named: str) -> None:
    resolver = Resolver(ws)
    resolver.datastores.save(FsspecDatastore(name="odd", url=url, storage_options=options))
    with pytest.raises(SpecError) as info:
        resolver.resolve("azureml://datastores/odd/paths/a.txt", field="inputs.d.path")
    assert "datastore 'odd'" in info.value.message and named in info.value.message
    assert "/tmp/refs.json" not in info.value.render()  # storage options may be secrets: never shown
