"""Owner-only files in the workspace's secrets folder, written and read without following a link, and the
workspace's own key for digests of secrets (``fingerprint_key``, ``keyed``).

    with secrets_folder(ws.secrets_dir) as folder:        # the folder itself: never through a link
        write_owner_only(folder, "job-j1.json", b"{...}")  # a new 0600 file renamed over the name
    keep_file(ws.secrets_dir, "job-j1.json", b"{...}")     # the same, a link at either place refused
    read_kept(ws.secrets_dir, "job-j1.json", again="...")  # its bytes (None: none), a link refused
    key = fingerprint_key(ws.secrets_dir)                  # made on first use (32 random bytes, 0600)
    keyed(key, "hunter2")                                   # 'hmac-sha256:<hex>'

The key lets a digest that must stay comparable (a pipeline step's reuse fingerprint, which is stored in
``runner.db``) cover a secret without giving a way to check a guess of it: a plain SHA-256 of a short
token is found by trying a dictionary, an HMAC with a key the database does not hold is not. It is
``secrets/fingerprint.key`` (64 hex digits, 0600), made once: two processes making it at once agree on
the first one written (a new file linked to its name, never renamed over one). A link at its place is
never read through: it is replaced by a new key (the one link a planter could use to choose the key).
"""

from __future__ import annotations

import contextlib
import errno
import hashlib
import hmac
import logging
import os
import secrets
import stat
import uuid
from collections.abc import Iterator
from pathlib import Path

from runner.errors import StorageError

log = logging.getLogger(__name__)

KEY_FILE = "fingerprint.key"
KEY_BYTES = 32
_DIR = os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW | os.O_CLOEXEC
_READ = os.O_RDONLY | os.O_NOFOLLOW | os.O_CLOEXEC | os.O_NONBLOCK  # a link, a FIFO: never opened as a file
_NEW = os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | os.O_CLOEXEC


@contextlib.contextmanager
def secrets_folder(path: Path) -> Iterator[int]:
    """The secrets folder open (its descriptor), the folder itself and not a link to another (its parent,
    the workspace, is the runner's own). One ``StorageError`` when it is a link or no folder."""
    try:
        fd = os.open(path, _DIR)
    except OSError as exc:
        if exc.errno in (errno.ELOOP, errno.ENOTDIR):
            what = "a symbolic link" if path.is_symlink() else "not a folder"
            raise StorageError(f"the workspace's secrets folder {path} is {what}: runner keeps secrets only "
                               "in a folder of the workspace's own, never through a link",
                               hint=f"move what it points to back to {path} as a folder (owner-only, "
                                    "chmod 700), or remove it to start with no secret kept") from exc
        raise StorageError(f"cannot open the workspace's secrets folder {path}: {exc.strerror or exc}",
                           hint="check that the workspace folder is yours and readable") from exc
    try:
        yield fd
    finally:
        os.close(fd)


def write_owner_only(folder: int, name: str, data: bytes, *, over: bool = True) -> bool:
    """Write ``data`` as a new owner-only (0600) file in ``folder`` (a descriptor), then give it ``name``:
    renamed over whatever is there, a link too, never written through (``over``), or linked to the name
    only when nothing is there (not ``over``: False when something was, and nothing is changed)."""
    temporary = f".{name}.{uuid.uuid4().hex}.tmp"
    fd = os.open(temporary, _NEW, 0o600, dir_fd=folder)
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
        if over:
            os.replace(temporary, name, src_dir_fd=folder, dst_dir_fd=folder)
            return True
        try:
            os.link(temporary, name, src_dir_fd=folder, dst_dir_fd=folder, follow_symlinks=False)
        except FileExistsError:
            return False
        return True
    finally:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(temporary, dir_fd=folder)


def keep_file(secrets_dir: Path, name: str, data: bytes, *, over: bool = True) -> None:
    """Write ``data`` as the owner-only file ``name`` of the secrets folder (``write_owner_only``: a new
    file renamed over the name, or with ``over`` False given the name only when nothing is there). A
    folder, or a file at ``name``, that is a link is refused, nothing written: one ``StorageError`` (so is
    any failure to write)."""
    shown = secrets_dir / name
    try:
        with secrets_folder(secrets_dir) as folder:
            try:
                planted = stat.S_ISLNK(os.stat(name, dir_fd=folder, follow_symlinks=False).st_mode)
            except FileNotFoundError:
                planted = False
            if planted:
                raise StorageError(f"{shown} is a symbolic link: runner writes a secret only to a file of "
                                   "the workspace's own, never through a link",
                                   hint=f"remove {shown} (runner writes it itself), and check who made it")
            write_owner_only(folder, name, data, over=over)
    except OSError as exc:
        raise StorageError(f"cannot write {shown}: {exc.strerror or exc}",
                           hint="check that the workspace's secrets folder is yours and writable") from exc


def open_kept(secrets_dir: Path, name: str) -> int | None:
    """The file ``name`` of the secrets folder open for reading (None: not there), never through a link:
    the folder's (one ``StorageError``) or the file's (``OSError``, ``ELOOP``), nor a FIFO waited on."""
    with secrets_folder(secrets_dir) as folder:
        try:
            return os.open(name, _READ, dir_fd=folder)
        except FileNotFoundError:
            return None


