"""Read-only all the way down, the parts that need no mount: ``/proc/self/mountinfo`` parsed (escapes,
optional fields), the mounts below a pin point found (not a sibling's with the same prefix), the other
per-mount options kept by a read-only bind remount, the walk a kernel without ``mount_setattr(2)`` gets,
and the warning when an input is bound by path with a mount nested in it."""

from __future__ import annotations

import errno
import logging
import os
from pathlib import Path

import pytest

import mounts.pin as pin
from mounts.pin import (
    MS_BIND,
    MS_NODEV,
    MS_NOEXEC,
    MS_NOSUID,
    MS_RDONLY,
    MS_RELATIME,
    MS_REMOUNT,
    MountEntry,
    PinSet,
    mounts_below,
    parse_mountinfo,
    read_only_remount_flags,
)

MOUNTINFO = (
    "22 1 0:21 / / rw,relatime shared:1 - ext4 /dev/vda rw\n"
    "90 22 0:45 / /run/runner/pins/1-2-j/0 ro,relatime shared:1 - ext4 /dev/vda rw\n"
    "91 90 0:46 / /run/runner/pins/1-2-j/0/my\\040data rw,nosuid,nodev,noexec master:7 - tmpfs t rw\n"
    "92 91 0:47 /sub /run/runner/pins/1-2-j/0/my\\040data/a\\134b rw - nfs4 srv:/x rw\n"
    "93 22 0:48 / /run/runner/pins/1-2-j/0+ rw - tmpfs t rw\n"
    "94 22 0:49 / /run/runner/pins/1-2-j/01 rw - tmpfs t rw\n"
    "truncated line\n"
)


def test_mountinfo_is_parsed_with_its_escapes_and_optional_fields() -> None:
    entries = parse_mountinfo(MOUNTINFO)
    assert [e.point for e in entries] == [
        "/", "/run/runner/pins/1-2-j/0", "/run/runner/pins/1-2-j/0/my data",
        "/run/runner/pins/1-2-j/0/my data/a\\b", "/run/runner/pins/1-2-j/0+", "/run/runner/pins/1-2-j/01"]
    assert entries[2].options == ("rw", "nosuid", "nodev", "noexec")


def test_the_mounts_below_a_pin_point_are_its_own_and_those_nested_in_it_only() -> None:
    below = mounts_below(parse_mountinfo(MOUNTINFO), "/run/runner/pins/1-2-j/0")
    assert [e.point for e in below] == ["/run/runner/pins/1-2-j/0", "/run/runner/pins/1-2-j/0/my data",
                                        "/run/runner/pins/1-2-j/0/my data/a\\b"]  # not 0+ nor 01


def test_a_read_only_remount_keeps_the_other_per_mount_options() -> None:
    base = MS_REMOUNT | MS_BIND | MS_RDONLY
    assert read_only_remount_flags(("rw",)) == base
    assert read_only_remount_flags(("rw", "nosuid", "nodev", "noexec", "relatime")) == (
        base | MS_NOSUID | MS_NODEV | MS_NOEXEC | MS_RELATIME)


def test_without_mount_setattr_each_mount_below_the_pin_is_remounted_read_only(
        monkeypatch: pytest.MonkeyPatch) -> None:
    def missing(target: str) -> None:
        raise OSError(errno.ENOSYS, "Function not implemented", target)

    monkeypatch.setattr(pin, "_set_read_only_recursively", missing)
    monkeypatch.setattr(pin, "_mountinfo", lambda: parse_mountinfo(MOUNTINFO))
    monkeypatch.setattr(os.path, "realpath", lambda p: p)
    calls: list[tuple[str | None, str, int]] = []
    pin.read_only_below("/run/runner/pins/1-2-j/0", lambda s, t, f: calls.append((s, t, f)))
    base = MS_REMOUNT | MS_BIND | MS_RDONLY
    assert calls == [(None, "/run/runner/pins/1-2-j/0", base | MS_RELATIME),
                     (None, "/run/runner/pins/1-2-j/0/my data", base | MS_NOSUID | MS_NODEV | MS_NOEXEC),
                     (None, "/run/runner/pins/1-2-j/0/my data/a\\b", base)]


def test_another_mount_setattr_failure_is_not_hidden_by_the_walk(monkeypatch: pytest.MonkeyPatch) -> None:
    def busy(target: str) -> None:
        raise OSError(errno.EBUSY, "Device or resource busy", target)

    monkeypatch.setattr(pin, "_set_read_only_recursively", busy)
    calls: list[str] = []
    with pytest.raises(OSError, match="busy"):
        pin.read_only_below("/run/runner/pins/1-2-j/0", lambda s, t, f: calls.append(t))
    assert calls == []


def test_bound_by_path_an_input_with_a_nested_mount_is_named_in_a_warning(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture) -> None:
    data = tmp_path / "data"
    (data / "nfs").mkdir(parents=True)
    real = os.path.realpath(data)
    monkeypatch.setattr(os, "geteuid", lambda: 1000)
    monkeypatch.setattr(pin, "_mountinfo", lambda: [MountEntry("/", ("rw",)), MountEntry(real, ("rw",)),
                                                    MountEntry(f"{real}/nfs", ("rw",))])
    caplog.set_level(logging.WARNING, logger="mounts.pin")
    with PinSet("j") as pins:
        assert pins.pin_input(data, within=None) == data
        assert pins.pin_input(data / "nfs", within=None) == data / "nfs"  # the mount itself: read-only
    warnings = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    assert len(warnings) == 1 and f"{real}/nfs" in warnings[0] and "stay writable" in warnings[0], warnings
