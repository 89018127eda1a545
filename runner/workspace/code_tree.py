"""A code snapshot (a job's ``code/``, a registered component's, a Ray node's copy of the job package)
takes folders, regular files the runner can read and links (copied as links, never followed), each at
a path the system can open (under ``PATH_MAX``, 4096 bytes). Anything else is refused with nothing left
copied, with one ``SpecError`` on the field that named the folder:

    the folder '/home/me/src' holds 2 entries a code snapshot cannot take: 'sock' (a socket),
    'sub/pipe' (a FIFO)
      hint: a code snapshot holds folders, regular files ... remove these entries or move them out ...

A FIFO, a socket or a device is refused rather than skipped: Azure ML's snapshot upload has no way to
take one either (its content hash opens every file it lists, and a FIFO blocks it), and a job whose
code relies on an entry it silently lacks would fail later, further from the cause. The fix is to
remove the entry, move it out of the folder, or, for a job's or a component's code, leave it out with the
code folder's ``.amlignore`` or ``.gitignore`` (``runner.workspace.snapshot_rules``: the ``ignore`` its
callers pass; what it leaves out is never looked at). Nothing here opens an entry (``os.access`` and
``lstat`` only): a FIFO never blocks the check, and the copy (``copy_tree(refuse_special=True)``) never
opens one either. The copy lists the folder once, checking
each entry as it reaches it (``job create`` checked the whole folder before queuing the job): an entry
refused then, or one that changed since that check, removes what was copied. A Docker build context
and a Ray job's package look at what a link names too (``stat``, nothing opened): a Ray package takes a
link's content, so a link to a FIFO, socket or device, or a link loop, is refused there ("'to-pipe' (a
link to a FIFO)").
"""

from __future__ import annotations

import errno
import os
import shutil
import stat
from collections.abc import Callable, Iterable
from pathlib import Path

from runner.errors import SourceLocation, SpecError

Ignore = Callable[[str, list[str]], Iterable[str]]

SHOWN = 5  # entries named in the error; the rest counted
_LONGEST_SHOWN = 120  # characters of one entry's path in the error (a path too long is shortened)
SNAPSHOT = "a code snapshot"
PACKAGE = "a Ray job's package"  # runner.jobs.ray_package: a link's content is packaged, not the link
BUILD_CONTEXT = "a Docker build context"  # runner.jobs.submit: docker build sends a link as a link
_LINKS = {SNAPSHOT: "copied as links", PACKAGE: "to regular files",
          BUILD_CONTEXT: "sent as links, none to a FIFO, socket or device: a Ray job's package takes what a "
                         "link names"}
_LINK_TARGETS = (PACKAGE, BUILD_CONTEXT)  # kinds that look at what a link names (never opened)
_HINT = ("{kind} holds folders, regular files the runner can read and links ({links}), "
         "each path under {limit} bytes; remove these entries or move them out of the folder{or_ignore}")
_OR_IGNORE = {SNAPSHOT: ", or leave them out with the code folder's .amlignore (or .gitignore)"}


def check_code_tree(source: Path, *, field: str, where: SourceLocation | None = None,
                    ignore: Ignore | None = None, target: Path | None = None, kind: str = SNAPSHOT) -> None:
    """Refuse ``source`` (a code folder, or one file) when a snapshot cannot take all of it (names left
    out by ``ignore`` are not looked at); ``target``: where the copy goes (its paths must fit too);
    ``kind``: what takes the folder, as the error names it (a Ray job's package too)."""
    found = code_tree_problems(source, ignore=ignore, target=target, links=kind in _LINK_TARGETS)
    if found:
        raise code_tree_refusal(source, found, field, where, kind=kind)


class _Refused(Exception):  # noqa: N818 - not an error: stops the copy at an entry the check refuses
    """Raised out of ``copy_tree`` by the check it makes per folder (no ``OSError``: not collected)."""


def copy_code_tree(source: Path, target: Path, *, field: str, where: SourceLocation | None = None,
                   ignore: Ignore | None = None, dirs_exist_ok: bool = False) -> None:
    """``copy_tree`` (any depth, links as links, no FIFO, socket or device opened) listing ``source``
    once: each folder's entries are checked as the copy reaches them, before any of them is copied (its
    path fits, it is readable; a FIFO, socket or device ``copy_tree`` refuses unopened). Anything refused
    (``check_code_tree``'s one error, naming every entry it refuses) leaves nothing copied: what the copy
    made is removed, no link followed, and what ``target`` held before is kept."""
    from runner.workspace.trees import copy_tree  # start-up cost (mounts): only to copy a snapshot

    limit, grows = _path_max(source), max(len(os.fsencode(target)) - len(os.fsencode(source)), 0)
    found: list[tuple[str, str]] = []

    def checked(folder: str, names: list[str]) -> Iterable[str]:
        left_out = set(ignore(folder, names)) if ignore is not None else set()
        if not os.access(folder, os.R_OK | os.X_OK):  # its parent's listing checked R_OK: a folder needs X
            found.append((_relative(folder, source), "a folder that is not readable"))
        for name in names:
            path = os.path.join(folder, name)
            if name not in left_out and (len(os.fsencode(path)) + grows >= limit
                                         or not os.access(path, os.R_OK, follow_symlinks=False)):
                found.append((_relative(path, source), _problem(path, limit, grows) or "not readable"))
        if found:
            raise _Refused
        return left_out

    before = _held(target)
    try:
        copy_tree(source, target, ignore=checked, dirs_exist_ok=dirs_exist_ok, refuse_special=True)
        return
    except _Refused:
        failure: Exception | None = None
    except shutil.Error as exc:
        failure, found = exc, [(_relative(src, source), _reason(why)) for src, _dst, why in exc.args[0]]
    except OSError as exc:  # the folder cannot be listed, or the target made
        failure = exc
    _undo(target, before)
    found = code_tree_problems(source, ignore=ignore, target=target) or found  # all, in their order
    if not found and failure is not None:
        raise failure
    raise code_tree_refusal(source, found, field, where) from failure


