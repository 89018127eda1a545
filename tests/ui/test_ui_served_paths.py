"""What the UI serves from a datastore on this machine: never through a link that leads out of the
datastore's folder (a local datastore over a home folder may hold one, a job may have left one), never
the workspace's secrets or database, whatever datastore lies over them. The Register form refuses such a
datastore path; a version registered there before (by the CLI) is neither listed nor downloaded, and says
why. Everything happens in this test's own folders. Downloads of deep trees (a job's) are zipped and
cleaned up with no recursion."""

from __future__ import annotations

import asyncio
import io
import zipfile
from collections.abc import Iterator
from pathlib import Path

import pytest
from ui_support import Browserless, LiveUI, start_ui

from runner.spec.model import Model

SECRET = "not-for-the-ui"


@pytest.fixture
def home(tmp_path: Path) -> Path:
    """A home folder: a project, a link to a folder outside it, the workspace inside it."""
    (tmp_path / "outside").mkdir()
    (tmp_path / "outside" / "s.txt").write_text(SECRET)
    home = tmp_path / "home"
    (home / "proj" / "model").mkdir(parents=True)
    (home / "proj" / "model" / "w.bin").write_text("weights")
    (home / "out").symlink_to(tmp_path / "outside", target_is_directory=True)
    (home / "proj" / "model" / "escape").symlink_to(tmp_path / "outside", target_is_directory=True)
    return home


@pytest.fixture
def served(ui_extra: None, home: Path) -> Iterator[LiveUI]:
    ui = start_ui(home / "ws", files_root=home / "proj")
    ui.client.datastores.create_or_update({"name": "home", "type": "local", "path": str(home)})
    yield ui
    if ui.thread.is_alive():
        ui.stop()


def _post(ui: LiveUI, path: str, name: str = "m") -> tuple[int, str]:
    web = Browserless(ui.address)
    status, _, text = web.request("/register/model", {"csrf_token": web.csrf(), "name": name, "path": path})
    return status, text


@pytest.mark.parametrize("rel", ["out", "out/s.txt", "proj/model"])
def test_the_form_refuses_a_datastore_path_through_or_holding_a_link_out_of_the_datastore(
        served: LiveUI, rel: str) -> None:
    status, text = _post(served, f"azureml://datastores/home/paths/{rel}")
    assert status == 422 and 'id="path-error"' in text and "leads out of" in text, (status, text[-3000:])
    assert "datastore" in text and SECRET not in text and "Traceback" not in text
    assert list(served.client.models.list()) == []


def test_the_form_refuses_the_workspaces_files_through_a_datastore_over_them(served: LiveUI) -> None:
    for rel in ("ws", "ws/runner.db", "ws/secrets"):
        status, text = _post(served, f"azureml://datastores/home/paths/{rel}")
        assert status == 422 and "workspace" in text, (rel, status, text[-2000:])


def test_a_datastore_path_inside_the_datastore_still_registers(served: LiveUI, home: Path) -> None:
    (home / "proj" / "model" / "escape").unlink()
    (home / "proj" / "model" / "inside").symlink_to(home / "proj" / "model" / "w.bin")  # stays inside
    assert _post(served, "azureml://datastores/home/paths/proj/model")[0] == 303


@pytest.mark.parametrize("rel", ["out", "out/s.txt"])
def test_a_version_through_a_link_out_is_neither_listed_nor_downloaded(served: LiveUI, rel: str) -> None:
    served.client.models.create(Model(name="old", path=f"azureml://datastores/home/paths/{rel}"))  # the CLI
    web = Browserless(served.address)
    view = web.json("/api/models/old/versions/1")
    assert view["files"] == [] and "leads out of" in (view["files_error"] or ""), view
    status, text = web.get("/models/old/versions/1/download")
    assert status >= 400 and SECRET not in text and "leads out of" in text and "Traceback" not in text


def test_a_deep_folder_is_zipped_and_removed(ui_extra: None, tmp_path: Path) -> None:
    from runner.ui import files

    depth = 1100  # deeper than Python's recursion limit
    scratch: list[Path] = []

    def copy(into: Path) -> Path:
        scratch.append(into.parent)
        folder = into
        folder.mkdir()
        for _ in range(depth):  # one level at a time (Path.mkdir(parents=True) recurses)
            folder = folder / "d"
            folder.mkdir()
        (folder / "leaf.txt").write_text("leaf")
        return into

    response = asyncio.run(files.download(copy, "deep"))
    with zipfile.ZipFile(io.BytesIO(Path(response.path).read_bytes())) as archive:  # type: ignore[attr-defined]
        assert archive.namelist() == ["d/" * depth + "leaf.txt"]
    assert response.background is not None
    asyncio.run(response.background())
    assert not scratch[0].exists()
