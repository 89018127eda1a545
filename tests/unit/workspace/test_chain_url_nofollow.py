"""A chained fsspec URL input over this machine's file (``zip://<member>::file:///<archive>``, ``tar://``,
a cache over the archive or under it) reads that file without following any link: not at the file, not
at a folder on its way. A link swapped in after the check (``refuse_fsspec_read``) and before fsspec
opens the file is one clear error, and nothing is read through it; once opened, the file read is the
one checked. (``simplecache::file:///<path>`` as a URL input is refused: ``test_cache_chain_inputs``.)

Everything lives in this test's tmp_path: a throwaway workspace, the archives, the outside folder a
planted link names, holding a decoy (the test never follows a link itself)."""

from __future__ import annotations

import io
import os
import tarfile
import zipfile
from collections.abc import Callable
from pathlib import Path

import pytest

from mounts.download import DownloadStrategy
from mounts.stores.open import open_store
from runner.errors import RunnerError, SpecError
from runner.jobs.materialize import to_source
from runner.modes import PathKind
from runner.workspace import resolve as resolve_module
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
    with tarfile.open(path, "w:gz" if path.name.endswith(".gz") else "w") as tf:
        info = tarfile.TarInfo("a.txt")
        info.size = len(data)
        tf.addfile(info, io.BytesIO(data))


# (file name on this machine, how it is made, the URL reading a.txt from it)
FORMS: dict[str, tuple[str, Callable[[Path, bytes], None], str]] = {
    "zip": ("d.zip", _zip, "zip://a.txt::file://{p}"),
    "zip, plain path": ("d.zip", _zip, "zip://a.txt::{p}"),
    "tar": ("d.tar", _tar, "tar://a.txt::file://{p}"),
    "tar.gz": ("d.tar.gz", _tar, "tar://a.txt::file://{p}"),
    "cached zip": ("d.zip", _zip, "simplecache::zip://a.txt::file://{p}"),
    "zip of a cache": ("d.zip", _zip, "zip://a.txt::simplecache::file://{p}"),
}


def _setup(tmp_path: Path, form: str) -> tuple[Path, Path, str]:
    """The real file (holding FINE) in ``data/``, its decoy twin (DECOY) in ``outside/``, the URL."""
    name, make, url = FORMS[form]
    (tmp_path / "data").mkdir()
    (tmp_path / "outside").mkdir()
    make(tmp_path / "data" / name, FINE)
    make(tmp_path / "outside" / name, DECOY)
    return tmp_path / "data" / name, tmp_path / "outside" / name, url.format(p=tmp_path / "data" / name)


def _swap(real: Path, decoy: Path, where: str) -> None:
    """``real`` (the file, or the folder holding it) replaced by a link to the decoy's."""
    if where == "file":
        real.with_name("swap.tmp").symlink_to(decoy)
        os.replace(real.with_name("swap.tmp"), real)
    else:
        real.parent.rename(real.parent.with_name("moved"))
        real.parent.symlink_to(decoy.parent)


def _download(found: object, workdir: Path) -> bytes:
    source = to_source(found)  # type: ignore[arg-type]
    with DownloadStrategy().materialize(source, workdir) as done:
        assert done.host_path is not None
        host = Path(done.host_path)
        return (host if host.is_file() else host / "a.txt").read_bytes()


@pytest.mark.parametrize("form", list(FORMS))
def test_a_chain_over_this_machines_file_reads_it(ws: Workspace, tmp_path: Path, form: str) -> None:
    _, _, url = _setup(tmp_path, form)
    found = Resolver(ws).resolve(url, field="inputs.d.path")
    assert found.kind is PathKind.FILE and found.url == url
    assert found.fs.cat_file(found.path) == FINE
    assert _download(found, tmp_path / "job") == FINE
    store = open_store(found.fs)  # what ro_mount reads through
    item = store.stat(found.path)
    chunks: list[bytes] = []
    store.read_range(item, 0, None, lambda data: chunks.append(bytes(data)))
    assert b"".join(chunks) == FINE


@pytest.mark.parametrize("where", ["file", "folder"])
@pytest.mark.parametrize("form", list(FORMS))
def test_a_link_swapped_in_after_the_check_is_not_opened(ws: Workspace, tmp_path: Path,
                                                         monkeypatch: pytest.MonkeyPatch,
                                                         form: str, where: str) -> None:
    real, decoy, url = _setup(tmp_path, form)
    checked = resolve_module.refuse_fsspec_read

    def check_then_swap(*args: object, **kwargs: object) -> None:
        checked(*args, **kwargs)  # type: ignore[arg-type]
        _swap(real, decoy, where)  # between the check and fsspec's open

    monkeypatch.setattr(resolve_module, "refuse_fsspec_read", check_then_swap)
    with pytest.raises(RunnerError) as info:
        found = Resolver(ws).resolve(url, field="inputs.d.path")
        assert DECOY not in found.fs.cat_file(found.path)  # not reached: the link is the error
    err = info.value
    assert isinstance(err, SpecError) and err.field == "inputs.d.path"
    assert err.message.startswith("input 'd' cannot be read") and " is a link" in err.message
    assert str(real if where == "file" else real.parent) in err.message
    assert err.hint and "real path" in err.hint
    assert DECOY.decode() not in err.render() and "Traceback" not in err.render()


@pytest.mark.parametrize("form", ["zip", "tar.gz", "cached zip"])
def test_an_archive_swapped_after_it_was_opened_is_read_as_checked(ws: Workspace, tmp_path: Path,
                                                                   form: str) -> None:
    """The job's materialization reads the archive file opened when the job started, never the link."""
    real, decoy, url = _setup(tmp_path, form)
    found = Resolver(ws).resolve(url, field="inputs.d.path")
    _swap(real, decoy, "file")
    assert _download(found, tmp_path / "job") == FINE


def test_an_archive_reached_through_a_link_is_one_error_when_planned(ws: Workspace, tmp_path: Path) -> None:
    real, _, _ = _setup(tmp_path, "zip")
    (tmp_path / "via").symlink_to(tmp_path / "data")
    with pytest.raises(SpecError) as info:
        Resolver(ws).resolve(f"zip://a.txt::file://{tmp_path / 'via' / real.name}", field="inputs.d.path",
                             check=False)
    assert f"{tmp_path / 'via'} is a link" in info.value.message and info.value.hint
    assert "Traceback" not in info.value.render()


def test_a_missing_archive_is_one_error(ws: Workspace, tmp_path: Path) -> None:
    with pytest.raises(RunnerError) as info:
        Resolver(ws).resolve(f"zip://a.txt::file://{tmp_path / 'none.zip'}", field="inputs.d.path")
    assert "does not exist" in info.value.message and str(tmp_path / "none.zip") in info.value.message
    assert info.value.hint and "Traceback" not in info.value.render()
