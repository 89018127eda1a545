"""``mounts.flock_probe.held``: the one probe of whether another process holds a file's ``flock``, used by
a pin sweep (``mounts.pin_record``: the job's watchdog holds its log) and by recovery
(``runner.jobs.log_lock``). A link is never followed, and probing takes nothing a holder would wait for."""

from __future__ import annotations

import fcntl
import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from mounts import flock_probe, pin_record
from runner.jobs import log_lock


@pytest.fixture
def log(tmp_path: Path) -> Path:
    path = tmp_path / "std_log.txt"
    path.write_text("tick\n")
    return path


@pytest.fixture
def holder(log: Path) -> Iterator[int]:
    """Another open file of the log holding an exclusive ``flock``, as the job's watchdog does (``flock``
    locks belong to an open file: one of this process conflicts as another process's would)."""
    fd = os.open(log, os.O_RDONLY | os.O_CLOEXEC)
    fcntl.flock(fd, fcntl.LOCK_EX)
    try:
        yield fd
    finally:
        os.close(fd)


def test_a_log_nobody_holds_is_not_held(log: Path) -> None:
    assert not flock_probe.held(log)
    assert not flock_probe.held(str(log))


def test_a_held_log_is_held_until_let_go(log: Path, holder: int) -> None:
    assert flock_probe.held(log) and flock_probe.held(str(log))
    fcntl.flock(holder, fcntl.LOCK_UN)
    assert not flock_probe.held(log)


def test_probing_takes_nothing_a_holder_waits_for(log: Path) -> None:
    """Two probes never hold each other up, and a probe leaves no lock behind."""
    other = os.open(log, os.O_RDONLY | os.O_CLOEXEC)
    try:
        fcntl.flock(other, fcntl.LOCK_SH)  # a probe of another process, caught in the middle
        assert not flock_probe.held(log)
        fcntl.flock(other, fcntl.LOCK_UN)
        assert not flock_probe.held(log)
        fcntl.flock(other, fcntl.LOCK_EX | fcntl.LOCK_NB)  # nothing left locked by the probes
    finally:
        os.close(other)


def test_no_file_is_not_held(tmp_path: Path) -> None:
    assert not flock_probe.held(tmp_path / "never-ran.txt")
    assert not flock_probe.held(tmp_path)  # a folder can be locked, but nobody holds this one


def test_a_link_to_a_held_log_is_not_followed(tmp_path: Path, log: Path, holder: int) -> None:
    link = tmp_path / "link.txt"
    link.symlink_to(log)
    assert flock_probe.held(log)
    assert not flock_probe.held(link)


def test_pins_and_recovery_share_the_one_probe() -> None:
    assert pin_record.held is flock_probe.held
    assert log_lock.held is flock_probe.held
