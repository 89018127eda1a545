"""Pins: a checked host folder handed to Docker as what it is, not as a path that could change.

Docker binds a host path by path, later than the runner checked it: in between, a job running at the
same moment (with a ``direct`` output above it on the same local datastore) could swap a folder on the
way for a link, and the container would get the folder the link points to. Binding ``/proc/<pid>/fd/N``
is refused by runc, so the runner *pins* the folder instead: it opens it (a ``direct`` output's folder
with no link followed below its anchor, ``mounts.transfer.nofollow``; an input's folder as it is, then
judged by the kernel's real path of the open descriptor, ``/proc/self/fd/N``), bind-mounts that
descriptor (``mount(2)``, ``MS_BIND`` from ``/proc/self/fd/N``; remounted read-only for an input) onto an
empty folder of its own, and hands Docker that folder. A link swapped in afterwards changes nothing.

Pins live in ``/run/runner/pins/<pid>-<start>-<label>/<n>`` (0700), outside every workspace, job folder
and temporary folder, and nothing ever deletes there recursively: a pin of an output is a read-write
view of the job's data, and a recursive delete through it would delete that data. A pin is unmounted
(``MNT_DETACH``) once the container is gone and its empty mountpoint removed with ``os.rmdir`` (a file's
with ``os.unlink``, which never recurses); the pins of a runner that died are swept the same way
(``sweep_stale_pins``) by a command of any workspace, but a job's whose watchdog still holds its log (a
set's record names it: ``mounts.pin_record``). Without ``CAP_SYS_ADMIN`` (not root) folders are bound by
path, as before.

Before a read-write pin is released (or swept) its files are cleared of set-user-ID and set-group-ID bits
(``drop_set_id_below``): the folder the job was given, wherever it is now. The bind itself is not
``nosuid`` (neither are Docker's binds): that would keep no bit off the disk, where the host runs it.

An input's pin is read-only all the way down: the bind is recursive (``MS_REC``: a mount nested in the
folder, an NFS share or a tmpfs, is part of what the job sees) and a read-only remount changes only the
top mount, so every mount of the pin's tree is made read-only (``mount_setattr(2)`` with ``AT_RECURSIVE``;
on a kernel without it, each mount below the pin point found in ``/proc/self/mountinfo`` is remounted
read-only, keeping its other per-mount flags). Only the pin's copies change: the user's own mounts stay as
they are. Bound by path (not root), a mount nested in an input stays writable in the container (Docker's
read-only bind is not recursive): a warning names it.

    with PinSet("job1") as pins:
        source = pins.pin_input(Path("/data/ds/shared/x"), within=Path("/data/ds"))
        source = pins.pin_input(Path("/home/me/data"), within=None)   # a local folder, a cache entry
        source = pins.pin_output(target)        # a direct output on a local datastore
"""

from __future__ import annotations

import contextlib
import ctypes
import errno
import logging
import os
import re
import stat
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType

from mounts import pin_record
from mounts.base import Target
from mounts.errors import LinkNotFollowed, MountFailed, MountsError
from mounts.transfer.nofollow import NEW_FILE, NoFollowFolders, anchor_of, drop_set_id_below, note_set_id

log = logging.getLogger(__name__)

PIN_ROOT = Path("/run/runner/pins")
MS_RDONLY, MS_REMOUNT, MS_BIND, MS_REC = 1, 32, 4096, 16384
MS_NOSUID, MS_NODEV, MS_NOEXEC, MS_NOSYMFOLLOW, MS_NOATIME, MS_NODIRATIME = 2, 4, 8, 256, 1024, 2048
MS_RELATIME, MS_STRICTATIME = 1 << 21, 1 << 24
MNT_DETACH = 2
_OPEN = os.O_PATH | os.O_CLOEXEC
# mount_setattr(2) (Linux 5.12): one number on every architecture (the unified syscall table)
SYS_MOUNT_SETATTR, AT_FDCWD, AT_SYMLINK_NOFOLLOW, AT_RECURSIVE = 442, -100, 0x100, 0x8000
MOUNT_ATTR_RDONLY = 1
# the per-mount options of /proc/self/mountinfo a bind remount would otherwise drop
_KEPT_OPTIONS = {"nosuid": MS_NOSUID, "nodev": MS_NODEV, "noexec": MS_NOEXEC,
                 "nosymfollow": MS_NOSYMFOLLOW, "noatime": MS_NOATIME, "nodiratime": MS_NODIRATIME,
                 "relatime": MS_RELATIME, "strictatime": MS_STRICTATIME}


