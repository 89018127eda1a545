"""An fsspec datastore whose url is a chain (``simplecache::file:///<folder>``, ``zip://::file:///<archive>``)
gives each path its own chained URL, a missing backend is named by its own protocol, and a cache over this
machine's files reads no link below its root: neither one inside the tree nor one planted after the check.

Everything lives in this test's tmp_path: a throwaway workspace, the data, the outside folder a planted
link names (the test never follows a link itself)."""

from __future__ import annotations

import sys
import zipfile
from pathlib import Path

import fsspec
import pytest

from runner.errors import RunnerError
from runner.modes import PathKind
from runner.workspace.datastores import FsspecDatastore
from runner.workspace.db import Workspace
from runner.workspace.resolve import Resolver

OUTSIDE = b"OUTSIDE-THE-ROOT"


@pytest.fixture
def ws(tmp_path: Path) -> Workspace:
    workspace = Workspace(tmp_path / "ws")
    workspace.secrets_dir.mkdir(parents=True, exist_ok=True)
    return workspace


def _zip(path: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    with zipfile.ZipFile(path, "w") as zf:
        zf.writestr("a.txt", b"hello")
        zf.writestr("sub/b.txt", b"bee")
    return path


@pytest.mark.parametrize(("url", "fs_path", "expected"), [
    ("simplecache::file:///data/root", "/data/root/x/a.txt", "simplecache::file:///data/root/x/a.txt"),
    ("filecache::simplecache::local:///r", "/r/a.txt", "filecache::simplecache::local:///r/a.txt"),
    ("zip://::file:///d/x.zip", "sub/b.txt", "zip://sub/b.txt::file:///d/x.zip"),
    ("simplecache::zip://::file:///d/x.zip", "a.txt", "simplecache::zip://a.txt::file:///d/x.zip"),
    ("simplecache::s3://bucket/prefix", "bucket/prefix/k", "simplecache::s3://bucket/prefix/k"),
])
def test_a_chained_datastore_url_names_the_path_in_its_chain(url: str, fs_path: str, expected: str) -> None:
    assert FsspecDatastore(name="c", url=url).url_for(fs_path) == expected


def test_a_path_on_a_chained_datastore_resolves_to_a_url_that_reads_it(ws: Workspace, tmp_path: Path) -> None:
    archive = _zip(tmp_path / "d" / "x.zip")
    (tmp_path / "data").mkdir()
    (tmp_path / "data" / "n.txt").write_bytes(b"note")
    resolver = Resolver(ws)
    resolver.datastores.save(FsspecDatastore(name="arch", url=f"zip://::file://{archive}"))
    resolver.datastores.save(FsspecDatastore(name="cached", url=f"simplecache::file://{tmp_path / 'data'}"))
    member = resolver.resolve("azureml://datastores/arch/paths/sub/b.txt", field="inputs.d.path")
    assert member.kind is PathKind.FILE and member.url == f"zip://sub/b.txt::file://{archive}"
    cached = resolver.resolve("azureml://datastores/cached/paths/n.txt", field="inputs.d.path")
    assert cached.url == f"simplecache::file://{tmp_path / 'data' / 'n.txt'}"
    for found, data in ((member, b"bee"), (cached, b"note")):
        with fsspec.open(found.url, "rb") as f:  # what a direct job would open
            assert f.read() == data


@pytest.fixture
def no_libarchive(monkeypatch: pytest.MonkeyPatch) -> None:
    """fsspec's libarchive backend as it is where libarchive-c is not installed."""
    registry = sys.modules["fsspec.registry"]  # (``fsspec.registry`` is the registry's mapping)
    monkeypatch.setitem(registry.known_implementations, "libarchive", {
        "class": "runner_test_missing_module.LibArchiveFileSystem",
        "err": "LibArchive requires to be installed"})
    monkeypatch.delitem(registry._registry, "libarchive", raising=False)


@pytest.mark.usefixtures("no_libarchive")
@pytest.mark.parametrize("where", ["datastore", "url", "cached url"])
def test_a_missing_archive_backend_is_named_by_its_protocol(ws: Workspace, tmp_path: Path,
                                                            where: str) -> None:
    archive = _zip(tmp_path / "d" / "x.zip")
    resolver = Resolver(ws)
    resolver.datastores.save(FsspecDatastore(name="la", url=f"libarchive://::file://{archive}"))
    path = {"datastore": "azureml://datastores/la/paths/a.txt",
            "url": f"libarchive://a.txt::file://{archive}",
            "cached url": f"simplecache::libarchive://a.txt::file://{archive}"}[where]
    with pytest.raises(RunnerError) as info:
        resolver.resolve(path, field="inputs.d.path")
    assert "libarchive" in info.value.message and "'file://'" not in info.value.message
    assert "libarchive" in (info.value.hint or "") and "for file" not in (info.value.hint or "")


# ---- a cache over this machine's files reads no link below its root -------------------------------------
@pytest.fixture
def cached(ws: Workspace, tmp_path: Path) -> tuple[Resolver, Path]:
    """Datastore 'cached' (simplecache over a host folder), and a folder outside it holding a decoy."""
    root, outside = tmp_path / "root", tmp_path / "outside"
    (root / "data").mkdir(parents=True)
    (root / "data" / "a.txt").write_bytes(b"fine")
    outside.mkdir()
    (outside / "decoy.txt").write_bytes(OUTSIDE)
    resolver = Resolver(ws)
    resolver.datastores.save(FsspecDatastore(name="cached", url=f"simplecache::file://{root}"))
    return resolver, root


def _never_outside(read: object) -> None:
    assert read != OUTSIDE and OUTSIDE not in repr(read).encode()


def test_a_cached_host_file_is_read(cached: tuple[Resolver, Path]) -> None:
    resolver, _ = cached
    found = resolver.resolve("azureml://datastores/cached/paths/data/a.txt", field="inputs.d.path")
    assert found.fs is not None and found.fs.cat_file(found.path) == b"fine"


def test_a_link_planted_after_the_check_is_not_followed(cached: tuple[Resolver, Path],
                                                       tmp_path: Path) -> None:
    resolver, root = cached
    found = resolver.resolve("azureml://datastores/cached/paths/data/a.txt", field="inputs.d.path")
    assert found.fs is not None
    (root / "data" / "a.txt").unlink()  # checked; now a link to the outside decoy takes its place
    (root / "data" / "a.txt").symlink_to(tmp_path / "outside" / "decoy.txt")
    with pytest.raises(OSError, match="link") as info:
        _never_outside(found.fs.cat_file(found.path))
    _never_outside(str(info.value))


def test_a_folder_planted_as_a_link_after_the_check_is_not_followed(cached: tuple[Resolver, Path],
                                                                    tmp_path: Path) -> None:
    resolver, root = cached
    found = resolver.resolve("azureml://datastores/cached/paths/data", field="inputs.d.path")
    assert found.fs is not None and found.kind is PathKind.FOLDER
    (root / "data" / "a.txt").unlink()
    (root / "data").rmdir()
    (root / "data").symlink_to(tmp_path / "outside")
    with pytest.raises(OSError, match="link"):
        found.fs.find(found.path)
    with pytest.raises(OSError, match="link"):
        _never_outside(found.fs.cat_file(found.path + "/decoy.txt"))


def test_a_link_inside_the_tree_is_not_followed(cached: tuple[Resolver, Path], tmp_path: Path) -> None:
    from mounts.stores.fsspec_store import FsspecStore

    resolver, root = cached
    (root / "data" / "evil").symlink_to(tmp_path / "outside")
    (root / "data" / "evil.txt").symlink_to(tmp_path / "outside" / "decoy.txt")
    found = resolver.resolve("azureml://datastores/cached/paths/data", field="inputs.d.path")
    assert found.fs is not None
    with pytest.raises(OSError, match="link"):
        FsspecStore(found.fs).list_files(found.path)  # what a download lists, then reads
    for name in ("evil.txt", "evil/decoy.txt"):
        with pytest.raises(OSError, match="link"):
            _never_outside(found.fs.cat_file(f"{found.path}/{name}"))
        with pytest.raises(OSError, match="link"), found.fs.open(f"{found.path}/{name}", "rb") as f:
            _never_outside(f.read())


def test_a_path_naming_a_link_is_refused_when_planned(cached: tuple[Resolver, Path], tmp_path: Path) -> None:
    resolver, root = cached
    (root / "data" / "evil.txt").symlink_to(tmp_path / "outside" / "decoy.txt")
    with pytest.raises(RunnerError) as info:
        resolver.resolve("azureml://datastores/cached/paths/data/evil.txt", field="inputs.d.path")
    assert "link" in info.value.message and "Traceback" not in info.value.render()
