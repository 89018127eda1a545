"""Walking and removing folder trees of any depth, with no recursion and no link followed.

A job can nest folders far deeper than Python's recursion limit (``mkdir a; cd a`` in a loop: each call
is relative, so ``PATH_MAX`` limits no single one), and ``os.walk``, ``Path.rglob``, ``shutil.copytree``
and ``shutil.rmtree`` recurse once per level in Python 3.11 (``RecursionError`` at ~1,000 levels).
Everything the runner does with a job's files after it ran goes through loops with an explicit stack:

* ``iter_entries`` lists a tree by path (``os.scandir``), parents before children; a path longer than
  the system's limit (``ENAMETOOLONG``, about 2,000 levels of one-letter names) is the caller's error;
* ``walk`` is ``os.walk`` (top-down, a folder that cannot be listed skipped, ``dirs`` prunable in place)
  and ``copy_tree`` is ``shutil.copytree(symlinks=True)``: the same results, the same errors, in the
  same order, for the code that walks or copies a user's tree (a code snapshot, a job package;
  ``refuse_special`` leaves a FIFO, a socket or a device unopened: an error naming what it is);
* ``remove_tree`` goes down by name relative to an open folder and back up through ``..`` (checked to
  be the folder it left), one folder open at a time: no depth and no path length stops it, and it never
  raises (what it could not remove is named in one warning).

What an output cannot keep (a FIFO, a socket, a device, a link to no file inside it: ``special_kind``,
``link_kind``) is a ``LeftOut``, named in one note per output (``named``: the first few, and a count).
"""

from __future__ import annotations

import errno
import logging
import os
import shutil
import stat
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

log = logging.getLogger(__name__)

_FOLDER = os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW | os.O_CLOEXEC


def iter_entries(root: Path | str) -> Iterator[tuple[str, os.DirEntry[str]]]:
    """Every entry below ``root`` with its path relative to it (posix), a folder before what is in it;
    a link (to a folder too) is listed, never followed. Raises ``OSError`` when a folder cannot be
    listed (a path too long for the system: ``ENAMETOOLONG``)."""
    folders = [("", os.fspath(root))]
    while folders:
        prefix, folder = folders.pop()
        with os.scandir(folder) as listing:
            for entry in listing:
                yield prefix + entry.name, entry
                if entry.is_dir(follow_symlinks=False):
                    folders.append((f"{prefix}{entry.name}/", entry.path))


def walk(top: Path | str, *, follow_links: bool = False) -> Iterator[tuple[str, list[str], list[str]]]:
    """``os.walk(top, followlinks=follow_links)`` (top-down, errors ignored) with an explicit stack, as
    Python 3.12 has it: the same (folder, dirs, files) in the same order; a link to a folder is in
    ``dirs`` and walked only with ``follow_links`` (no loop protection: the caller's, as with os.walk);
    names removed from ``dirs`` by the caller are not walked."""
    stack = [os.fspath(top)]
    while stack:
        folder = stack.pop()
        dirs: list[str] = []
        files: list[str] = []
        try:
            with os.scandir(folder) as listing:
                for entry in listing:
                    try:
                        is_dir = entry.is_dir()
                    except OSError:
                        is_dir = False
                    (dirs if is_dir else files).append(entry.name)
        except OSError:
            continue  # as os.walk: a folder that cannot be listed (or listed to the end) is skipped
        yield folder, dirs, files
        for name in reversed(dirs):
            path = os.path.join(folder, name)
            if follow_links or not os.path.islink(path):
                stack.append(path)


Ignore = Callable[[str, list[str]], Iterable[str]]


