"""The result of resolving a path reference against the workspace (shared by resolve, plan and jobs)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from runner.modes import PathKind

if TYPE_CHECKING:
    from fsspec import AbstractFileSystem


class LocalUnlessGiven:
    """``ResolvedPath.fs``: the filesystem given, or for ``None`` (a path on this machine) fsspec's local
    filesystem, made on first use. Resolving and planning a job on local paths then never imports fsspec,
    whose import (its registry reads every installed package's entry points) costs more than the rest of
    ``runner job validate`` (issue 21)."""

    def __get__(self, obj: Any, owner: type | None = None) -> AbstractFileSystem:
        if obj is None:
            raise AttributeError("fs")  # no class-level default: the dataclass field stays required
        fs = obj.__dict__.get("_fs")
        if fs is None:
            from fsspec.implementations.local import LocalFileSystem

            fs = obj.__dict__["_fs"] = LocalFileSystem()
        return fs

    def __set__(self, obj: Any, value: AbstractFileSystem | None) -> None:
        obj.__dict__["_fs"] = value


@dataclass(frozen=True, kw_only=True)
class ResolvedPath:
    """Where a reference points: a filesystem and a path on it, plus what a job needs to reach it."""

    uri: str  # canonical, user-facing: azureml://datastores/<ds>/paths/<p>, or the fsspec URL / local path
    fs: LocalUnlessGiven = LocalUnlessGiven()  # None: the local filesystem (``local_path`` is set)
    path: str  # path on ``fs``
    url: str  # fsspec URL a job can open itself (``direct`` mode)
    kind: PathKind  # FILE or FOLDER once resolved (ANY for an output location that does not exist yet)
    local_path: Path | None = None  # the host path when ``fs`` is local
    # the root of the local datastore holding ``local_path`` (resolved by the runner, not a job): an
    # output written there follows no link below it (``mounts.transfer.nofollow``)
    local_root: Path | None = None
    cache_key: str | None = None  # stable content identity (datastore + path + etag, or model version)
    env: Mapping[str, str] = field(default_factory=dict, repr=False)  # credentials for ``direct``; secret
    model: tuple[str, str] | None = None  # (name, version) when the reference was a model
    data: tuple[str, str] | None = None  # (name, version) when the reference was a data asset
    job: str | None = None  # the producing job when the reference was a job output (lineage)
    datastore: str | None = None  # the datastore it was reached through (its credentials are ``env``)
