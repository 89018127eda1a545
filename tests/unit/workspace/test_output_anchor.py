"""An output on a local datastore carries the datastore's root, resolved by the runner: the anchor below
which nothing is followed when the output is written (``mounts.transfer.nofollow``)."""

from __future__ import annotations

from pathlib import Path

import pytest

from runner.jobs.materialize import to_target
from runner.modes import AssetType, Direction, Mode, PathKind
from runner.plan.types import Binding
from runner.workspace.datastores import LocalDatastore
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
