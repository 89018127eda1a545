"""Which outputs of an ended job did not (all) reach their location, from what its record and its folder
keep: ``job download`` and a user's registration of ``azureml://jobs/<job>/outputs/<o>`` refuse them
rather than copy or register part of an output as if it were whole.

An output is incomplete when the job did not complete and

* its record holds it back (``extra["held_back_outputs"]``: ``--no-upload-on-failure``, a full disk when
  the command ended, an error that ended the run, each uploading nothing; or a runner that died, which may
  have uploaded part of it: its location is looked at then);
* its upload failed (the record's error: "outputs could not be made durable", each output's message with
  how many files could not be uploaded or moved into place, and where its staged data is kept);
* or its staging folder (``<job>/outputs/<o>``, which a finished upload empties) still holds files.

Where its data is: an ``upload`` to a remote store keeps every staged file until all are uploaded (the
staging folder holds the whole output); a move into a local datastore and ``rw_mount`` move or upload
file by file (the staging folder holds the files that did not get there, the others are at its
location). Nothing here follows a link: the staging folders are listed with ``runner.workspace.trees``.
"""

from __future__ import annotations

import os
import re
import stat
from dataclasses import dataclass
from pathlib import Path

from runner.errors import RunnerError
from runner.modes import PathKind
from runner.uris import ARTIFACTS
from runner.workspace.db import JobRecord, JobStatus, Workspace, default_artifacts_uri
from runner.workspace.resolve import Resolver
from runner.workspace.resolved import ResolvedPath
from runner.workspace.trees import iter_entries

HELD_BACK_WHY = "ran with --no-upload-on-failure"  # a record that says nothing else (older runners')
DIED = "its runner process"  # how recovery's ``held_back_why`` begins: it may have uploaded part
NOT_DURABLE = "outputs could not be made durable:"  # runner.jobs.run: what the failed uploads follow
_SECTION = re.compile(r"^output '([^'\n]+)' \(", re.MULTILINE)
_OF_TOTAL = re.compile(r"(\d+) of (\d+) file\(s\) could not be uploaded")
_COUNTED = re.compile(r"(\d+) file\(s\) (?:written to \S+ )?(?:could not be (?:uploaded|moved into place)|"
                      r"were not uploaded)")
_KEPT_AT = re.compile(r"^ +staged data kept at: (.+)$", re.MULTILINE)


@dataclass(frozen=True)
class Incomplete:
    """An output of an ended job that did not all reach its location."""

    output: str
    kept_at: Path  # its staging folder
    files: int  # files kept there now
    why: str  # why it was not (all) uploaded: "its upload failed", the record's reason
    reached: bool | None  # whether part of it is at its location; None: not known (not looked at)
    whole: bool  # ``kept_at`` holds all of it (else: what did not reach its location)
    held_back: bool  # the record holds it back (its message says so in the words it always did)
    location: str  # where it was to go: a local folder, else its URI
    missing: int | None = None  # files that did not reach its location, when the record says
    total: int | None = None  # files it had, when the record says

    def sentence(self) -> str:
        """What happened to it and where its data is, e.g. "its output 'o' was not fully uploaded to
        az://c/o (37 of 40 files could not be uploaded): its upload failed (the job's error says why); its
        whole data is kept in /ws/jobs/j/outputs/o (40 files)"."""
        count = ""
        if self.missing is not None and self.reached is not False:
            what = _files(self.missing) if self.total is None else f"{self.missing} of {_files(self.total)}"
            count = f" ({what} could not be uploaded)"
        done = "was never uploaded" if self.reached is False else "was not fully uploaded"
        where = (f"its whole data is kept in {self.kept_at} ({_files(self.files)})" if self.whole else
                 f"the files that did not get there are kept in {self.kept_at} ({_files(self.files)}), the "
                 f"others are there")
        return f"its output '{self.output}' {done} to {self.location}{count}: {self.why}; {where}"

    def hint(self, *, register: bool = False) -> str:
        """What to do: copy the data from where it is (and register the copy), or run the job again."""
        then = " and register the copy" if register else ""
        if self.whole:
            return f"copy it from there (e.g. cp -r {self.kept_at} DEST){then}, or run the job again"
        if Path(self.location).is_absolute():  # a local folder
            return (f"put it together from both (e.g. cp -r {self.location} DEST && cp -r {self.kept_at}/. "
                    f"DEST){then}, or run the job again")
        return f"copy the files kept there and the others from {self.location}{then}, or run the job again"


def incomplete_outputs(ws: Workspace, record: JobRecord, names: list[str] | None = None, *,
                       check: bool = True) -> dict[str, Incomplete]:
    """The outputs of ``record`` (those in ``names``, or all) that did not all reach their location; {}
    for a job that completed or has not ended. ``check``: whether a remote store may be read (to tell
    whether a dead runner uploaded part of an output)."""
    if not record.status.is_terminal or record.status is JobStatus.COMPLETED or \
            record.spec.get("type") == "pipeline":  # a pipeline's outputs are its steps' (their records)
        return {}
    held = {n: Path(p) for n, p in (record.extra.get("held_back_outputs") or {}).items()}
    failed = _failed_uploads(record.error or "")
    outputs = Path(record.job_dir) / "outputs" if record.job_dir else ws.job_dir(record.name).outputs
    wanted = set(held) | set(failed) | {p.name for p in _folders(outputs) if _holds_files(p)}
    return {name: _incomplete(ws, record, name, held, failed, outputs, check=check)
            for name in sorted(wanted) if names is None or name in names}


