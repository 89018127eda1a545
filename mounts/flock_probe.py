"""Whether another process holds a ``flock`` on a file, asked without waiting and without keeping it: the
one probe of a job's log, which its watchdog holds for as long as it follows the job's container.

    held(path)  # True while another open file of it holds an exclusive lock

Used on both sides of the layers (``mounts`` imports no ``runner`` module): a pin sweep keeps a dead
runner's pins while their job's log is held (``mounts.pin_record``), and recovery leaves a job to the
watchdog holding its log (``runner.jobs.log_lock``). A link is not followed (not held: nobody keeps a
log through a link); no file, or one that cannot be read, is not held either.
"""

from __future__ import annotations

import fcntl
import os


def held(path: str | os.PathLike[str]) -> bool:
    """Whether another process holds an exclusive ``flock`` on the file at ``path``. The probe takes a
    shared lock and lets it go at once: two probes never hold each other up."""
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_CLOEXEC)
    except OSError:
        return False
    try:
        fcntl.flock(fd, fcntl.LOCK_SH | fcntl.LOCK_NB)
    except BlockingIOError:
        return True
    finally:
        os.close(fd)
    return False
