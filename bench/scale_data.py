"""The data sets of ``bench/bench_scale.py``: local files written once, uploaded once, reused across runs.

* ``files-<n>``: one flat folder of ``n`` small files (4 KiB of random bytes each);
* ``depth-<d>``: a chain of ``d`` nested folders, ``DEPTH_FILES_PER_LEVEL`` small files at every level;
* ``gib-<n>``: one file of ``n`` GiB (a model's weights), random bytes written 8 MiB at a time.

Local copies live under ``--data`` (default ``/tmp/scale-data``), with ``<name>.sha256.json`` (every file's
SHA-256, the reference every tool's result is checked against); the blobs under ``CONTAINER/<name>/`` of
the private Azurite, whose ``--location`` persists them across runs. A set is (re)uploaded only when the
listing of its prefix does not show every file with its size.
"""

from __future__ import annotations

import hashlib
import json
import os
from dataclasses import dataclass
from pathlib import Path

MiB = 1 << 20
GiB = 1 << 30
SMALL_FILE = 4096
DEPTH_FILES_PER_LEVEL = 50


@dataclass(frozen=True)
class ScaleSet:
    kind: str  # "files" | "depth" | "gib"
    count: int  # files, levels or GiB

    @property
    def name(self) -> str:
        return f"{self.kind}-{self.count}"

    @property
    def files(self) -> int:
        if self.kind == "files":
            return self.count
        return self.count * DEPTH_FILES_PER_LEVEL if self.kind == "depth" else 1

    @property
    def total(self) -> int:
        return self.count * GiB if self.kind == "gib" else self.files * SMALL_FILE

    def label(self) -> str:
        if self.kind == "files":
            return f"{self.count:,} x 4 KiB"
        if self.kind == "depth":
            return f"depth {self.count} ({self.files:,} x 4 KiB)"
        return f"{self.count} GiB"

    def relpaths(self) -> list[str]:
        if self.kind == "files":
            return [f"f{i:06d}.bin" for i in range(self.count)]
        if self.kind == "gib":
            return ["model.bin"]
        paths = []
        for level in range(1, self.count + 1):
            folder = "/".join(f"d{d:02d}" for d in range(1, level + 1))
            paths += [f"{folder}/f{i:03d}.bin" for i in range(DEPTH_FILES_PER_LEVEL)]
        return paths

    def file_size(self) -> int:
        return GiB * self.count if self.kind == "gib" else SMALL_FILE


def _write_random(path: Path, size: int) -> hashlib._Hash:
    digest = hashlib.sha256()
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "wb") as out:
        remaining = size
        while remaining > 0:
            block = os.urandom(min(8 * MiB, remaining))
            out.write(block)
            digest.update(block)
            remaining -= len(block)
    return digest


def ensure_local(root: Path, data: ScaleSet) -> dict[str, str]:
    """Write ``data`` under ``root/<name>`` unless complete; returns {relative path: SHA-256}."""
    manifest = root / f"{data.name}.sha256.json"
    if manifest.exists():
        digests: dict[str, str] = json.loads(manifest.read_text())
        if len(digests) == data.files:
            return digests
    folder = root / data.name
    size = data.file_size()
    digests = {rel: _write_random(folder / rel, size).hexdigest() for rel in data.relpaths()}
    manifest.write_text(json.dumps(digests))
    return digests


def parse_sets(files: str, gib: str, depth: str) -> list[ScaleSet]:
    sets = [ScaleSet("files", int(n)) for n in files.split(",") if n.strip()]
    sets += [ScaleSet("depth", int(n)) for n in depth.split(",") if n.strip()]
    sets += [ScaleSet("gib", int(n)) for n in gib.split(",") if n.strip()]
    return sets


def drop_cached(root: Path, data: ScaleSet) -> None:
    """Drop the local copy of ``data`` from the page cache (written back first). After seeding, the runs
    read Azurite's copy; with both copies of a 10 GiB set cached, the local one (written, then read to
    upload it: the kernel's active list) outlived Azurite's (written once), and the first runs of both
    tools read the blob from Azurite's disk (17 GB in one invocation)."""
    os.sync()
    for rel in data.relpaths():
        fd = os.open(root / data.name / rel, os.O_RDONLY)
        try:
            os.posix_fadvise(fd, 0, 0, os.POSIX_FADV_DONTNEED)
        finally:
            os.close(fd)


def warm_cached(root: Path, data: ScaleSet) -> None:
    """Read the local copy of ``data`` once (untimed), so an upload reads it from memory, as it does
    in an invocation that never dropped it."""
    buffer = bytearray(8 * MiB)
    for rel in data.relpaths():
        with open(root / data.name / rel, "rb", buffering=0) as stream:
            while stream.readinto(buffer):
                pass