def _held(target: Path) -> set[str] | None:
    """The names in ``target`` (None: there is no ``target``)."""
    if not os.path.lexists(target):
        return None
    try:
        return set(os.listdir(target))
    except OSError:
        return set()


def _undo(target: Path, before: set[str] | None) -> None:
    """Remove what a copy into ``target`` made (``before``: what it held), following no link."""
    from runner.workspace.trees import remove_tree  # start-up cost (mounts): only to copy a snapshot

    now = _held(target)
    if now is None:
        return
    if before is None:  # the copy made it
        remove_tree(target)
        return
    for name in sorted(now - before):
        remove_tree(target / name)


def code_tree_problems(source: Path, *, ignore: Ignore | None = None, target: Path | None = None,
                       links: bool = False, owner_bits: bool = False) -> list[tuple[str, str]]:
    """``(path relative to source, why)`` of every entry a snapshot cannot take, a folder's entries
    before its subfolders', each folder's by name; below a refused folder nothing is looked at. No
    recursion (a code folder may be nested thousands of levels deep), nothing opened. ``links``: a link
    to a FIFO, socket or device (through any chain of links) is refused too ("a link to a FIFO").

    Each entry is looked at once: its kind from the listing (``d_type``), a file or folder ``lstat``ed
    once (a link not at all unless ``links``); an ``ignore`` with ``left_out_entries(folder, entries)``
    (``SnapshotRules``) is given the listed entries, sharing what they know. ``owner_bits``: an entry
    this process's (real) user owns is readable when its owner bits say so, without asking ``access()``
    (exact: an ACL's owner entry is those bits); any other is asked as before."""
    limit = _path_max(source)
    grows = len(os.fsencode(target)) - len(os.fsencode(source)) if target is not None else 0
    if not source.is_dir():  # one file (a link named as code: what it names)
        why = _problem(os.path.realpath(source), limit, grows) if os.path.lexists(source) else None
        return [(source.name, why)] if why else []
    found: list[tuple[str, str]] = []
    owner = os.getuid() if owner_bits else None  # access() asks as the real user
    by_entry = getattr(ignore, "left_out_entries", None)
    folders = [("", os.fspath(source))]
    while folders:
        prefix, folder = folders.pop()
        try:
            with os.scandir(folder) as listing:
                entries = sorted(listing, key=lambda entry: entry.name)
        except OSError as exc:
            found.append((prefix.rstrip("/") or ".", _why(exc)))
            continue
        if by_entry is not None:
            ignored = set(by_entry(folder, entries))
        else:
            ignored = set(ignore(folder, [entry.name for entry in entries])) if ignore is not None else set()
        below = []
        for entry in entries:
            if entry.name in ignored:
                continue
            why = _entry_problem(entry, limit, grows, links, owner)
            if why:
                found.append((prefix + entry.name, why))
            elif entry.is_dir(follow_symlinks=False):
                below.append((f"{prefix}{entry.name}/", entry.path))
        folders.extend(reversed(below))
    return found


def _problem(path: str, limit: int, grows: int, links: bool = False) -> str | None:
    """Why a snapshot cannot take ``path`` (never opened; a link followed for its kind alone when
    ``links``), or None."""
    if len(os.fsencode(path)) + max(grows, 0) >= limit:
        return f"path too long: over {limit - 1} bytes"
    try:
        info = os.lstat(path)
    except OSError as exc:
        return _why(exc)
    if stat.S_ISLNK(info.st_mode):
        return _link_problem(path) if links else None
    return _kind_problem(path, info, None)


def _entry_problem(entry: os.DirEntry[str], limit: int, grows: int, links: bool,
                   owner: int | None) -> str | None:
    """``_problem`` of a listed entry: a link known from the listing (no ``lstat``), anything else
    ``lstat``ed once (``DirEntry`` keeps it); ``owner``: see ``_readable``."""
    if len(os.fsencode(entry.path)) + max(grows, 0) >= limit:
        return f"path too long: over {limit - 1} bytes"
    try:
        if entry.is_symlink():
            return _link_problem(entry.path) if links else None
        info = entry.stat(follow_symlinks=False)
    except OSError as exc:
        return _why(exc)
    return _kind_problem(entry.path, info, owner)


