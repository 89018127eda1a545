"""An archive datastore (``url: zip://::file:///<archive>``, ``tar://::file:///<archive>``, a cache over
either) opens its archive without following any link on its path (``host_cache.open_host_chain``): a link
at the archive, or at a folder on its way, is one clear error naming it, and nothing is read through it,
as for a chained URL input. A missing archive is one clear error too. A real archive reads as before.

Everything lives in this test's tmp_path: a throwaway workspace, the archives, the outside folder a
planted link names, holding a decoy twin (the test never follows a link itself)."""

from __future__ import annotations

import io
import os
import tarfile
import zipfile
from collections.abc import Callable
from pathlib import Path

import pytest

from runner.errors import RunnerError
from runner.workspace.datastores import FsspecDatastore
from runner.workspace.db import Workspace
from runner.workspace.resolve import Resolver

FINE = b"fine-data"
DECOY = b"OUTSIDE-DECOY-0123"


@pytest.fixture
def ws(tmp_path: Path) -> Workspace:
    workspace = Workspace(tmp_path / "ws")
    workspace.secrets_dir.mkdir(parents=True, exist_ok=True)
    return workspace


def _zip(path: Path, data: bytes) -> None:
    with zipfile.ZipFile(path, "w") as zf:
        zf.writestr("a.txt", data)


def _tar(path: Path, data: bytes) -> None:
    with tarfile.open(path, "w") as tf:
        info = tarfile.TarInfo("a.txt")
        info.size = len(data)
        tf.addfile(info, io.BytesIO(data))


FORMS: dict[str, tuple[str, Callable[[Path, bytes], None], str]] = {
    "zip": ("d.zip", _zip, "zip://::file://{p}"),
    "tar": ("d.tar", _tar, "tar://::file://{p}"),
    "cached zip": ("d.zip", _zip, "simplecache::zip://::file://{p}"),
}


def _setup(ws: Workspace, tmp_path: Path, form: str) -> tuple[Resolver, Path, Path]:
    """Datastore 'arch' over the real archive (FINE) in ``data/``; its decoy twin (DECOY) in ``outside/``."""
    name, make, url = FORMS[form]
    for folder, data in (("data", FINE), ("outside", DECOY)):
        (tmp_path / folder).mkdir()
        make(tmp_path / folder / name, data)
    resolver = Resolver(ws)
    resolver.datastores.save(FsspecDatastore(name="arch", url=url.format(p=tmp_path / "data" / name)))
    return resolver, tmp_path / "data" / name, tmp_path / "outside" / name


def _read(resolver: Resolver) -> bytes:
    found = resolver.resolve("azureml://datastores/arch/paths/a.txt", field="inputs.d.path")
    assert found.fs is not None
    return bytes(found.fs.cat_file(found.path))


@pytest.mark.parametrize("form", FORMS)
def test_an_archive_datastore_reads_its_archive(ws: Workspace, tmp_path: Path, form: str) -> None:
    resolver, _, _ = _setup(ws, tmp_path, form)
    assert _read(resolver) == FINE


@pytest.mark.parametrize("where", ["file", "folder"])
@pytest.mark.parametrize("form", FORMS)
def test_a_link_on_the_archives_path_is_one_error(ws: Workspace, tmp_path: Path, form: str,
                                                  where: str) -> None:
    resolver, real, decoy = _setup(ws, tmp_path, form)
    if where == "file":  # the archive itself replaced by a link to its decoy twin
        real.unlink()
        real.symlink_to(decoy)
        place = real
    else:  # the folder holding it replaced by a link to the decoy's folder
        real.parent.rename(tmp_path / "moved")
        real.parent.symlink_to(decoy.parent)
        place = real.parent
    with pytest.raises(RunnerError) as caught:
        read = _read(resolver)
        assert read != DECOY  # reached only when no error was raised: the test fails either way
    err = caught.value
    assert "link" in err.message and str(place) in err.message, err.message
    assert "'arch'" in err.message and DECOY.decode() not in err.render()
    assert err.hint and "credentials" not in err.hint
    assert "Traceback" not in err.render()


def test_a_link_planted_after_the_check_is_not_followed(ws: Workspace, tmp_path: Path) -> None:
    from runner.workspace.fsspec_reads import refuse_fsspec_read

    resolver, real, decoy = _setup(ws, tmp_path, "zip")
    ds = resolver.datastores.get("arch")
    assert isinstance(ds, FsspecDatastore)
    refuse_fsspec_read(ws, ds.url, field="inputs.d.path", datastore=ds, path="a.txt")  # passes: no link yet
    real.with_name("swap.tmp").symlink_to(decoy)
    os.replace(real.with_name("swap.tmp"), real)
    with pytest.raises(RunnerError) as caught:
        fs, root = ds.open(ws.root)
        assert fs.cat_file("a.txt") != DECOY  # reached only when no error was raised
    assert "link" in caught.value.message and str(real) in caught.value.message


def test_a_missing_archive_is_one_error(ws: Workspace, tmp_path: Path) -> None:
    resolver = Resolver(ws)
    missing = tmp_path / "nowhere" / "d.zip"
    resolver.datastores.save(FsspecDatastore(name="arch", url=f"zip://::file://{missing}"))
    with pytest.raises(RunnerError) as caught:
        _read(resolver)
    assert str(missing) in caught.value.message and "does not exist" in caught.value.message
    assert "'arch'" in caught.value.message and caught.value.hint