def copy_tree(source: Path | str, target: Path | str, *, ignore: Ignore | None = None,
              dirs_exist_ok: bool = False, refuse_special: bool = False) -> None:
    """``shutil.copytree(source, target, symlinks=True, ignore=ignore, dirs_exist_ok=dirs_exist_ok)``
    with a stack of the folders being copied instead of recursion: a link is copied as a link (never
    followed), a file with ``copy2`` (mode, times), a folder's mode and times set once what is in it is
    copied; ``ignore(folder, names)`` is asked per folder. An error listing or making ``target`` is
    raised; one below it is collected as ``(source, target, why)`` and all are raised at the end as one
    ``shutil.Error``, in the order ``shutil.copytree`` gives them. ``refuse_special``: what is neither a
    folder, a link nor a regular file is never opened (a FIFO would block a read, a device never end)
    but collected as an error whose ``why`` is ``special_kind``'s ("a FIFO"), the rest copied."""
    errors: list[tuple[str, str, str]] = []
    # per folder being copied: its path, its copy's, the entries still to copy (last first)
    levels = [_copy_level(os.fspath(source), os.fspath(target), ignore, dirs_exist_ok)]
    while levels:
        src, dst, todo = levels[-1]
        if not todo:
            levels.pop()
            try:
                shutil.copystat(src, dst)
            except OSError as why:
                errors.append((src, dst, str(why)))
            continue
        entry = todo.pop()
        src_name, dst_name = os.path.join(src, entry.name), os.path.join(dst, entry.name)
        try:
            if entry.is_symlink():
                os.symlink(os.readlink(src_name), dst_name)
                shutil.copystat(entry, dst_name, follow_symlinks=False)
            elif entry.is_dir():
                levels.append(_copy_level(src_name, dst_name, ignore, dirs_exist_ok))
            elif refuse_special and not entry.is_file(follow_symlinks=False):
                errors.append((src_name, dst_name, special_kind(entry.stat(follow_symlinks=False).st_mode)))
            else:
                shutil.copy2(entry, dst_name)  # a FIFO, a socket, a device: SpecialFileError
        except OSError as why:
            errors.append((src_name, dst_name, str(why)))
    if errors:
        raise shutil.Error(errors)


def special_kind(mode: int) -> str:
    """What an entry that is neither a folder, a link nor a regular file is, for a message (in runner's
    wording: ``runner.workspace.code_tree.special_kind``)."""
    if stat.S_ISFIFO(mode):
        return "a FIFO"
    if stat.S_ISSOCK(mode):
        return "a socket"
    if stat.S_ISCHR(mode):
        return "a character device"
    if stat.S_ISBLK(mode):
        return "a block device"
    return "not a regular file"


@dataclass(frozen=True)
class LeftOut:
    """An entry of a job's output that is not taken (not uploaded, not data), and why: "a FIFO",
    "a link to /etc/shadow, out of the output"."""

    rel: str  # posix, below the output's folder
    why: str


SHOWN = 5  # the entries a note names; the rest are counted


def entries(count: int) -> str:
    return "1 entry" if count == 1 else f"{count} entries"


def named(items: Sequence[LeftOut]) -> str:
    """The first few ``items`` by path, each with why, and how many more: "fifo (a FIFO), ... and 3 more".
    A name is shown with its control characters escaped: a job's file name cannot forge a log line."""
    ordered = sorted(items, key=lambda item: item.rel)
    text = ", ".join(printable(f"{item.rel} ({item.why})") for item in ordered[:SHOWN])
    return text + (f" and {len(ordered) - SHOWN} more" if len(ordered) > SHOWN else "")


def printable(text: str) -> str:
    """``text`` with every character that is not printable (a newline, an escape) as its Python escape; a
    byte of a name that is not valid UTF-8 (``os.fsdecode`` made it a lone surrogate, U+DC80..U+DCFF) as
    that byte, ``bad\\xff.txt``, as the job record shows it (``job_records.visible_text`` in runner)."""
    return text if text.isprintable() else "".join(c if c.isprintable() else _escaped(c) for c in text)


def _escaped(char: str) -> str:
    code = ord(char)
    return f"\\x{code - 0xDC00:02x}" if 0xDC80 <= code <= 0xDCFF else repr(char)[1:-1]


def link_kind(path: str, real_root: Path) -> tuple[Path, int] | str:
    """A link in an output whose real folder is ``real_root``: the file it names and its size when that
    is a regular file inside ``real_root``, else why it is left out. Resolved by name (``readlink``) and
    nothing opened: what a link out of the output names is not even looked at."""
    points = os.readlink(path)
    target = Path(os.path.realpath(path))
    if not target.is_relative_to(real_root):
        return f"a link to {points}, out of the output"
    try:
        info = target.stat()
    except OSError:  # dangling, or a loop
        return f"a link to {points}, which names nothing"
    if stat.S_ISREG(info.st_mode):
        return target, info.st_size
    if stat.S_ISDIR(info.st_mode):
        return f"a link to the folder {points}"
    return f"a link to {special_kind(info.st_mode)} ({points})"