def _kind_problem(path: str, info: os.stat_result, owner: int | None) -> str | None:
    """Why a snapshot cannot take ``path``, no link (``info``: its ``lstat``), or None."""
    if stat.S_ISDIR(info.st_mode):
        return None if _readable(path, info, os.R_OK | os.X_OK, owner) else "a folder that is not readable"
    if stat.S_ISREG(info.st_mode):
        return None if _readable(path, info, os.R_OK, owner) else "not readable"
    return special_kind(info.st_mode)


def _readable(path: str, info: os.stat_result, need: int, owner: int | None) -> bool:
    """``access(path, need)``, unasked when ``owner`` (the real uid) owns ``path`` and its owner bits grant
    ``need``: the kernel decides on those bits alone then (an ACL's owner entry is them). Anyone else (an
    ACL may grant or deny), or owner bits that deny (root reads anyway), is asked."""
    bits = (0o400 if need & os.R_OK else 0) | (0o100 if need & os.X_OK else 0)
    if owner is not None and info.st_uid == owner and info.st_mode & bits == bits:
        return True
    return os.access(path, need)


def _link_problem(path: str) -> str | None:
    """A link that names a FIFO, socket or device ("a link to a FIFO"), or that cannot be followed (a
    loop), which a Ray job's package cannot take (``runner.jobs.ray_package``); a dangling link, or one to
    a file or folder, is fine here."""
    try:
        mode = os.stat(path).st_mode  # the kind of what it names: nothing opened
    except OSError as exc:  # dangling: sent as it is, skipped by a Ray package; a loop: neither can
        if exc.errno in (errno.ENOENT, errno.ENOTDIR):
            return None
        return f"a link that cannot be followed: {_why(exc)}"
    if stat.S_ISREG(mode) or stat.S_ISDIR(mode):
        return None
    return "a link to " + special_kind(mode)


def special_kind(mode: object) -> str:
    """What an entry that is no folder, regular file or link is, from its ``st_mode``, in runner's one
    wording ("a FIFO", "a socket", "a character device", "a block device"; "a special file" when the mode,
    or a store's info without one, says nothing more). ``mounts.transfer.tree`` keeps its own."""
    if isinstance(mode, int):
        for test, name in ((stat.S_ISFIFO, "a FIFO"), (stat.S_ISSOCK, "a socket"),
                           (stat.S_ISCHR, "a character device"), (stat.S_ISBLK, "a block device")):
            if test(mode):
                return name
    return "a special file"


def _why(exc: OSError) -> str:
    if exc.errno in (errno.EACCES, errno.EPERM):
        return "not readable"
    if exc.errno == errno.ENAMETOOLONG:
        return "path too long"
    return exc.strerror or str(exc)


def _reason(why: str) -> str:
    """A ``copy_tree`` error's text as an entry's reason ("a FIFO" as it is; an OSError's text mapped)."""
    for code, reason in ((errno.EACCES, "not readable"), (errno.EPERM, "not readable"),
                         (errno.ENAMETOOLONG, "path too long")):
        if os.strerror(code) in why:
            return reason
    return why


def _relative(path: str, source: Path) -> str:
    try:
        return Path(path).relative_to(source).as_posix()
    except ValueError:
        return path


def _shown(name: str) -> str:
    if len(name) <= _LONGEST_SHOWN:
        return name
    half = (_LONGEST_SHOWN - 3) // 2
    return f"{name[:half]}...{name[-half:]}"


def code_tree_refusal(source: Path, found: list[tuple[str, str]], field: str,
                      where: SourceLocation | None = None, *, kind: str = SNAPSHOT) -> SpecError:
    """The one error for ``found`` (``(path relative to source, why)``) in ``source``."""
    named = ", ".join(f"'{_shown(name)}' ({why})" for name, why in found[:SHOWN])
    more = f" and {len(found) - SHOWN} more" if len(found) > SHOWN else ""
    if not source.is_dir():
        why = found[0][1]
        what = f"is {why}, not a folder or a file" if why.startswith("a ") else f"cannot be copied ({why})"
        return SpecError(f"'{source}' {what}", field=field, where=where,
                         hint=f"point {field} at a folder or a regular file")
    count = "an entry" if len(found) == 1 else f"{len(found)} entries"
    hint = _HINT.format(kind=kind, links=_LINKS.get(kind, "followed"), limit=_path_max(source),
                        or_ignore=_OR_IGNORE.get(kind, ""))
    return SpecError(f"the folder '{source}' holds {count} {kind} cannot take: {named}{more}",
                     field=field, where=where, hint=hint)


def _path_max(path: Path) -> int:
    try:
        return os.pathconf(path, "PC_PATH_MAX")
    except (OSError, ValueError):
        return 4096
