"""What a Ray job's run holds back on the node is kept there: its node workspace (the job folder, the
datastore credentials, the secrets) is removed when the job ends, so before that each staged output folder
that holds data of a job that did not complete (held back, its upload failed, or left staged by an error
that ended the run: as ``runner.workspace.upload_state`` tells them apart) is moved, whole, into a keep
folder of the job in the node dir, owner-only, and the result names it (host, path, files) per output
(``KEPT_KEY``). Nothing else of the workspace is kept; the keep folder is never removed by runner.

    result = keep_staged(result, ws.job_dir(job).outputs, node_dir, job)   # never raises

A staged folder that could not be moved (its move failed) is removed with the node workspace: the result
names it in ``REMOVED_KEY`` (output -> the node) and in a warning, no longer as held back or staged
(``outputs_not_durable``'s "staged" None), and the error says it was removed, its hint no longer that it
is kept on the node: the record names kept data only where it was kept.

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
from collections.abc import Collection
from pathlib import Path
from typing import Any

from runner.jobs.ray_result import KEEP_PREFIX
from runner.workspace.db import JobStatus
from runner.workspace.transfers import staged_hint
from runner.workspace.trees import count_files, holds_files, subfolders
from runner.workspace.upload_state import KEPT_KEY, NOT_DURABLE_KEY, REMOVED_KEY, own_staged

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
    in ``extra[KEPT_KEY]``; what could not be kept in a warning and ``extra[REMOVED_KEY]`` (``unkept``);
    never raises."""
    found: dict[str, Path] = {}
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
    lost = {name: path for name, path in found.items() if name not in kept}
    return unkept({**result, "error": error, "extra": extra}, lost)


def unkept(result: dict[str, Any], lost: dict[str, Path]) -> dict[str, Any]:
    """The result once the staged folders ``lost`` (output -> its folder) were not kept: named in
    ``REMOVED_KEY``, no longer held back nor staged, and the error saying so (``removed_text``)."""
    if not lost:
        return result
    host = socket.gethostname()
    extra = dict(result.get("extra") or {})
    extra[REMOVED_KEY] = {**(extra.get(REMOVED_KEY) or {}), **{name: host for name in lost}}
    held = {k: v for k, v in (extra.get("held_back_outputs") or {}).items() if k not in lost}
    extra.pop("held_back_outputs", None)
    if held:
        extra["held_back_outputs"] = held
    else:
        extra.pop("held_back_why", None)
    failed = extra.get(NOT_DURABLE_KEY)
    if isinstance(failed, dict):
        extra[NOT_DURABLE_KEY] = {k: {**v, "staged": None} if k in lost and isinstance(v, dict) else v
                                  for k, v in failed.items()}
    error = result.get("error")
    if isinstance(error, str):
        error = removed_text(error, [str(path) for path in lost.values()], host)
    return {**result, "error": error, "extra": extra}


def removed_text(text: str, lost: Collection[str], host: str) -> str:
    """``text`` (the job's error) with each folder in ``lost`` said removed: its "staged data kept at" line
    says so, the hint before that line (that it is kept on this node) says to run the job again, and any
    other mention of it is marked removed."""
    said_kept, at = f"  hint: {staged_hint(node=host)}", "  staged data kept at: "
    gone = f"removed with the workspace of Ray node {host}: it could not be kept there"
    lines, hint = text.split("\n"), None
    for i, line in enumerate(lines):
        if line == said_kept:
            hint = i
        elif line.startswith(at) and _below(line[len(at):], lost):
            lines[i] = f"  staged data not kept: {line[len(at):]} was {gone}"
            if hint is not None:
                lines[hint] = "  hint: its staged data is gone: run the job again"
            hint = None
        elif line.startswith(at):
            hint = None
        else:
            lines[i] = moved_paths(line, {path: f"{path} ({gone})" for path in lost})
    return "\n".join(lines)


def _below(path: str, folders: Collection[str]) -> bool:
    return any(path == folder or path.startswith(folder.rstrip("/") + "/") for folder in folders)


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
