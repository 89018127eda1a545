"""The sweep of a dead runner's pins (``mounts.pin.sweep_stale_pins``).

* No file a job leaves on the host keeps a set-user-ID or set-group-ID bit: the job's normal end clears
  them through the pin of its ``direct`` output (``PinSet.close``); the sweep that lets a dead runner's
  pins go clears them the same way first, never following a link.
* A pin set names its job's log (``holder``): while a process holds a ``flock`` on it (the job's watchdog
  follows the container) the set is kept, whichever workspace the sweeping command is in.

No mount is made here: ``_mount`` does nothing, so a pin's mountpoint stands in for the folder it would
show (what the job wrote through it is written into it). The pin root is a throwaway folder in this test's
``tmp_path``; the runner that made the pins is a process that ended."""

from __future__ import annotations

import fcntl
import os
import stat
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

import mounts.pin as pin
from mounts.base import Target
from mounts.pin import PinSet, sweep_stale_pins

SET_ID = stat.S_ISUID | stat.S_ISGID


def dead_pid() -> int:
    """The pid of a process that ended (and was reaped): a runner that died."""
    child = subprocess.Popen([sys.executable, "-c", "pass"])
    child.wait()
    return child.pid


@pytest.fixture()
def pin_root(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setattr(os, "geteuid", lambda: 0)  # only root pins and sweeps: as root here
    monkeypatch.setattr(pin, "check_pin_root", lambda root: None)  # a throwaway root in tmp_path
    monkeypatch.setattr(pin, "_mount", lambda source, target, flags: None)  # no mount (see above)
    return tmp_path / "pins"


def _target(folder: Path) -> Target:
    folder.mkdir(parents=True, exist_ok=True)
    return Target(fs=None, path=str(folder), url="", local_path=folder,  # type: ignore[arg-type]
                  local_root=folder.parent)


def dead_runners_pins(monkeypatch: pytest.MonkeyPatch, root: Path, label: str,
                      holder: Path | None = None) -> PinSet:
    """A pin set made by a runner that then died (its pid ended): never closed."""
    pid = dead_pid()
    with monkeypatch.context() as patch:
        patch.setattr(os, "getpid", lambda: pid)
        return PinSet(label, root=root) if holder is None else PinSet(label, root=root, holder=holder)


def test_a_dead_runners_output_pin_is_cleared_of_set_id_bits_before_it_is_let_go(
        tmp_path: Path, pin_root: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    pins = dead_runners_pins(monkeypatch, pin_root, "job1")
    point = pins.pin_output(_target(tmp_path / "ds" / "out"))
    (point / "bin").mkdir()
    tool, group_tool, plain = point / "bin" / "tool", point / "gtool", point / "plain"
    for path, mode in ((tool, 0o4755), (group_tool, 0o2750), (plain, 0o644)):
        path.write_text("#!/bin/sh\n")
        os.chmod(path, mode)
    decoy = tmp_path / "decoy"  # a link the job planted: what it names is not the output, never touched
    decoy.write_text("decoy")
    os.chmod(decoy, 0o4755)
    os.symlink(decoy, point / "bin" / "link")

    assert sweep_stale_pins(pin_root) == [str(pins.folder)]
    assert stat.S_IMODE(tool.stat().st_mode) == 0o755
    assert stat.S_IMODE(group_tool.stat().st_mode) == 0o750
    assert stat.S_IMODE(plain.stat().st_mode) == 0o644
    assert stat.S_IMODE(decoy.stat().st_mode) == 0o4755
    assert tool.read_text() == "#!/bin/sh\n"


def test_a_dead_runners_input_pin_is_let_go_as_it_is(
        tmp_path: Path, pin_root: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """An input is the user's data, shown read-only: the sweep changes nothing in it."""
    monkeypatch.setattr(pin, "read_only_below", lambda point, mount: None)
    data = tmp_path / "ds" / "in"
    data.mkdir(parents=True)
    pins = dead_runners_pins(monkeypatch, pin_root, "job2")
    point = pins.pin_input(data, within=tmp_path / "ds")
    tool = point / "tool"
    tool.write_text("theirs")
    os.chmod(tool, 0o4755)
    assert sweep_stale_pins(pin_root) == [str(pins.folder)]
    assert stat.S_IMODE(tool.stat().st_mode) == 0o4755


@pytest.fixture()
def held_log(tmp_path: Path) -> Iterator[tuple[Path, int]]:
    """A job's log with a ``flock`` held on it, as the job's watchdog holds it (another open file)."""
    log = tmp_path / "ws-b" / "jobs" / "b1" / "user_logs" / "std_log.txt"
    log.parent.mkdir(parents=True)
    log.write_text("tick\n")
    fd = os.open(log, os.O_RDONLY | os.O_CLOEXEC)
    fcntl.flock(fd, fcntl.LOCK_EX)
    try:
        yield log, fd
    finally:
        os.close(fd)


def test_the_pins_of_a_job_whose_log_is_held_are_kept_until_it_is_let_go(
        tmp_path: Path, pin_root: Path, monkeypatch: pytest.MonkeyPatch, held_log: tuple[Path, int]) -> None:
    log, fd = held_log
    followed = dead_runners_pins(monkeypatch, pin_root, "b1", holder=log)
    followed.pin_output(_target(tmp_path / "ds" / "b1"))
    orphan = dead_runners_pins(monkeypatch, pin_root, "b2", holder=tmp_path / "no-such-log.txt")
    orphan.pin_output(_target(tmp_path / "ds" / "b2"))

    assert sweep_stale_pins(pin_root) == [str(orphan.folder)]  # nobody follows that one
    assert (followed.folder / "0").is_dir()
    fcntl.flock(fd, fcntl.LOCK_UN)  # the watchdog let the job go: the next sweep releases them
    assert sweep_stale_pins(pin_root) == [str(followed.folder)]
    assert not followed.folder.exists()


def test_a_pin_set_closed_by_its_runner_leaves_nothing(tmp_path: Path, pin_root: Path) -> None:
    with PinSet("job3", root=pin_root, holder=tmp_path / "std_log.txt") as pins:
        pins.pin_output(_target(tmp_path / "ds" / "o3"))
        assert pins.folder.is_dir()
    assert not pins.folder.exists()
    assert os.listdir(pin_root) == []
