"""Helpers the sample jobs share: list a model folder and fingerprint every file with SHA-256.

The jobs print one line per file, ``sha256 <hex> <relative path>``, so a test (or a person) can compare
what the job saw with what was registered.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Iterator
from pathlib import Path

CHUNK = 1024 * 1024


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        while chunk := handle.read(CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


def model_files(root: Path) -> Iterator[Path]:
    """Every regular file under ``root`` (or ``root`` itself when it is a file), sorted."""
    if root.is_file():
        yield root
        return
    for folder, dirs, files in os.walk(root):
        dirs.sort()
        for name in sorted(files):
            yield Path(folder) / name


def print_manifest(root: Path) -> dict[str, str]:
    """Print and return ``{relative path: sha256}`` for every file of the model."""
    manifest: dict[str, str] = {}
    for path in model_files(root):
        rel = path.name if root.is_file() else path.relative_to(root).as_posix()
        manifest[rel] = sha256_of(path)
        print(f"sha256 {manifest[rel]} {rel}", flush=True)
    if not manifest:
        raise SystemExit(f"FAIL: no files under {root}")
    return manifest


def write_manifest(root: Path) -> None:
    """Write ``SHA256SUMS`` (sha256sum's format) for the files of a model folder written by a job."""
    lines = [f"{sha256_of(p)}  {p.relative_to(root).as_posix()}\n" for p in model_files(root)
             if p.name != "SHA256SUMS"]
    (root / "SHA256SUMS").write_text("".join(lines))
