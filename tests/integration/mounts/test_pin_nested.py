"""An input's pin is read-only all the way down (``mount(2)``, root): a tmpfs mounted below the pinned
folder is read-only through the pin, through ``mount_setattr(2)`` and through the walk of
``/proc/self/mountinfo`` a kernel without it gets, while the user's own tmpfs stays writable and keeps
its options.

Every folder is in this test's tmp folder; the tmpfs is unmounted in ``finally``. Pins live in
``/run/runner/pins`` (never in a temporary folder)."""

from __future__ import annotations

import errno
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
from jobs_support import make_tree

import mounts.pin as pin
from mounts.pin import PinSet

pytestmark = pytest.mark.root("makes bind mounts (pins) and a tmpfs")


def _options(point: Path) -> list[str]:
    """The per-mount options of the (topmost) mount at ``point``."""
    found = [line.split()[5].split(",") for line in Path("/proc/self/mountinfo").read_text().splitlines()
             if line.split()[4] == str(point)]
    assert found, f"nothing mounted at {point}"
    return found[-1]


@pytest.fixture()
def data(tmp_path: Path) -> Iterator[Path]:
    """``tmp_path/data`` with a tmpfs (``nosuid,nodev,noexec``, holding a file) at ``data/deep/nested``."""
    folder = tmp_path / "data"
    make_tree(folder, {"top.txt": b"top\n", "deep/nested/.keep": b""})
    nested = folder / "deep" / "nested"
    subprocess.run(["mount", "-t", "tmpfs", "-o", "size=1m,nosuid,nodev,noexec", "runner-test-pin",
                    str(nested)], check=True)
    try:
        (nested / "on-tmpfs.txt").write_text("nested\n")
        yield folder
    finally:
        subprocess.run(["umount", "-l", str(nested)], check=False)


def _no_mount_setattr(target: str) -> None:
    raise OSError(errno.ENOSYS, "Function not implemented", target)


@pytest.mark.parametrize("kernel", ["mount_setattr", "mountinfo-walk"])
def test_a_mount_nested_in_a_pinned_input_is_read_only_through_the_pin(
        data: Path, kernel: str, monkeypatch: pytest.MonkeyPatch) -> None:
    if kernel == "mountinfo-walk":
        monkeypatch.setattr(pin, "_set_read_only_recursively", _no_mount_setattr)
    nested = data / "deep" / "nested"
    with PinSet(f"pin-nested-{kernel}") as pins:
        pinned = pins.pin_input(data, within=data.parent)
        assert (pinned / "deep" / "nested" / "on-tmpfs.txt").read_text() == "nested\n"
        for where in (pinned, pinned / "deep", pinned / "deep" / "nested"):
            with pytest.raises(OSError, match="Read-only file system"):
                (where / "planted").write_text("x")
        copy = _options(pinned / "deep" / "nested")
        assert "ro" in copy and {"nosuid", "nodev", "noexec"} <= set(copy), copy  # other options kept
        assert "rw" in _options(nested)  # the user's own tmpfs: untouched, and still writable
        (nested / "host-writes").write_text("yes\n")
    assert sorted(p.name for p in nested.iterdir()) == ["host-writes", "on-tmpfs.txt"]
    assert {"rw", "nosuid", "nodev", "noexec"} <= set(_options(nested))
    assert not pinned.exists() and not pins.folder.exists()


def test_a_folder_on_no_datastore_is_pinned_read_only_as_it_is(data: Path) -> None:
    """A local folder or a cache entry (``within=None``): no datastore to be inside, pinned all the same."""
    with PinSet("pin-nested-local") as pins:
        pinned = pins.pin_input(data, within=None)
        assert str(pinned).startswith("/run/runner/pins/")
        assert (pinned / "top.txt").read_text() == "top\n"
        with pytest.raises(OSError, match="Read-only file system"):
            (pinned / "deep" / "nested" / "planted").write_text("x")
    assert not pinned.exists()