def _copy_level(src: str, dst: str, ignore: Ignore | None, dirs_exist_ok: bool
                ) -> tuple[str, str, list[os.DirEntry[str]]]:
    """``src`` listed, its ignored names dropped and ``dst`` made (as ``shutil.copytree`` does, in that
    order): the level's entries to copy, last first."""
    with os.scandir(src) as listing:
        entries = list(listing)
    ignored = set(ignore(src, [entry.name for entry in entries])) if ignore is not None else set()
    os.makedirs(dst, exist_ok=dirs_exist_ok)
    return src, dst, [entry for entry in reversed(entries) if entry.name not in ignored]


def holds_files(root: Path | str) -> bool:
    """True when anything but a folder (a file, a link, a FIFO) is below ``root``."""
    return any(not entry.is_dir(follow_symlinks=False) for _rel, entry in iter_entries(root))


def remove_tree(path: Path | str) -> bool:
    """Remove ``path`` and everything below it (a link is removed as a name, never followed); True when
    nothing is left. Never raises: what could not be removed is named in one warning."""
    parent, name = os.path.split(os.path.abspath(path))
    left: list[str] = []
    try:
        top = os.open(parent, os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC)
    except FileNotFoundError:
        return True
    except OSError as exc:
        log.warning("%s could not be removed: %s", path, exc)
        return False
    try:
        _remove_in(top, name, os.fspath(path), left)
    except OSError as exc:  # a folder moved while it was removed: stop there, say what is left
        left.append(f"{os.fspath(path)} ({exc.strerror or exc})")
    finally:
        os.close(top)
    if left:
        log.warning("%s was not removed entirely: %d thing(s) left (%s%s)", path, len(left),
                    "; ".join(item[:300] for item in left[:3]), " ..." if len(left) > 3 else "")
    return not left


def _remove_in(top: int, name: str, shown: str, left: list[str]) -> None:
    """Remove ``name`` in the open folder ``top``: depth first, one folder open (and its child while it
    is opened), the subfolders still to do of each level on a stack."""
    here = _open_or_unlink(top, name, shown, left)
    if here is None:
        return
    # per level: the identity of the folder above it, its name there, its path, its subfolders left
    levels = [(_identity(top), name, shown, _clear_files(here, shown, left))]
    try:
        while levels:
            _above, _name, path, todo = levels[-1]
            if todo:
                child_name = todo.pop()
                child = _open_or_unlink(here, child_name, f"{path}/{child_name}", left)
                if child is not None:
                    levels.append((_identity(here), child_name, f"{path}/{child_name}",
                                   _clear_files(child, f"{path}/{child_name}", left)))
                    os.close(here)
                    here = child
                continue
            above, done, path, _ = levels.pop()
            parent = os.open("..", _FOLDER, dir_fd=here)
            if _identity(parent) != above:
                os.close(parent)
                raise OSError(errno.ESTALE, "it was moved while it was removed", path)
            os.close(here)
            here = parent
            try:
                os.rmdir(done, dir_fd=here)
            except OSError as exc:
                left.append(f"{path} ({exc.strerror})")
    finally:
        os.close(here)


def _open_or_unlink(parent: int, name: str, shown: str, left: list[str]) -> int | None:
    """``name`` opened as a folder (no link followed); anything else is unlinked: None."""
    try:
        return os.open(name, _FOLDER, dir_fd=parent)
    except FileNotFoundError:
        return None
    except OSError as exc:
        if exc.errno not in (errno.ELOOP, errno.ENOTDIR):
            left.append(f"{shown} ({exc.strerror})")
            return None
    _unlink(parent, name, shown, left)
    return None


def _clear_files(folder: int, shown: str, left: list[str]) -> list[str]:
    """Unlink everything in ``folder`` but its subfolders; return those (not links)."""
    folders = []
    try:
        with os.scandir(folder) as listing:
            entries = [(entry.name, entry.is_dir(follow_symlinks=False)) for entry in listing]
    except OSError as exc:
        left.append(f"{shown} ({exc.strerror})")
        return []
    for name, is_dir in entries:
        if is_dir:
            folders.append(name)
            continue
        _unlink(folder, name, f"{shown}/{name}", left)
    return folders


def _unlink(parent: int, name: str, shown: str, left: list[str]) -> None:
    """Unlink ``name`` in ``parent``; one already gone is fine, any other failure is noted in ``left``."""
    try:
        os.unlink(name, dir_fd=parent)
    except FileNotFoundError:
        pass
    except OSError as exc:
        left.append(f"{shown} ({exc.strerror})")


def _identity(fd: int) -> tuple[int, int]:
    info = os.fstat(fd)
    return info.st_dev, info.st_ino