def _incomplete(ws: Workspace, record: JobRecord, name: str, held: dict[str, Path],
                failed: dict[str, tuple[int | None, int | None, str | None]], outputs: Path, *,
                check: bool) -> Incomplete:
    resolved = output_location(ws, record, name, check=False)
    local = resolved.local_path if resolved is not None else None
    location = str(local) if local is not None else record.outputs.get(name) or (
        default_artifacts_uri(record.name) if name == ARTIFACTS else "its location")
    missing, total, kept = failed.get(name, (None, None, None))
    reached: bool | None = None
    if name in held:
        why = str(record.extra.get("held_back_why") or f"the job {HELD_BACK_WHY}")
        kept_at = held[name]
        if not why.startswith(DIED):
            reached = False  # held back: nothing of it was uploaded
    else:
        why = "its upload failed (the job's error says why)" if name in failed else \
            "its staged data was not all uploaded (the job's error says why)"
        kept_at = Path(kept) if kept and _is_folder(Path(kept)) else outputs / name
        if missing is not None and total is not None:
            reached = missing < total
    if reached is None:
        reached = _reached(ws, record, name, local, check=check)
    if reached is not False:  # a dead runner's: part of it may be there
        why = why.replace("before uploading them", "before its upload finished")
    why = why.replace("uploading them", "uploading it").replace("they were uploaded", "it was uploaded")
    whole = reached is False or (_mode(record, name) == "upload" and local is None)
    return Incomplete(output=name, kept_at=kept_at, files=_count(kept_at), why=why, reached=reached,
                      whole=whole, held_back=name in held and reached is False, location=location,
                      missing=missing, total=total)


def _failed_uploads(error: str) -> dict[str, tuple[int | None, int | None, str | None]]:
    """Each output the record's error says could not be made durable -> (files not uploaded, of how many,
    where its staged data is kept), each None when the message does not say."""
    if NOT_DURABLE not in error:
        return {}
    text = error[error.index(NOT_DURABLE):]
    starts = list(_SECTION.finditer(text))
    found: dict[str, tuple[int | None, int | None, str | None]] = {}
    for match, after in zip(starts, [*starts[1:], None], strict=True):
        section = text[match.start():after.start() if after is not None else len(text)]
        missing: int | None = None
        total: int | None = None
        if of := _OF_TOTAL.search(section):
            missing, total = int(of.group(1)), int(of.group(2))
        elif counts := _COUNTED.findall(section):
            missing = sum(int(c) for c in counts)
        kept = _KEPT_AT.search(section)
        found[match.group(1)] = (missing, total, kept.group(1).strip() if kept else None)
    return found


def output_location(ws: Workspace, record: JobRecord, name: str, *, check: bool) -> ResolvedPath | None:
    """Where the output was to go (the job's artifacts: their default place), resolved (its store read
    only with ``check``); None when the record names none or it cannot be resolved."""
    location = record.outputs.get(name) or (default_artifacts_uri(record.name) if name == ARTIFACTS else None)
    if location is None:
        return None
    try:
        return Resolver(ws).resolve_output(location, job_name=record.name, output_name=name, check=check)
    except RunnerError:
        return None


def _reached(ws: Workspace, record: JobRecord, name: str, local: Path | None, *, check: bool) -> bool | None:
    """Whether any file of the output is at its location: a local folder is listed (no link followed), a
    remote store is asked only with ``check``; None when it cannot be told."""
    if local is not None:
        try:
            mode = os.lstat(local).st_mode
        except OSError:
            return False
        return _holds_files(local) if stat.S_ISDIR(mode) else stat.S_ISREG(mode)
    if not check:
        return None
    resolved = output_location(ws, record, name, check=True)
    return None if resolved is None else resolved.kind is not PathKind.ANY


def _mode(record: JobRecord, name: str) -> str | None:
    """The output's mode as the stored plan has it (the job's artifacts are staged and uploaded)."""
    if name == ARTIFACTS:
        return "upload"
    plan = record.extra.get("plan")
    for binding in plan.get("outputs", []) if isinstance(plan, dict) else []:
        if isinstance(binding, dict) and binding.get("name") == name:
            return str(binding.get("mode"))
    return None


def _files(count: int) -> str:
    return f"{count} file{'s' if count != 1 else ''}"


def _is_folder(path: Path) -> bool:
    """A folder, not a link to one."""
    try:
        return stat.S_ISDIR(os.lstat(path).st_mode)
    except OSError:
        return False


def _folders(path: Path) -> list[Path]:
    if not _is_folder(path):
        return []
    try:
        return sorted(p for p in path.iterdir() if _is_folder(p))
    except OSError:
        return []


def _holds_files(folder: Path) -> bool:
    """Whether anything but a folder is below ``folder`` (stops at the first); what cannot be listed may."""
    try:
        return any(not entry.is_dir(follow_symlinks=False) for _rel, entry in iter_entries(folder))
    except OSError:
        return True


def _count(folder: Path) -> int:
    """How many files (anything but a folder) are below ``folder``, any depth, no link followed; what
    cannot be listed counts as one (it may hold data)."""
    if not _is_folder(folder):
        return 0
    count = 0
    try:
        for _rel, entry in iter_entries(folder):
            count += not entry.is_dir(follow_symlinks=False)
    except OSError:
        return count or 1
    return count