def read_kept(secrets_dir: Path, name: str, *, again: str) -> bytes | None:
    """The bytes of the file ``name`` of the secrets folder (None: not there), never read through a link:
    a link at the folder's or the file's place, or anything but a file there, is one ``StorageError``
    (``again``: how its owner writes the file again once the link is removed)."""
    shown = secrets_dir / name
    try:
        fd = open_kept(secrets_dir, name)
    except OSError as exc:
        if exc.errno == errno.ELOOP:
            raise StorageError(f"{shown} is a symbolic link: runner reads a secret only from a file of the "
                               "workspace's own, never through a link",
                               hint=f"remove {shown} and check who made it; then {again}") from exc
        raise StorageError(f"cannot read {shown}: {exc.strerror or exc}", hint="check that the "
                           "workspace's secrets folder is yours and readable") from exc
    if fd is None:
        return None
    with os.fdopen(fd, "rb") as handle:
        if not stat.S_ISREG(os.fstat(handle.fileno()).st_mode):
            raise StorageError(f"{shown} is not a file: runner keeps a secret only in a file of the "
                               "workspace's own", hint=f"remove {shown}; then {again}")
        try:
            return handle.read()
        except OSError as exc:
            raise StorageError(f"cannot read {shown}: {exc.strerror or exc}", hint="check that the "
                               "workspace's secrets folder is yours and readable") from exc


def remove_kept(secrets_dir: Path, name: str) -> None:
    """Remove the file ``name`` of the secrets folder (the name itself: a link is removed, not what it
    names); nothing when it is not there, or the folder is a link (nothing of runner's is behind it)."""
    with contextlib.suppress(StorageError, FileNotFoundError, IsADirectoryError), \
            secrets_folder(secrets_dir) as folder:
        os.unlink(name, dir_fd=folder)


def _read_key(folder: int, shown: Path) -> bytes | None:
    """The key kept in ``folder`` (None: none, or not a key: a link, which is removed), owner-only again
    when its mode was loosened. A folder or a special file at its place is one ``StorageError``."""
    try:
        fd = os.open(KEY_FILE, _READ, dir_fd=folder)
    except FileNotFoundError:
        return None
    except OSError as exc:
        if not stat.S_ISLNK(os.stat(KEY_FILE, dir_fd=folder, follow_symlinks=False).st_mode):
            raise StorageError(f"cannot read the workspace's key {shown}: {exc.strerror or exc}",
                               hint=f"remove {shown}: runner makes a new key there (a step with secret "
                                    "environment_variables then runs once more, not reused)") from exc
        log.warning("%s is a symbolic link (to %s): removed, not followed; a new key is made", shown,
                    os.readlink(KEY_FILE, dir_fd=folder))
        with contextlib.suppress(FileNotFoundError):
            os.unlink(KEY_FILE, dir_fd=folder)
        return None
    try:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode):
            raise StorageError(f"the workspace's key {shown} is not a file",
                               hint=f"remove {shown}: runner makes a new key there (a step with secret "
                                    "environment_variables then runs once more, not reused)")
        if stat.S_IMODE(info.st_mode) & 0o077:
            os.fchmod(fd, 0o600)
        text = os.read(fd, 4 * KEY_BYTES)
    finally:
        os.close(fd)
    try:
        key = bytes.fromhex(text.decode("ascii").strip())
    except ValueError:
        key = b""
    if len(key) != KEY_BYTES:
        log.warning("%s does not hold a key runner made: a new key replaces it", shown)
        return None
    return key


def _exists(folder: int) -> bool:
    try:
        os.stat(KEY_FILE, dir_fd=folder, follow_symlinks=False)
    except FileNotFoundError:
        return False
    return True


def fingerprint_key(secrets_dir: Path) -> bytes:
    """The workspace's key for digests of secrets, made on first use (see the module docstring). One
    ``StorageError`` when it cannot be read or made."""
    shown = secrets_dir / KEY_FILE
    try:
        with secrets_folder(secrets_dir) as folder:
            for _ in range(3):  # made meanwhile by another process, or replaced: read again
                key = _read_key(folder, shown)
                if key is not None:
                    return key
                made = secrets.token_bytes(KEY_BYTES)
                present = _exists(folder)  # a file that holds no key is replaced; none, made once
                if write_owner_only(folder, KEY_FILE, made.hex().encode(), over=present):
                    return made
    except OSError as exc:
        raise StorageError(f"cannot keep the workspace's key {shown}: {exc.strerror or exc}",
                           hint="check that the workspace's secrets folder is yours and writable") from exc
    raise StorageError(f"the workspace's key {shown} keeps changing while it is read",
                       hint=f"make sure no other program writes {shown}")


def keyed(key: bytes, value: str) -> str:
    """``value``'s digest with ``key`` (HMAC-SHA256): comparable within the workspace, no check of a guess
    of ``value`` without the key."""
    return "hmac-sha256:" + hmac.new(key, value.encode("utf-8", "surrogatepass"), hashlib.sha256).hexdigest()