def _libc() -> ctypes.CDLL:
    return ctypes.CDLL(None, use_errno=True)


def _mount(source: str | None, target: str, flags: int) -> None:
    if _libc().mount(source and source.encode(), target.encode(), None, flags, None) != 0:
        code = ctypes.get_errno()
        raise OSError(code, os.strerror(code), target)


def _unmount(target: str) -> None:
    if _libc().umount2(target.encode(), MNT_DETACH) != 0:
        code = ctypes.get_errno()
        raise OSError(code, os.strerror(code), target)


class _MountAttr(ctypes.Structure):
    _fields_ = [("attr_set", ctypes.c_uint64), ("attr_clr", ctypes.c_uint64),
                ("propagation", ctypes.c_uint64), ("userns_fd", ctypes.c_uint64)]


def _set_read_only_recursively(target: str) -> None:
    """``mount_setattr(2)`` with ``AT_RECURSIVE``: every mount of the tree at ``target`` read-only (all of
    them or, on an error, none)."""
    attr = _MountAttr(attr_set=MOUNT_ATTR_RDONLY)
    syscall = _libc().syscall
    syscall.restype = ctypes.c_long
    if syscall(ctypes.c_long(SYS_MOUNT_SETATTR), ctypes.c_int(AT_FDCWD), target.encode(),
               ctypes.c_uint(AT_RECURSIVE | AT_SYMLINK_NOFOLLOW), ctypes.byref(attr),
               ctypes.c_size_t(ctypes.sizeof(attr))) != 0:
        code = ctypes.get_errno()
        raise OSError(code, os.strerror(code), target)


@dataclass(frozen=True)
class MountEntry:
    """One line of ``/proc/self/mountinfo``: where the mount is and its per-mount options."""

    point: str
    options: tuple[str, ...]


def _unescape(field: str) -> str:
    """The kernel writes a space, tab, newline and backslash in a path as an octal escape (``\\040``)."""
    return re.sub(r"\\([0-7]{3})", lambda m: chr(int(m.group(1), 8)), field)


def parse_mountinfo(text: str) -> list[MountEntry]:
    """The mounts of a ``/proc/<pid>/mountinfo`` text, in its order (a mount after the one it is on)."""
    entries = []
    for line in text.splitlines():
        fields = line.split(" ")
        if len(fields) >= 6:
            entries.append(MountEntry(_unescape(fields[4]), tuple(fields[5].split(","))))
    return entries


def mounts_below(entries: list[MountEntry], point: str) -> list[MountEntry]:
    """The mounts at ``point`` or anywhere below it."""
    return [entry for entry in entries if _inside(entry.point, point)]


def read_only_remount_flags(options: tuple[str, ...]) -> int:
    """The flags that remount a bind read-only keeping its other per-mount options (a bind remount sets
    them all: one left out is cleared)."""
    flags = MS_REMOUNT | MS_BIND | MS_RDONLY
    for option in options:
        flags |= _KEPT_OPTIONS.get(option, 0)
    return flags


def _mountinfo() -> list[MountEntry]:
    return parse_mountinfo(os.fsdecode(Path("/proc/self/mountinfo").read_bytes()))


def read_only_below(point: str, mount: Callable[[str | None, str, int], None]) -> None:
    """Every mount of a pin's tree read-only, the pin's own and each one nested below it (their copies,
    made by the recursive bind: the originals are left as they are)."""
    try:
        _set_read_only_recursively(point)
        return
    except OSError as exc:  # no mount_setattr (before Linux 5.12, or refused by a seccomp filter)
        if exc.errno not in (errno.ENOSYS, errno.EINVAL, errno.EPERM, errno.EOPNOTSUPP):
            raise
        log.debug("mount_setattr unavailable (%s): each mount below %s is remounted read-only", exc, point)
    for entry in mounts_below(_mountinfo(), os.path.realpath(point)):  # the pin's first
        mount(None, entry.point, read_only_remount_flags(entry.options))


def writable_below(path: Path) -> list[str]:
    """The mounts nested below ``path`` (not at it): bound by path, they stay writable in a container."""
    try:
        real, entries = os.path.realpath(path), _mountinfo()
    except OSError:
        return []
    return sorted({entry.point for entry in mounts_below(entries, real) if entry.point != real})


def real_path(fd: int) -> str:
    """What the kernel says an open descriptor is (``/proc/self/fd/N``): no link on its way."""
    return os.readlink(f"/proc/self/fd/{fd}")


def before_mount(where: str) -> None:
    """Called between a pin's check and its mount with the checked real path (a seam for tests: a link
    swapped in here must change nothing)."""


