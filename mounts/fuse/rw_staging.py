"""The staging area behind ``mounts.fuse.rw``: local copies of files written through the mount.

A file written through the mount lives at ``<staging>/<relative path>`` until its upload succeeded;
only then is the local copy deleted. Uploads of one file never overlap (a second caller waits and
then finds nothing left to do); ``busy()`` tells the mount lifecycle an upload is still running.

A write that failed (the staging disk is full) marks the file ``broken``: its staged copy misses bytes
the job meant to write, so it is never uploaded (a truncated blob would look like a finished one);
``close`` fails, the end-of-job flush reports it, and ``drop_broken`` removes the incomplete copy.
A file the job never closed (the FUSE session ended under the job while it was open for writing) is
held (``hold``): its staged copy kept, never uploaded.
"""

from __future__ import annotations

import errno
import logging
import os
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from mounts.errors import is_no_space, no_space_message
from mounts.transfer.tree import printable

log = logging.getLogger(__name__)

UploadFile = Callable[[Path, str], None]  # (staged local file, remote path): make it durable or raise


@dataclass
class StagedFile:
    local: Path
    dirty: bool = True  # local content not yet uploaded
    opened: int = 0  # open handles
    uploading: threading.Lock = field(default_factory=threading.Lock, repr=False)
    # why a write into the staged copy failed (no space left...): its content is incomplete and is never
    # uploaded, until the file is rewritten from the start (opened with O_TRUNC, truncated to 0)
    broken: str | None = None


@dataclass
class UploadLog:
    """Outcome of uploads: what is durable and what failed (relative paths)."""

    uploaded: dict[str, int] = field(default_factory=dict)  # path -> bytes
    failed: dict[str, str] = field(default_factory=dict)  # path -> reason


