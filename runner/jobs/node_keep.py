"""What a Ray job's run holds back on the node is kept there: its node workspace (the job folder, the
datastore credentials, the secrets) is removed when the job ends, so before that each staged output folder
that holds data of a job that did not complete (held back, its upload failed, or left staged by an error
that ended the run: as ``runner.workspace.upload_state`` tells them apart) is moved, whole, into a keep
folder of the job in the node dir, owner-only, and the result names it (host, path, files) per output
(``KEPT_KEY``). Nothing else of the workspace is kept; the keep folder is never removed by runner.

    result = keep_staged(result, ws.job_dir(job).outputs, node_dir, job)   # never raises

The moved folders' node-workspace paths in the result's error become their kept paths, so the job's error
names where the data is; each kept folder is also said on stderr (Ray's job log, which the submitting side
streams into the job's log), should the result never reach the submitting side. The submitting side never
reads, counts or copies from a kept path: it is text (``runner.jobs.ray_result.keep_own_staged`` takes only
what has this module's shape).
"""

from __future__ import annotations

import logging
import os
import re
import socket
import sys
import tempfile
from pathlib import Path
from typing import Any

from runner.jobs.ray_result import KEEP_PREFIX
from runner.workspace.db import JobStatus
from runner.workspace.trees import count_files, holds_files, subfolders
from runner.workspace.upload_state import KEPT_KEY, NOT_DURABLE_KEY, own_staged

log = logging.getLogger(__name__)


def to_keep(result: dict[str, Any], outputs: Path) -> dict[str, Path]:
    """Each output of a job that did not complete -> its staged folder on the node that holds files: where
    the result says (its own staging folder or below it only), else its staging folder ``outputs/<o>``."""
    if result.get("status") == JobStatus.COMPLETED.value:
        return {}
    extra = result.get("extra") or {}
    named: list[tuple[str, Any]] = list((extra.get("held_back_outputs") or {}).items())
    named += [(name, entry.get("staged")) for name, entry in (extra.get(NOT_DURABLE_KEY) or {}).items()
              if isinstance(entry, dict)]
    named += [(folder.name, str(folder)) for folder in subfolders(outputs)]
    found: dict[str, Path] = {}
    for name, path in named:
        place = own_staged(outputs, name, path) if path else None
        if name not in found and place is not None and holds_files(place):
            found[name] = place
    return found


def keep_staged(result: dict[str, Any], outputs: Path, node_dir: Path, job: str) -> dict[str, Any]:
    """The result with what ``to_keep`` finds moved into the job's keep folder under ``node_dir`` and named
    in ``extra[KEPT_KEY]`` (a warning for what could not be kept); never raises."""
    try:
        found = to_keep(result, outputs)
        if not found:
            return result
        keep = Path(tempfile.mkdtemp(prefix=f"{KEEP_PREFIX}{job}-", dir=node_dir))  # owner-only
        kept, moved, warnings = _move(found, keep)
        if not kept:
            os.rmdir(keep)
    except Exception as exc:  # noqa: BLE001 - the result must still be written
        log.exception("keeping the staged outputs of %s on the node failed", job)
        kept, moved = {}, {}
        warnings = [f"the staged outputs could not be kept on Ray node {socket.gethostname()} "
                    f"({type(exc).__name__}: {exc}); they were removed with the node's workspace"]
    extra = dict(result.get("extra") or {})
    if kept:
        extra[KEPT_KEY] = kept
    if warnings:
        extra["warnings"] = [*(extra.get("warnings") or []), *warnings]
    error = result.get("error")
    if isinstance(error, str):
        error = moved_paths(error, moved)
    return {**result, "error": error, "extra": extra}


def _move(found: dict[str, Path], keep: Path) -> tuple[dict[str, dict[str, Any]], dict[str, str], list[str]]:
    host = socket.gethostname()
    kept: dict[str, dict[str, Any]] = {}
    moved: dict[str, str] = {}
    warnings: list[str] = []
    for name, path in sorted(found.items()):
        target = keep / name
        try:
            os.rename(path, target)  # the same file system: the node workspace is in the node dir too
        except OSError as exc:
            warnings.append(f"outputs.{name}: its staged data could not be kept on Ray node {host} "
                            f"({exc.strerror or exc}); it was removed with the node's workspace")
            continue
        kept[name] = {"host": host, "path": str(target), "files": count_files(target)}
        moved[str(path)] = str(target)
        log.info("output %s's staged data kept at %s", name, target)
        # in Ray's job log too (the job's log here), should the result not reach the submitting side
        print(f"runner on Ray node {host}: output '{name}' was not uploaded; its staged data is kept at "
              f"{target}", file=sys.stderr, flush=True)
    return kept, moved, warnings


def moved_paths(text: str, moved: dict[str, str]) -> str:
    """``text`` with each moved folder's path (whole, or at the start of a path below it) as where it went."""
    for old in sorted(moved, key=len, reverse=True):
        new = moved[old].replace("\\", "\\\\")  # a replacement: its backslashes as they are
        text = re.sub(re.escape(old) + r"(?=$|/|[^\w.\-])", new, text)
    return text
