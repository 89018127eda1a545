"""The result of resolving a path reference against the workspace (shared by resolve, plan and jobs)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from fsspec import AbstractFileSystem

from runner.modes import PathKind


@dataclass(frozen=True)
class ResolvedPath:
    """Where a reference points: a filesystem and a path on it, plus what a job needs to reach it."""

    uri: str  # canonical, user-facing: azureml://datastores/<ds>/paths/<p>, or the fsspec URL / local path
    fs: AbstractFileSystem
    path: str  # path on ``fs``
    url: str  # fsspec URL a job can open itself (``direct`` mode)
    kind: PathKind  # FILE or FOLDER once resolved (ANY for an output location that does not exist yet)
    local_path: Path | None = None  # the host path when ``fs`` is local
    cache_key: str | None = None  # stable content identity (datastore + path + etag, or model version)
    env: Mapping[str, str] = field(default_factory=dict, repr=False)  # credentials for ``direct``; secret
    model: tuple[str, str] | None = None  # (name, version) when the reference was a model
    job: str | None = None  # the producing job when the reference was a job output (lineage)
    datastore: str | None = None  # the datastore it was reached through (its credentials are ``env``)
