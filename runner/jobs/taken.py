"""An output that would register a version that exists already (versions are immutable): refused when
the job is planned (``runner.jobs.submit``, the pipeline precheck) and named again when its registration
fails (``runner.jobs.register``: a version may be created while the job runs). Reads the workspace's
tables only (``job validate`` imports no storage code)."""

from __future__ import annotations

from dataclasses import dataclass

from runner.plan.types import AssetRef
from runner.workspace.data_assets import DataAssetStore
from runner.workspace.db import Workspace
from runner.workspace.models import ModelStore


@dataclass(frozen=True)
class TakenVersion:
    """An output's ``name`` + ``version`` that is registered already (versions are immutable)."""

    output: str
    target: AssetRef
    next_version: str
    field: str  # its version field as written: outputs.<o>.version, a step's jobs.<step>.outputs.<o>.version

    @property
    def message(self) -> str:
        return (f"{self.target.noun} '{self.target.name}' version {self.target.version} exists already "
                f"(output '{self.output}' would register it); versions are immutable")

    @property
    def hint(self) -> str:
        return (f"omit {self.field} to register the next version ({self.next_version}), or set one that "
                "does not exist")


def taken_version(ws: Workspace, target: AssetRef, output: str, *, field: str | None = None
                  ) -> TakenVersion | None:
    """The output's registration when it names a version that exists already, else None (``field``: its
    version field as the user wrote it; ``outputs.<output>.version`` unless given)."""
    if target.version is None:
        return None
    store: ModelStore | DataAssetStore = DataAssetStore(ws) if target.kind == "data" else ModelStore(ws)
    if not store.exists(target.name, target.version):
        return None
    return TakenVersion(output, target, store.next_version(target.name), field or f"outputs.{output}.version")
