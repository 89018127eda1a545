"""The write guard's rule against versions, checked again right before a job's outputs are written
(``protect.registered_meanwhile``): a version registered since the job started (not in ``known``) that
overlaps what an output reaches names that output and why; a version known already does not (it was
checked when the job started). Local runs and Ray submissions both ask it.

Every workspace, datastore and path here is the test's own, in its tmp folder."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pytest

from runner.modes import Mode, PathKind
from runner.spec.data import Data
from runner.workspace.assets import registered_locations
from runner.workspace.db import Workspace
from runner.workspace.protect import registered_meanwhile
from runner.workspace.registry import DataRegistry
from runner.workspace.resolve import Resolver
from runner.workspace.resolved import ResolvedPath

DS = "azureml://datastores/workspaceblobstore/paths/shared"


@dataclass(frozen=True)
class Out:
    """What the check reads of a plan's output binding."""

    name: str
    uri: str
    mode: Mode = Mode.UPLOAD
    kind: PathKind = PathKind.FOLDER


@pytest.fixture
def ws(tmp_path: Path) -> Workspace:
    """The default datastore holds shared/v1/, shared/v2/ and shared/f3/model (a file)."""
    workspace = Workspace(tmp_path / "ws")
    shared = workspace.root / "datastores" / "workspaceblobstore" / "shared"
    for folder in ("v1", "v2", "f3"):
        (shared / folder).mkdir(parents=True)
    (shared / "f3" / "model").write_text("weights\n")
    return workspace


def _resolved(ws: Workspace, outputs: list[Out]) -> dict[str, ResolvedPath]:
    resolver = Resolver(ws)
    return {o.name: resolver.resolve_output(o.uri, job_name="j1", output_name=o.name) for o in outputs}


def test_a_version_registered_after_known_names_the_output_it_overlaps(ws: Workspace) -> None:
    data = DataRegistry(ws)
    data.create(Data(name="d", version="1", path=f"{DS}/v1"))
    known = registered_locations(ws)  # as the job started
    data.create(Data(name="d", version="2", path=f"{DS}/v2"))  # meanwhile
    outputs = [Out("new", f"{DS}/v2/out"), Out("old", f"{DS}/v1/out"), Out("free", f"{DS}/elsewhere"),
               Out("holds", DS)]
    refused = registered_meanwhile(ws, outputs, _resolved(ws, outputs), known)
    assert list(refused) == ["new", "holds"]
    assert "registered data d:2" in refused["new"] and f"'{DS}/v2/out'" in refused["new"]
    assert "registered data d:2" in refused["holds"]


def test_a_version_known_when_the_job_started_names_no_output(ws: Workspace) -> None:
    data = DataRegistry(ws)
    data.create(Data(name="d", version="1", path=f"{DS}/v1"))
    outputs = [Out("o", f"{DS}/v1/out")]
    assert registered_meanwhile(ws, outputs, _resolved(ws, outputs), registered_locations(ws)) == {}
    assert "registered data d:1" in registered_meanwhile(ws, outputs, _resolved(ws, outputs), [])["o"]


def test_what_a_direct_file_output_reaches_is_checked(ws: Workspace) -> None:
    """A ``direct`` file output on the host is bound as its folder: a version registered in that folder
    since is named, though the file itself lies in no version; as an ``upload`` it is not."""
    known = registered_locations(ws)
    DataRegistry(ws).create(Data(name="d", version="3", path=f"{DS}/f3/model", type="uri_file"))
    direct = Out("o", f"{DS}/f3/out.bin", mode=Mode.DIRECT, kind=PathKind.FILE)
    upload = Out("o", f"{DS}/f3/out.bin", mode=Mode.UPLOAD, kind=PathKind.FILE)
    why = registered_meanwhile(ws, [direct], _resolved(ws, [direct]), known)["o"]
    assert "registered data d:3" in why and "reaches" in why
    assert registered_meanwhile(ws, [upload], _resolved(ws, [upload]), known) == {}
