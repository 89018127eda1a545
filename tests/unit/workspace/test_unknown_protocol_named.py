"""A path or a datastore URL whose protocol no installed fsspec filesystem knows (``foo://bar/x``,
``simplecache::foo://x``) is one error naming the field it was written in (and its YAML line), the
protocols a path may use and how to fix it; never an internal error. ``runner datastore create`` refuses
such a URL at its ``url:`` line; one a datastore saved before holds names the input read through it."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

from runner.cli.main import app
from runner.errors import ResolveError, RunnerError
from runner.workspace.datastores import DatastoreStore, FsspecDatastore
from runner.workspace.db import Workspace
from runner.workspace.resolve import Resolver


def _cli(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(app, list(args))
    if isinstance(result.exception, RunnerError):
        return result.exception.exit_code, f"error: {result.exception.render()}"
    return result.exit_code, result.output


def _job(tmp_path: Path, source: str, target: str | None = None) -> Path:
    target = target or "azureml://datastores/workspaceblobstore/paths/o"
    job = tmp_path / "job.yml"
    job.write_text(f"command: cat ${{{{inputs.a}}}}\nenvironment:\n  image: python:3.11\ninputs:\n  a:\n"
                   f"    type: uri_file\n    path: {source}\noutputs:\n  o:\n    type: uri_folder\n"
                   f"    path: {target}\n")
    return job


def _says_the_protocols_allowed(shown: str, *, paths: bool = True) -> None:
    """fsspec's protocols listed (and, for a path, the other forms a path may take)."""
    for allowed in ("s3, ", "abfs, ", "ftp, ", "zip", "simplecache::s3://<bucket>/<key>"):
        assert allowed in shown, shown
    assert ("azureml://datastores/<name>/paths/<path>" in shown) is paths, shown
    assert "internal error" not in shown and "Traceback" not in shown, shown


@pytest.mark.parametrize(("source", "target", "where", "url"), [
    ("foo://bar/x", None, "job.yml:7:5: inputs.a.path: ", "foo://bar/x"),
    ("simplecache::foo://bar/x", None, "job.yml:7:5: inputs.a.path: ", "simplecache::foo://bar/x"),
    ("./a.txt", "bar://x/y", "job.yml:11:5: outputs.o.path: ", "bar://x/y"),
])
def test_validate_names_the_field_its_line_and_the_protocols_allowed(
        workspace_dir: Path, tmp_path: Path, source: str, target: str | None, where: str, url: str) -> None:
    (tmp_path / "a.txt").write_text("a\n")
    code, shown = _cli("job", "validate", "--file", str(_job(tmp_path, source, target)))
    assert code != 0, shown
    protocol = url.rsplit("::", 1)[-1].split("://", 1)[0]
    assert f"{where}cannot open '{url}': Protocol not known: {protocol}" in shown, shown
    _says_the_protocols_allowed(shown)


def test_a_registered_asset_path_names_its_field(workspace_dir: Path) -> None:
    with pytest.raises(ResolveError) as info:
        Resolver(Workspace(workspace_dir)).resolve("foo://bar/x", field="path")
    assert info.value.field == "path" and "Protocol not known: foo" in info.value.message
    _says_the_protocols_allowed(info.value.hint or "")


@pytest.mark.parametrize("url", ["foo://bar/x", "zip://::foo://b/c.zip"])
def test_datastore_create_refuses_an_unknown_protocol_at_its_url_line(workspace_dir: Path, tmp_path: Path,
                                                                       url: str) -> None:
    (tmp_path / "ds.yml").write_text(f"name: d1\ntype: fsspec\nurl: {url}\n")
    code, shown = _cli("datastore", "create", "--file", str(tmp_path / "ds.yml"))
    assert code != 0, shown
    assert "ds.yml:3:" in shown and ": url: " in shown and "'foo'" in shown, shown
    _says_the_protocols_allowed(shown, paths=False)
    assert "d1" not in DatastoreStore(Workspace(workspace_dir)).names()


@pytest.mark.parametrize("url", ["foo://bar/x", "zip://::foo://b/c.zip"])
def test_a_datastore_saved_with_an_unknown_protocol_names_the_input_read_through_it(
        workspace_dir: Path, tmp_path: Path, url: str) -> None:
    DatastoreStore(Workspace(workspace_dir)).save(FsspecDatastore(name="d1", url=url))  # an older runner's
    code, shown = _cli("job", "validate", "--file", str(_job(tmp_path, "azureml://datastores/d1/paths/x")))
    assert code != 0, shown
    assert "job.yml:7:5: inputs.a.path: input 'a' cannot be read through datastore 'd1': " in shown, shown
    assert "'foo'" in shown and "runner datastore create" in shown, shown
    _says_the_protocols_allowed(shown, paths=False)
