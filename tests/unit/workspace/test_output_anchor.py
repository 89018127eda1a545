"""An output on a local datastore carries the datastore's root, resolved by the runner: the anchor below
which nothing is followed when the output is written (``mounts.transfer.nofollow``)."""

from __future__ import annotations

from pathlib import Path

import pytest

from runner.jobs.materialize import to_target
from runner.modes import AssetType, Direction, Mode, PathKind
from runner.plan.types import Binding
from runner.workspace.datastores import FsspecDatastore, LocalDatastore
from runner.workspace.db import Workspace
from runner.workspace.resolve import Resolver


@pytest.fixture
def ws(tmp_path: Path) -> Workspace:
    return Workspace(tmp_path / "ws")


@pytest.fixture
def resolver(ws: Workspace) -> Resolver:
    return Resolver(ws)


def test_a_datastore_output_carries_its_datastores_root(ws: Workspace, resolver: Resolver,
                                                       tmp_path: Path) -> None:
    root = ws.default_datastore_root
    default = resolver.resolve_output(None, job_name="j", output_name="o")
    named = resolver.resolve_output("azureml://datastores/workspaceblobstore/paths/scratch/evil",
                                    job_name="j", output_name="o")
    assert default.local_root == root and named.local_root == root
    resolver.datastores.save(LocalDatastore(name="mystore", path=str(tmp_path / "store")))
    other = resolver.resolve_output("azureml://datastores/mystore/paths/out", job_name="j", output_name="o")
    assert other.local_root == (tmp_path / "store").resolve()


def test_a_host_path_output_is_anchored_at_the_datastore_it_is_in(ws: Workspace, resolver: Resolver,
                                                                  tmp_path: Path) -> None:
    inside = resolver.resolve_output(str(ws.default_datastore_root / "scratch" / "evil" / "deep"),
                                     job_name="j", output_name="o")
    assert inside.local_root == ws.default_datastore_root
    elsewhere = resolver.resolve_output(str(tmp_path / "out"), job_name="j", output_name="o")
    assert elsewhere.local_root is None  # the folder above the output's folder is the anchor then


def test_the_target_of_an_output_carries_the_root(ws: Workspace, resolver: Resolver) -> None:
    resolved = resolver.resolve_output(None, job_name="j", output_name="o")
    binding = Binding(name="o", direction=Direction.OUTPUT, type=AssetType.URI_FOLDER, mode=Mode.UPLOAD,
                      uri=resolved.uri, kind=PathKind.FOLDER, host_path="", container_path="/mnt/o",
                      value="/mnt/o", host_value="")
    target = to_target(resolved, binding)
    assert target.local_root == ws.default_datastore_root and target.local_path == resolved.local_path


# an fsspec datastore whose URL names this machine is a local folder: written from its real root

def _fsspec_store(resolver: Resolver, url: str, name: str = "fsfile") -> None:
    resolver.datastores.save(FsspecDatastore(name=name, url=url))


@pytest.mark.parametrize("protocol", ["file://", "local://", ""])
def test_an_fsspec_datastore_on_this_machine_is_a_local_folder(resolver: Resolver, tmp_path: Path,
                                                              protocol: str) -> None:
    real = tmp_path / "real"
    (real / "data").mkdir(parents=True)
    (tmp_path / "via").symlink_to(real)  # a link in the URL itself is the user's: resolved once
    _fsspec_store(resolver, f"{protocol}{tmp_path / 'via'}")
    out = resolver.resolve_output("azureml://datastores/fsfile/paths/out/o", job_name="j", output_name="o")
    assert out.local_root == real and out.local_path == real / "out" / "o"
    assert out.url == f"file://{real}/out/o" and out.datastore == "fsfile"
    found = resolver.resolve("azureml://datastores/fsfile/paths/data")
    assert found.local_path == real / "data" and found.kind is PathKind.FOLDER


def test_a_host_path_in_an_fsspec_file_datastore_is_anchored_at_its_root(resolver: Resolver,
                                                                         tmp_path: Path) -> None:
    _fsspec_store(resolver, f"file://{tmp_path / 'store'}")
    inside = resolver.resolve_output(str(tmp_path / "store" / "a" / "b"), job_name="j", output_name="o")
    assert inside.local_root == tmp_path / "store"


def test_a_local_url_output_is_a_host_path(ws: Workspace, resolver: Resolver) -> None:
    out = resolver.resolve_output(f"local://{ws.default_datastore_root}/scratch/o", job_name="j",
                                  output_name="o")
    assert out.local_path == ws.default_datastore_root / "scratch" / "o"
    assert out.local_root == ws.default_datastore_root


@pytest.mark.parametrize("url", ["memory://bucket/x", "simplecache::file:///tmp/x"])
def test_other_fsspec_datastores_stay_remote(resolver: Resolver, url: str) -> None:
    ds = FsspecDatastore(name="remote", url=url)
    assert ds.host_root(resolver.workspace.root) is None


def test_an_fsspec_datastore_on_this_machine_is_where_its_folder_is(tmp_path: Path) -> None:
    (tmp_path / "real").mkdir()
    (tmp_path / "via").symlink_to(tmp_path / "real")
    for url in (f"file://{tmp_path}/via", f"local://{tmp_path}/via", f"{tmp_path}/via"):
        assert FsspecDatastore(name="x", url=url).location(tmp_path) == f"file://{tmp_path}/real"


def test_a_direct_binding_on_an_fsspec_file_datastore_needs_no_credentials() -> None:
    ds = FsspecDatastore(name="x", url="file:///data", storage_options={"auto_mkdir": True})
    assert ds.direct_env(write=False) == {} and ds.direct_env(write=True) == {}
