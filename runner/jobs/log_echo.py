"""A job's log shown as it grows: ``stdout_echo``, the default ``echo`` of ``ml_client.jobs.stream`` (and
of a pipeline's), and ``follow_log``, what ``stream`` shows on each poll: the bytes appended since the
last one.

    position = follow_log(job_dir.std_log, position, stdout_echo)
"""

from __future__ import annotations

import sys
from pathlib import Path

from runner.jobs.supervise import Echo


def stdout_echo(chunk: bytes) -> None:
    """A log chunk to this process's stdout (the default ``echo`` of ``stream``)."""
    sys.stdout.write(chunk.decode("utf-8", errors="replace"))
    sys.stdout.flush()


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
