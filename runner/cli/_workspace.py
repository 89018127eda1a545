"""Which workspace folder a command may use: a workspace named explicitly (``--workspace`` or
``RUNNER_WORKSPACE``) that does not exist is a mistake to report, not an empty workspace to show.

* The commands that create something in the workspace (``CREATING``: ``job create``, ``model create``,
  ``datastore create``, ..., and ``job validate``, which resolves a job against it) create a missing
  workspace folder, and say so once on stderr, before their output, when they succeed (a failed
  command's error stays its only message).
* Every other command (list, show, download, stream, cancel, update, delete, ``cache``, ``ui``) refuses
  a folder that does not exist, or that exists and holds something other than a workspace.
* An existing empty folder (``mktemp -d``) is a new, empty workspace for every command.
* The default workspace (neither option nor variable given) cannot be mistyped: it is created on first
  use, as before.
* ``-w myws`` (no ``/``) that was created looks like az's ``-w``, an Azure ML workspace name: the note
  adds that ``-w`` is the workspace folder here, and az's ``--workspace-name`` is taken (after the
  command) and ignored.

``guard`` wraps every command of the click tree (``runner.cli.main``: the root's own, and each group's as
it is first imported).
"""

from __future__ import annotations

import functools
import sys
from pathlib import Path
from typing import Any

from runner.cli import _common
from runner.errors import ResolveError

CREATING = frozenset({
    "job create", "job validate", "model create", "data create", "datastore create", "environment create",
    "component create", "compute create",
})
# what a workspace folder holds (runner.workspace.db.Workspace): its database, or the layout made first
_MARKERS = ("runner.db", "jobs", "datastores")
_CREATE_HINT = ("a command that creates something creates it (`runner job create`, `runner model create`, "
                "`runner datastore create`, ...), and `mkdir -p DIR` makes an empty one")


def explicit_workspace() -> tuple[Path, str] | None:
    """The workspace folder the user named and where (the option or the variable), else None."""
    if _common.STATE.workspace is None:
        return None
    return Path(_common.STATE.workspace).expanduser().absolute(), _common.STATE.workspace_source


def check(command: str) -> Path | None:
    """Refuse the named workspace for ``command`` (``"job list"``) when it cannot be the one meant; the
    folder a creating command will create (to say so after it did), else None."""
    named = explicit_workspace()
    if named is None:
        return None
    root, source = named
    if not root.exists():
        if command in CREATING:
            return root
        raise ResolveError(f"workspace {root} does not exist (given by {source})",
                           hint=f"check the path in {source}; {_CREATE_HINT}")
    if not root.is_dir():
        raise ResolveError(f"workspace {root} is not a folder (given by {source})",
                           hint=f"give a workspace folder in {source}")
    if any((root / marker).exists() for marker in _MARKERS) or not any(root.iterdir()):
        return None
    raise ResolveError(f"{root} is not a runner workspace (given by {source}): it holds other files and no "
                       "runner.db",
                       hint=f"check the path in {source}: give a workspace folder, or a new or empty one "
                            "for a new workspace")


def guard(command: Any, path: str) -> None:
    """Make the click ``command`` (its path below ``runner``: ``"job list"``) check its workspace first."""
    callback = command.callback
    if callback is None or getattr(callback, "_workspace_checked", False):
        return

    @functools.wraps(callback)
    def checked(*args: Any, **kwargs: Any) -> Any:
        created = check(path)
        if created is None:
            return callback(*args, **kwargs)
        note = _CreatedNote(created, sys.stderr, az_name=_looks_like_az_name())
        streams = sys.stdout, sys.stderr
        sys.stdout, sys.stderr = _Announcing(streams[0], note), _Announcing(streams[1], note)
        try:
            result = callback(*args, **kwargs)
        except BaseException as exc:
            if _succeeded(exc):
                note.say()
            raise
        finally:
            sys.stdout, sys.stderr = streams
        note.say()
        return result

    checked._workspace_checked = True  # type: ignore[attr-defined]
    command.callback = checked


def _looks_like_az_name() -> str | None:
    """The workspace ``-w`` named when it looks like an Azure ML workspace name (no ``/``), else None."""
    given = _common.STATE.workspace
    if _common.STATE.workspace_source != "--workspace" or given is None or "/" in given:
        return None
    return given


def _succeeded(exc: BaseException) -> bool:
    """An exit that ends a command well (click's ``Exit(0)``, ``SystemExit(0)``)."""
    code = getattr(exc, "exit_code", getattr(exc, "code", 1)) if isinstance(exc, SystemExit) or \
        hasattr(exc, "exit_code") else 1
    return code in (0, None)


class _CreatedNote:
    """The note for a workspace a command created, said once: before the command's first output (what it
    prints once its work is done; a streamed log once the job is queued), else when it succeeded. A
    command that fails before printing anything says only its error (the folder is there for the next
    command all the same)."""

    def __init__(self, created: Path, stderr: Any, *, az_name: str | None = None) -> None:
        self.created, self.stderr, self.az_name = created, stderr, az_name
        self.said = False

    def say(self) -> None:
        if not self.said and self.created.is_dir():
            self.said = True
            az = (f" (-w is the workspace folder here: `runner -w {self.az_name}` made a folder named "
                  f"'{self.az_name}' in the current directory, not an Azure ML workspace; az's "
                  "--workspace-name/-w after the command is taken and ignored)") if self.az_name else ""
            print(f"note: created workspace {self.created}{az}", file=self.stderr, flush=True)


class _Announcing:
    """``sys.stdout``/``sys.stderr`` while a creating command runs: its first write (text, or bytes to
    ``.buffer``: a job's log) says the note first."""

    def __init__(self, stream: Any, note: _CreatedNote) -> None:
        self._stream, self._note = stream, note

    def write(self, data: Any) -> Any:
        if data:
            self._note.say()
        return self._stream.write(data)

    @property
    def buffer(self) -> Any:
        return _Announcing(self._stream.buffer, self._note)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._stream, name)


def guard_tree(root: Any, prefix: str = "") -> None:
    """``guard`` every command below ``root`` (named ``prefix`` below ``runner``: ``"job"``; ``root`` itself
    when it is a command, ``ui``; a group's own callback is not a command)."""
    pending: list[tuple[str, Any]] = [(prefix, root)]
    while pending:
        prefix, command = pending.pop()
        subcommands: dict[str, Any] = getattr(command, "commands", {})
        if not subcommands:
            guard(command, prefix)
        for name, sub in subcommands.items():
            pending.append((f"{prefix} {name}".strip(), sub))

