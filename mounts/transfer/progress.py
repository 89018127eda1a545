"""Progress bars for transfers: shown only once a transfer has run for a second, never when quiet.

``TransferProgress`` is thread-safe: worker threads call ``advance``/``file_done``; the bar (rich) is
started lazily after ``delay`` seconds so short transfers print nothing, and it is off entirely when
``quiet`` or when stderr is not a terminal.
"""

from __future__ import annotations

import sys
import threading
import time
from types import TracebackType

from rich.console import Console
from rich.progress import (
    BarColumn,
    DownloadColumn,
    Progress,
    TaskID,
    TextColumn,
    TimeRemainingColumn,
    TransferSpeedColumn,
)


class TransferProgress:
    """Counts bytes and files; draws a bar for transfers longer than ``delay`` seconds."""

    def __init__(self, description: str, total_bytes: int, total_files: int, *, quiet: bool = False,
                 delay: float = 1.0) -> None:
        self.description = description
        self.total_bytes = total_bytes
        self.total_files = total_files
        self.bytes_done = 0
        self.files_done = 0
        self._enabled = not quiet and sys.stderr.isatty()
        self._delay = delay
        self._started_at = time.monotonic()
        self._lock = threading.Lock()
        self._bar: Progress | None = None
        self._task: TaskID | None = None
        self._closed = False

    def __enter__(self) -> TransferProgress:
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.close()

    def advance(self, nbytes: int) -> None:
        with self._lock:
            self.bytes_done += nbytes
            self._refresh()

    def file_done(self) -> None:
        with self._lock:
            self.files_done += 1
            self._refresh()

    def _label(self) -> str:
        return f"{self.description} [{self.files_done}/{self.total_files} files]"

    def _refresh(self) -> None:
        if not self._enabled or self._closed:
            return
        if self._bar is None:
            if time.monotonic() - self._started_at < self._delay:
                return
            self._bar = Progress(TextColumn("{task.description}"), BarColumn(), DownloadColumn(),
                                 TransferSpeedColumn(), TimeRemainingColumn(),
                                 console=Console(stderr=True), transient=True)
            self._task = self._bar.add_task(self._label(), total=self.total_bytes or None)
            self._bar.start()
        assert self._task is not None
        self._bar.update(self._task, completed=self.bytes_done, description=self._label())

    def close(self) -> None:
        with self._lock:
            self._closed = True
            if self._bar is not None:
                self._bar.stop()
                self._bar = None