class StagingArea:
    """Staged files keyed by mount path (``/a/b.txt``); ``on_durable(path, size)`` after an upload."""

    def __init__(self, directory: Path, upload_file: Callable[[Path, str], None],
                 on_durable: Callable[[str, int], None]) -> None:
        """``upload_file(local, mount path)`` makes one file durable or raises."""
        self.directory = directory
        self.upload_file = upload_file
        self.on_durable = on_durable
        self.log = UploadLog()
        self._files: dict[str, StagedFile] = {}
        self._lock = threading.RLock()
        self._uploads_in_progress = 0

    def busy(self) -> bool:
        """True while an upload runs (the mount must not be torn down under it)."""
        return self._uploads_in_progress > 0

    def local_path(self, path: str) -> Path:
        return self.directory / path.lstrip("/")

    def get(self, path: str) -> StagedFile | None:
        return self._files.get(path)

    def under(self, directory: str) -> list[str]:
        with self._lock:
            return [p for p in self._files if p.startswith(directory.rstrip("/") + "/")]

    def stage(self, path: str, copy_existing: Callable[[Path], None] | None) -> StagedFile:
        """The staged copy of ``path``: existing, or new (filled by ``copy_existing`` when given)."""
        with self._lock:
            staged = self._files.get(path)
        if staged is not None:
            return staged
        local = self.local_path(path)
        local.parent.mkdir(parents=True, exist_ok=True)
        try:
            if copy_existing is not None:
                copy_existing(local)
            else:
                local.touch()
        except BaseException:
            local.unlink(missing_ok=True)  # a half-made copy (no space left...) is not the file
            raise
        with self._lock:
            return self._files.setdefault(path, StagedFile(local, dirty=copy_existing is None))

    def open_new(self, path: str) -> tuple[StagedFile, int]:
        """Create (truncate) the staged copy of a new file; returns it and a read-write descriptor."""
        local = self.local_path(path)
        local.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(local, os.O_RDWR | os.O_CREAT | os.O_TRUNC, 0o644)
        with self._lock:
            staged = self._files.setdefault(path, StagedFile(local))
            staged.dirty, staged.opened, staged.broken = True, staged.opened + 1, None
        return staged, fd

    def opened(self, staged: StagedFile, delta: int) -> int:
        with self._lock:
            staged.opened += delta
            return staged.opened

    def discard(self, path: str) -> None:
        """Forget ``path`` (unlinked through the mount): its staged copy and upload record."""
        with self._lock:
            staged = self._files.pop(path, None)
            self.log.uploaded.pop(path.lstrip("/"), None)
            self.log.failed.pop(path.lstrip("/"), None)
        if staged is not None:
            staged.local.unlink(missing_ok=True)

    def move(self, old: str, new: str) -> StagedFile | None:
        """Rename the staged copy of ``old`` to ``new`` (marked dirty: it must be uploaded there)."""
        with self._lock:
            staged = self._files.pop(old, None)
            if staged is None:
                return None
            target = self.local_path(new)
            target.parent.mkdir(parents=True, exist_ok=True)
            os.replace(staged.local, target)
            staged.local, staged.dirty = target, True
            self._files[new] = staged
            self.log.uploaded.pop(old.lstrip("/"), None)
            self.log.failed.pop(old.lstrip("/"), None)
            return staged

    def upload(self, path: str) -> None:
        """Upload the staged copy of ``path`` if it changed; raise (and keep it) when that fails."""
        with self._lock:
            staged = self._files.get(path)
            if staged is None:
                return
            self._uploads_in_progress += 1
        try:
            with staged.uploading:  # one upload of a file at a time; a second caller waits for it
                self._upload_locked(path, staged)
        finally:
            with self._lock:
                self._uploads_in_progress -= 1

    def _upload_locked(self, path: str, staged: StagedFile) -> None:
        with self._lock:
            if not staged.dirty or self._files.get(path) is not staged:
                return
            staged.dirty = False  # writes racing with the upload set it again
        try:
            if staged.broken is not None:
                raise OSError(errno.EIO, f"not uploaded: a write to it failed ({staged.broken}), so its "
                                         "content is incomplete")
            self.upload_file(staged.local, path)
        except BaseException as exc:
            reason = f"{exc.__class__.__name__}: {exc}"
            with self._lock:
                staged.dirty = True
                again = self.log.failed.get(path.lstrip("/")) == reason  # e.g. a refused name, at each close
                self.log.failed[path.lstrip("/")] = reason
            if not again:  # names as the job record shows them (``printable``)
                log.warning("upload of %s failed: %s (staged copy kept at %s)", printable(path),
                            printable(reason), printable(str(staged.local)))
            raise
        size = staged.local.stat().st_size
        with self._lock:
            self.log.failed.pop(path.lstrip("/"), None)
            self.log.uploaded[path.lstrip("/")] = size
        self.on_durable(path, size)
        self.release_if_durable(path, staged)

    def release_if_durable(self, path: str, staged: StagedFile) -> None:
        """Delete the staged copy once it is uploaded and closed; later reads go to the store."""
        with self._lock:
            if staged.dirty or staged.opened or self._files.get(path) is not staged:
                return
            del self._files[path]
            size = staged.local.stat().st_size
        staged.local.unlink(missing_ok=True)
        self.on_durable(path, size)

    def write_failed(self, path: str, exc: OSError) -> None:
        """A write into ``path``'s staged copy failed: never upload what it holds (see the module)."""
        reason = no_space_message(self.directory) if is_no_space(exc) else (exc.strerror or str(exc))
        with self._lock:
            staged = self._files.get(path)
            if staged is not None:
                staged.broken = reason
        log.warning("write to %s failed (%s): it will not be uploaded", printable(path), reason)

    def rewritten(self, staged: StagedFile) -> None:
        """The file was emptied (O_TRUNC, truncated to 0): what failed before is gone."""
        with self._lock:
            staged.broken = None

    def hold(self, path: str, why: str) -> bool:
        """Keep ``path``'s staged copy but never upload it (``why``: the job never closed it, so it may
        miss bytes the job meant to write): it leaves this area, whose end-of-job flush passes it by, and
        is named in the upload log's failures. False when nothing of it is staged."""
        with self._lock:
            if self._files.pop(path, None) is None:
                return False
            self.log.failed[path.lstrip("/")] = why
        log.warning("%s was not closed by the job: it will not be uploaded (%s)", printable(path.lstrip("/")),
                    why)
        return True

    def drop_broken(self) -> dict[str, str]:
        """Remove the staged copies of files whose writes failed (incomplete, never to be uploaded;
        they would only hold space on a full disk); return their paths and why they broke."""
        with self._lock:
            broken = {p: s for p, s in self._files.items() if s.broken is not None and not s.opened}
            for path in broken:
                del self._files[path]
                self.log.failed.pop(path.lstrip("/"), None)
        for staged in broken.values():
            staged.local.unlink(missing_ok=True)
        return {p.lstrip("/"): s.broken or "" for p, s in sorted(broken.items())}

    def upload_all(self) -> UploadLog:
        """Upload every staged file that is not durable yet (the end-of-job flush)."""
        with self._lock:
            pending = [p for p, s in self._files.items() if s.dirty]
        for path in pending:
            try:
                self.upload(path)
            except Exception:  # noqa: BLE001 - recorded in self.log.failed
                continue
        return self.log
