"""``job download``: a job's outputs copied locally in Azure's layout (``artifacts/``,
``named-outputs/<out>/``), streamed file by file."""

from __future__ import annotations

from pathlib import Path

from runner.errors import JobError
from runner.modes import PathKind
from runner.uris import ARTIFACTS
from runner.workspace import JobRecord, Workspace


def download_outputs(ws: Workspace, record: JobRecord, names: list[str], download_path: Path) -> list[Path]:
    from fsspec.implementations.local import LocalFileSystem

    from runner.registry import copy_tree
    from runner.resolve import Resolver

    resolver = Resolver(ws)
    held_back = {n: p for n, p in record.extra.get("held_back_outputs", {}).items() if n in names}
    if held_back:
        kept = ", ".join(f"{n} in {p}" for n, p in sorted(held_back.items()))
        raise JobError(f"job '{record.name}' failed and ran with --no-upload-on-failure: its outputs were "
                       f"never uploaded and stayed staged ({kept})",
                       hint="copy them from there, e.g. cp -r " + next(iter(held_back.values())) + " DEST")
    written: list[Path] = []
    for name in names:
        resolved = resolver.resolve(f"azureml://jobs/{record.name}/outputs/{name}",
                                    field="--output-name")
        target = download_path.expanduser().resolve() / (
            "artifacts" if name == ARTIFACTS else f"named-outputs/{name}")
        if resolved.kind is PathKind.FILE:
            target = target / resolved.path.rstrip("/").rsplit("/", 1)[-1]
        copy_tree(resolved.fs, resolved.path, LocalFileSystem(), str(target))
        written.append(target)
    return written
