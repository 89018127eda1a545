"""A job's log shown as it grows: ``TerminalEcho``, the ``echo`` that prints it terminal-safe (the CLI's,
and by default ``ml_client.jobs.stream``'s and a pipeline's: ``terminal_echo``), and ``follow_log``, what
``stream`` shows on each poll: the bytes appended since the last one.

    with TerminalEcho(sys.stdout) as echo:
        position = follow_log(job_dir.std_log, position, echo)
"""

from __future__ import annotations

import contextlib
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TextIO

from runner.jobs.supervise import Echo
from runner.terminal_text import LogFilter


class TerminalEcho:
    """An ``Echo`` printing a job's log on ``stream`` (stdout, stderr) with no escape sequence but SGR
    colours (``runner.terminal_text``), on a terminal or not alike; ``close`` (or the end of a ``with``)
    prints what it held back: the log's last bytes, when they ended inside a sequence or a character."""

    def __init__(self, stream: TextIO) -> None:
        self.stream = stream
        self._filter = LogFilter()
        self._lock = threading.Lock()  # the log pump's thread and the caller's close

    def __call__(self, chunk: bytes) -> None:
        with self._lock:
            self._write(self._filter.feed(chunk))

    def close(self) -> None:
        with self._lock, contextlib.suppress(OSError):  # a reader gone (a broken pipe): the held bytes too
            self._write(self._filter.finish())

    def __enter__(self) -> TerminalEcho:
        return self

    def __exit__(self, *_: object) -> None:
        self.close()

    def _write(self, text: str) -> None:
        if not text:
            return
        raw = getattr(self.stream, "buffer", None)
        if raw is None:  # a text-only stream (a notebook's, a StringIO)
            self.stream.write(text)
            self.stream.flush()
            return
        self.stream.flush()  # after what was printed as text before (`RunId: ...`)
        raw.write(text.encode("utf-8"))  # the job's text as UTF-8 whatever the locale says, as it was
        raw.flush()


@contextmanager
def terminal_echo(echo: Echo | None) -> Iterator[Echo]:
    """``echo`` as given (the caller's own gets the log's bytes as they are), else this process's stdout
    through a ``TerminalEcho``, closed at the end."""
    if echo is not None:
        yield echo
        return
    with TerminalEcho(sys.stdout) as shown:
        yield shown


def follow_log(path: Path, position: int, echo: Echo | None) -> int:
    """Echo what was appended to ``path`` since ``position``; return the new position."""
    if not path.exists():
        return position
    with path.open("rb") as handle:
        handle.seek(position)
        while chunk := handle.read(1 << 16):
            if echo is not None:
                echo(chunk)
            position += len(chunk)
    return position
