"""Pins made for real (``mount(2)``, root) by a runner that then died: the sweep that lets them go clears
the set-user-ID and set-group-ID bits of what the job left in its ``direct`` output's folder first (no
link followed), and keeps the pins of a job whose log a process still holds (its watchdog).

The "runner" is a child process that pins and exits without releasing anything; its pin root is a
throwaway folder in this test's ``tmp_path`` (allowed in the child only), and whatever is still mounted
there at the end is unmounted before ``tmp_path`` is removed."""

from __future__ import annotations

import fcntl
import json
import os
import stat
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from repo_paths import REPO

import mounts.pin as pin
from mounts.pin import sweep_stale_pins

pytestmark = pytest.mark.root("makes bind mounts (pins)")

# a runner that pins a direct output's folder and dies: nothing released
RUNNER = """
import json, sys
from pathlib import Path
import mounts.pin as pin
from mounts.base import Target
pin.check_pin_root = lambda root: None  # the test's throwaway root, in a temporary folder
root, out, holder = (Path(a) for a in sys.argv[1:4])
pins = pin.PinSet("real-job", root=root, holder=holder)
point = pins.pin_output(Target(fs=None, path=str(out), url="", local_path=out, local_root=out.parent))
print(json.dumps([str(pins.folder), str(point)]), flush=True)
"""


def mounted(root: Path) -> list[str]:
    """The mounts at or below ``root`` (``/proc/self/mountinfo``), the last made first."""
    points = [entry.point for entry in pin.parse_mountinfo(Path("/proc/self/mountinfo").read_text())]
    return [p for p in reversed(points) if p == str(root) or p.startswith(str(root) + "/")]


@pytest.fixture()
def pin_root(tmp_path: Path) -> Iterator[Path]:
    root = tmp_path / "pins"
    yield root
    for point in mounted(root):
        pin._unmount(point)  # never a recursive delete through a pin that is still mounted


def dead_runners_pin(root: Path, out: Path, holder: Path) -> tuple[Path, Path]:
    done = subprocess.run([sys.executable, "-c", RUNNER, str(root), str(out), str(holder)], check=True,
                          capture_output=True, text=True, timeout=60, cwd=REPO)
    folder, point = json.loads(done.stdout)
    assert mounted(Path(point)) == [point]
    return Path(folder), Path(point)


def test_the_sweep_clears_set_id_bits_through_a_dead_runners_pin(tmp_path: Path, pin_root: Path) -> None:
    out = tmp_path / "ds" / "out"
    out.mkdir(parents=True)
    folder, point = dead_runners_pin(pin_root, out, tmp_path / "no-log.txt")
    (point / "bin").mkdir()
    for name, mode in (("bin/tool", 0o4755), ("gtool", 0o2711), ("plain", 0o644)):
        (point / name).write_text(name)  # what the job left, written through its pin
        os.chmod(point / name, mode)
    decoy = tmp_path / "decoy"
    decoy.write_text("decoy")
    os.chmod(decoy, 0o4755)
    os.symlink(decoy, point / "bin" / "link")

    assert sweep_stale_pins(pin_root) == [str(folder)]
    assert not folder.exists()
    modes = {name: stat.S_IMODE((out / name).stat().st_mode) for name in ("bin/tool", "gtool", "plain")}
    assert modes == {"bin/tool": 0o755, "gtool": 0o711, "plain": 0o644}
    assert (out / "bin" / "tool").read_text() == "bin/tool"
    assert stat.S_IMODE(decoy.stat().st_mode) == 0o4755  # the link was not followed


def test_the_sweep_keeps_a_dead_runners_pin_while_its_jobs_log_is_held(tmp_path: Path,
                                                                        pin_root: Path) -> None:
    out = tmp_path / "ds" / "out"
    out.mkdir(parents=True)
    log = tmp_path / "other-ws" / "std_log.txt"
    log.parent.mkdir()
    log.write_text("tick\n")
    folder, point = dead_runners_pin(pin_root, out, log)
    fd = os.open(log, os.O_RDONLY | os.O_CLOEXEC)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)  # the job's watchdog follows its container
        assert sweep_stale_pins(pin_root) == []
        assert mounted(point) == [str(point)]
    finally:
        os.close(fd)  # it let the job go
    assert sweep_stale_pins(pin_root) == [str(folder)]
    assert not folder.exists()