def _inside(path: str, folder: str) -> bool:
    return path == folder or path.startswith(folder.rstrip("/") + "/")


def _start_time(pid: int) -> str | None:
    """The kernel's start time of ``pid`` (a pid reused by another process has another one)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except (OSError, IndexError):
        return None
    return None if fields[0] in ("Z", "X") else fields[19]


def check_pin_root(root: Path) -> None:
    """A pin root is never inside a temporary folder (where throwaway workspaces and tests' folders are
    deleted recursively): refused, so no pin can be under a folder that is removed that way."""
    real = os.path.realpath(root)
    for temporary in {tempfile.gettempdir(), "/tmp", "/var/tmp"}:
        if _inside(real, os.path.realpath(temporary)):
            raise ValueError(f"pins may not live in a temporary folder ({root})")


class PinSet:
    """The pins of one job run; ``close`` (or leaving the ``with`` block) releases every one."""

    def __init__(self, label: str, root: Path = PIN_ROOT, *, holder: Path | None = None) -> None:
        """``holder``: the job's log; while a process holds a ``flock`` on it (the job's watchdog), a sweep
        keeps the set even once this runner died (``sweep_stale_pins``)."""
        check_pin_root(root)
        self.root = root
        safe = re.sub(r"[^A-Za-z0-9_.-]", "_", label)[:64]
        self.folder = root / f"{os.getpid()}-{_start_time(os.getpid())}-{safe}"
        self.holder = os.path.abspath(holder) if holder is not None else None
        self.pins: list[Path] = []
        self.writable: dict[Path, str] = {}  # an output's pin -> its folder: cleared of set-ID bits
        self.enabled = os.geteuid() == 0

    def pin_input(self, path: Path, *, within: Path | None) -> Path:
        """``path`` pinned read-only (every mount nested in it too), once its real path is seen to be
        inside ``within``'s (a link that leads out of it, swapped in since it was checked, is refused:
        ``LinkNotFollowed``); ``within`` None: a folder on no datastore (a local folder, a cache entry),
        pinned as it is."""
        if not self.enabled:
            return self._by_path(path, read_only=True)
        fd = os.open(path, _OPEN)
        try:
            where = real_path(fd)
            root = os.path.realpath(within) if within is not None else where
            if not _inside(where, root):
                raise LinkNotFollowed(f"{path} now leads to {where}, out of its datastore's folder {root} "
                                      "(a link was put on its way since it was checked): not followed")
            return self._pin(fd, where, read_only=True) or self._by_path(path, read_only=True)
        finally:
            os.close(fd)

    def pin_output(self, target: Target) -> Path:
        """The folder a ``direct`` output on this machine is bound as (the target, or a file's folder),
        opened with no link followed below its anchor, pinned read-write."""
        anchor, rel = anchor_of(target)
        folder = rel.rpartition("/")[0] if target.is_file else rel
        path = anchor / folder if folder else anchor
        if not self.enabled:
            return self._by_path(path)
        with NoFollowFolders(anchor) as tree:
            fd = os.dup(tree.folder(folder, create=False))
        try:
            return self._pin(fd, real_path(fd), read_only=False) or self._by_path(path)
        finally:
            os.close(fd)

    def _by_path(self, path: Path, *, read_only: bool = False) -> Path:
        log.debug("not root (no CAP_SYS_ADMIN): %s is bound by path, not pinned", path)
        nested = writable_below(path) if read_only else []
        if nested:
            log.warning("input %s: the mounts nested in it (%s) stay writable in the container: runner is "
                        "not root, so the folder is bound by path and Docker's read-only bind is not "
                        "recursive; run runner as root, or unmount them", path, ", ".join(nested))
        return path

    def _pin(self, fd: int, where: str, *, read_only: bool) -> Path | None:
        before_mount(where)
        point = self._mountpoint(is_dir=stat.S_ISDIR(os.fstat(fd).st_mode))
        if not read_only:  # recorded before it is mounted: a sweep after this runner died clears it too
            self.writable[point] = where
            self._record()
        try:
            _mount(f"/proc/self/fd/{fd}", str(point), MS_BIND | MS_REC)
        except OSError as exc:
            if self.writable.pop(point, None) is not None:
                self._record()  # its name may be taken by the next pin, an input's
            _remove_point(point)
            if exc.errno in (errno.EPERM, errno.EACCES):
                log.debug("cannot mount (%s): bound by path", exc)
                self.enabled = False
                return None
            raise MountFailed(f"cannot pin {where} at {point}: {exc}") from exc
        self.pins.append(point)
        if read_only:
            try:
                read_only_below(str(point), _mount)
            except OSError as exc:  # released with the others
                raise MountFailed(f"cannot make the pin of {where} read-only: {exc}") from exc
        log.debug("pinned %s at %s (%s)", where, point, "read-only" if read_only else "read-write")
        return point

    def _mountpoint(self, *, is_dir: bool) -> Path:
        if not self.pins and not self.folder.is_dir():
            self.root.mkdir(mode=0o700, parents=True, exist_ok=True)
            os.chmod(self.root, 0o700)
            self.folder.mkdir(mode=0o700, exist_ok=True)
            self._record()
        point = self.folder / str(len(self.pins))
        while point.exists() or point.is_symlink():
            point = self.folder / f"{point.name}+"
        if is_dir:
            point.mkdir(mode=0o700)
        else:
            os.close(os.open(point, NEW_FILE, 0o600))
        return point

    def _record(self) -> None:
        """The set's record (``mounts.pin_record``): the job's log and the read-write pins."""
        try:
            pin_record.write_record(self.folder, self.holder, {p.name: w for p, w in self.writable.items()})
        except OSError as exc:
            raise MountFailed(f"cannot record the pins in {self.folder}: {exc}") from exc

    def close(self) -> None:
        """Unmount every pin (lazily: a container still holding it keeps its own view) and remove its
        empty mountpoint; never recursive."""
        while self.pins:
            point = self.pins.pop()
            if point in self.writable:
                _clear_set_id(point, self.writable[point])
            release(point)
        self.writable.clear()
        pin_record.let_go_of(self.folder)

    def __enter__(self) -> PinSet:
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.close()


def _clear_set_id(point: Path, where: str) -> None:
    """Clear the set-ID bits of the files under an output's pin (its container is gone; ``where``: the
    folder it pins, as it was pinned); a failure is a warning: every pin is still released."""
    try:
        fd = os.open(point, os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW | os.O_CLOEXEC)
    except OSError as exc:  # a file's pin: direct outputs pin folders
        log.warning("pin %s: its files were not checked for set-user-ID bits (%s)", point, exc)
        return
    try:
        note_set_id(where, drop_set_id_below(fd, where))
    except (OSError, MountsError) as exc:
        log.warning("pin %s: its files could not all be checked for set-user-ID bits (%s)", point, exc)
    finally:
        os.close(fd)


def _remove_point(point: Path) -> None:
    """An (unmounted) mountpoint: an empty folder (``rmdir``) or an empty file (``unlink``). Never
    recursive: a mountpoint still mounted stays, with a warning."""
    try:
        if point.is_dir() and not point.is_symlink():
            os.rmdir(point)
        else:
            os.unlink(point)
    except FileNotFoundError:
        pass
    except OSError as exc:
        log.warning("pin %s not removed (%s): still mounted?", point, exc)


def release(point: Path) -> None:
    with contextlib.suppress(OSError):  # EINVAL: not mounted (any more)
        _unmount(str(point))
    _remove_point(point)


def sweep_stale_pins(root: Path = PIN_ROOT, *, keep: Callable[[str], bool] | None = None) -> list[str]:
    """Release the pins of runners that are gone (their pid ended, or is another process now), but the
    sets whose job's log is held (its watchdog follows it: ``mounts.pin_record``) and those ``keep(name)``
    says to keep; a read-write pin's files are cleared of set-ID bits first, as ``PinSet.close`` does.
    Returns the folders released. Only root can (and does) pin: another user leaves them alone."""
    if os.geteuid() != 0:
        return []
    try:
        sets = sorted(os.listdir(root))
    except OSError:
        return []
    swept = []
    for name in sets:
        pid, _, rest = name.partition("-")
        started = rest.partition("-")[0]
        if pid.isdigit() and _start_time(int(pid)) == started:
            continue  # its runner still runs
        folder = root / name
        if folder.is_symlink() or not folder.is_dir():
            continue
        record = pin_record.read_record(folder)
        if pin_record.followed(record) or (keep is not None and keep(name)):
            log.debug("pins %s: kept, their job is still followed (its watchdog holds its log)", folder)
            continue
        writable = pin_record.writable_pins(folder, record)
        for point in sorted(set(os.listdir(folder)) - {pin_record.RECORD, pin_record.RECORD_NEW}):
            if point in writable:
                _clear_set_id(folder / point, writable[point])
            release(folder / point)
        pin_record.let_go_of(folder)
        log.info("released the pins of a runner that is gone: %s", folder)
        swept.append(str(folder))
    return swept
