"""Pins made for real (``mount(2)``, root): a pinned folder stays the folder that was checked, whatever is
swapped in on its path afterwards, an input's pin is read-only, and releasing (or sweeping) a pin never
touches the data it shows.

Every folder is in this test's tmp folder; a link it swaps in points at a decoy folder it made there,
which must stay untouched. Pins live in ``/run/runner/pins`` (never in a temporary folder)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from jobs_support import make_tree, tree_without_links

import mounts.pin as pin
from mounts.base import Target
from mounts.errors import LinkNotFollowed
from mounts.pin import PinSet, sweep_stale_pins

pytestmark = pytest.mark.root("makes bind mounts (pins)")


@pytest.fixture()
def store(tmp_path: Path) -> Path:
    make_tree(tmp_path / "ds", {"shared/in/data.txt": b"checked\n", "shared/out/old.txt": b"kept\n"})
    make_tree(tmp_path / "decoy", {"data.txt": b"DECOY\n", "in/data.txt": b"DECOY\n", "out/x": b"DECOY\n"})
    return tmp_path / "ds"


def _target(store: Path, rel: str) -> Target:
    return Target(fs=None, path=str(store / rel), url="", local_path=store / rel,  # type: ignore[arg-type]
                  local_root=store)


def _swap(folder: Path, decoy: Path) -> None:
    os.rename(folder, folder.with_name(folder.name + ".moved"))
    os.symlink(decoy, folder)


def test_a_pinned_input_is_the_checked_folder_read_only(store: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    decoy = store.parent / "decoy"
    before = tree_without_links(decoy)
    monkeypatch.setattr(pin, "before_mount", lambda where: _swap(store / "shared", decoy))
    with PinSet("pin-test-in") as pins:
        pinned = pins.pin_input(store / "shared" / "in", within=store)
        assert str(pinned).startswith("/run/runner/pins/")
        assert (pinned / "data.txt").read_text() == "checked\n"
        with pytest.raises(OSError, match="Read-only file system"):
            (pinned / "new").write_text("x")
    assert not pinned.exists() and not pins.folder.exists()
    assert tree_without_links(decoy) == before
    assert (store / "shared.moved" / "in" / "data.txt").read_text() == "checked\n"


def test_an_input_that_leads_out_of_its_datastore_by_now_is_refused(store: Path) -> None:
    decoy = store.parent / "decoy"
    _swap(store / "shared" / "in", decoy)  # after the check at job start, before the pin
    with PinSet("pin-test-out-of") as pins, pytest.raises(LinkNotFollowed, match="out of its datastore"):
        pins.pin_input(store / "shared" / "in", within=store)
    assert not pins.pins


def test_a_pinned_output_is_written_where_it_was_checked(store: Path,
                                                        monkeypatch: pytest.MonkeyPatch) -> None:
    decoy = store.parent / "decoy"
    before = tree_without_links(decoy)
    monkeypatch.setattr(pin, "before_mount", lambda where: _swap(store / "shared", decoy))
    with PinSet("pin-test-out") as pins:
        pinned = pins.pin_output(_target(store, "shared/out"))
        (pinned / "new.txt").write_text("written\n")
    out = store / "shared.moved" / "out"
    assert sorted(os.listdir(out)) == ["new.txt", "old.txt"]  # released: the data stays
    assert tree_without_links(decoy) == before


def test_an_outputs_pin_is_cleared_of_set_id_bits_when_released(store: Path,
                                                                monkeypatch: pytest.MonkeyPatch) -> None:
    """Cleared where the job's folder is now (moved meanwhile, a link in its place): never through the
    link, never beside the output."""
    decoy = store.parent / "decoy"
    os.chmod(decoy / "out" / "x", 0o4755)
    os.chmod(store / "shared" / "in" / "data.txt", 0o4755)  # not the output's
    monkeypatch.setattr(pin, "before_mount", lambda where: _swap(store / "shared", decoy))
    with PinSet("pin-test-setid") as pins:
        pinned = pins.pin_output(_target(store, "shared/out"))
        (pinned / "sub").mkdir()
        for name in ("run-as-root", "sub/also"):
            (pinned / name).write_text("#!/bin/sh\n")
            os.chmod(pinned / name, 0o6755)
        (pinned / "link").symlink_to(decoy / "out" / "x")
    out = store / "shared.moved" / "out"
    assert [oct(os.stat(out / n).st_mode & 0o7777) for n in ("run-as-root", "sub/also")] == ["0o755"] * 2
    assert os.stat(decoy / "out" / "x").st_mode & 0o7777 == 0o4755
    assert os.stat(store / "shared.moved" / "in" / "data.txt").st_mode & 0o7777 == 0o4755


def test_an_output_with_a_link_on_its_way_is_refused_before_anything_is_pinned(store: Path) -> None:
    _swap(store / "shared", store.parent / "decoy")
    with PinSet("pin-test-link") as pins, pytest.raises(LinkNotFollowed, match="symbolic link"):
        pins.pin_output(_target(store, "shared/out"))
    assert not pins.pins


def test_a_file_input_is_pinned_as_a_file(store: Path) -> None:
    with PinSet("pin-test-file") as pins:
        pinned = pins.pin_input(store / "shared" / "in" / "data.txt", within=store)
        assert pinned.is_file() and pinned.read_text() == "checked\n"
    assert not pinned.exists()


def test_the_pins_of_a_runner_that_is_gone_are_swept_without_touching_the_data(store: Path) -> None:
    folder = pin.PIN_ROOT / "999999999-0-swept-by-test"
    folder.mkdir(parents=True, exist_ok=True)
    point = folder / "0"
    point.mkdir()
    fd = os.open(store / "shared" / "out", os.O_PATH)
    try:
        pin._mount(f"/proc/self/fd/{fd}", str(point), pin.MS_BIND)
    finally:
        os.close(fd)
    assert (point / "old.txt").read_text() == "kept\n"
    assert str(folder) in sweep_stale_pins()
    assert not folder.exists()
    assert (store / "shared" / "out" / "old.txt").read_text() == "kept\n"
