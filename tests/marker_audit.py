"""An audit of the ``fuse`` marker: does a test marked ``fuse`` (or gated on the ``fuse_available``
fixture) make a FUSE mount, and does a test that makes one carry the marker?
``RUNNER_AUDIT_MARKERS=1 python3 -m pytest ...`` turns a mismatch into a test failure; without it
nothing is watched.

The mount table (``/proc/self/mountinfo``) is watched from a thread woken by the kernel on every change
(``poll`` with ``POLLPRI``), so a mount made by any process of this mount namespace (the runner's fork
server, a worker, a mount holder) is seen if it lives longer than the thread takes to read the table
(a job's mount lives at least as long as its command). Only FUSE mounts under this session's pytest
base folder count: other sessions on the machine mount elsewhere.
"""

from __future__ import annotations

import os
import select
import threading
from collections.abc import Iterator

import pytest

ENABLED = os.environ.get("RUNNER_AUDIT_MARKERS", "") in ("1", "true", "yes")


def fuse_mounts(table: str, prefix: str) -> set[str]:
    """Mount points of FUSE filesystems under ``prefix`` in a mountinfo text."""
    found = set()
    for line in table.splitlines():
        fields, _, tail = line.partition(" - ")
        parts = fields.split()
        fstype = tail.split(" ", 1)[0]
        if len(parts) > 4 and fstype.startswith("fuse") and parts[4].startswith(prefix):
            found.add(parts[4].replace("\\040", " "))
    return found


class MountWatcher(threading.Thread):
    """Records every FUSE mount under ``prefix`` that appears while it runs."""

    def __init__(self, prefix: str) -> None:
        super().__init__(name="mount-watcher", daemon=True)
        self.prefix = prefix
        self.seen: set[str] = set()
        self._halt = threading.Event()
        self._lock = threading.Lock()
        self._table = open("/proc/self/mountinfo")  # noqa: SIM115 - held for the thread's life

    def run(self) -> None:
        poller = select.poll()
        poller.register(self._table.fileno(), select.POLLPRI | select.POLLERR)
        while not self._halt.is_set():
            self._table.seek(0)
            found = fuse_mounts(self._table.read(), self.prefix)
            with self._lock:
                self.seen |= found
            poller.poll(200)

    def take(self) -> set[str]:
        self._table.seek(0)  # what is mounted right now counts too
        with self._lock:
            seen, self.seen = self.seen, set()
        return seen

    def stop(self) -> None:
        self._halt.set()
        self.join(timeout=5)
        self._table.close()


@pytest.fixture(scope="session")
def _mount_watcher(tmp_path_factory: pytest.TempPathFactory) -> Iterator[MountWatcher | None]:
    if not ENABLED:
        yield None
        return
    watcher = MountWatcher(str(tmp_path_factory.getbasetemp()))
    watcher.start()
    yield watcher
    watcher.stop()


@pytest.fixture(autouse=True)
def _audit_fuse_marker(request: pytest.FixtureRequest, _mount_watcher: MountWatcher | None) -> Iterator[None]:
    if _mount_watcher is None:
        yield
        return
    _mount_watcher.take()  # forget what earlier tests mounted
    yield
    mounted = _mount_watcher.take()
    marked = request.node.get_closest_marker("fuse") is not None
    gated = "fuse_available" in request.fixturenames  # (skips or fails where FUSE is missing)
    if (marked or gated) and not mounted:
        pytest.fail(f"{'marked fuse' if marked else 'gated on fuse_available'} but made no FUSE mount",
                    pytrace=False)
    if (mounted or gated) and not marked:
        pytest.fail(f"made FUSE mounts ({sorted(mounted)[:2]}) but is not marked fuse" if mounted else
                    "asks for fuse_available but is not marked fuse", pytrace=False)
