"""The ``runner`` command's Python part (bin/runner): where it finds the ``runner`` package when the
interpreter starts without site-packages."""

from __future__ import annotations

import importlib.machinery
import importlib.util
import site
import sys
from pathlib import Path
from types import ModuleType

import pytest
from repo_paths import REPO

LAUNCHER = REPO / "bin" / "runner"


def _launcher() -> ModuleType:
    loader = importlib.machinery.SourceFileLoader("runner_launcher", str(LAUNCHER))
    spec = importlib.util.spec_from_loader("runner_launcher", loader)
    assert spec is not None
    module = importlib.util.module_from_spec(spec)
    loader.exec_module(module)  # defines package_folder(); runs nothing (not __main__)
    return module


def _package(root: Path) -> Path:
    (root / "runner").mkdir(parents=True)
    (root / "runner" / "launch.py").write_text("")
    return root


@pytest.fixture
def site_packages(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    folder = tmp_path / "site-packages"
    folder.mkdir()
    monkeypatch.setattr(site, "getsitepackages", lambda: [str(folder)])
    monkeypatch.setattr(site, "check_enableusersite", lambda: False)
    monkeypatch.setattr(sys, "path", [str(LAUNCHER.parent), "/nonexistent/stdlib"])
    return folder


def test_finds_a_regular_install_in_site_packages(site_packages: Path) -> None:
    _package(site_packages)
    assert _launcher().package_folder() == str(site_packages)


def test_finds_an_editable_install_named_by_a_pth_file_without_running_its_import_lines(
        site_packages: Path, tmp_path: Path) -> None:
    checkout = _package(tmp_path / "checkout")
    marker = tmp_path / "hook-ran"
    (site_packages / "a_hook.pth").write_text(f"import pathlib; pathlib.Path({str(marker)!r}).touch()\n")
    (site_packages / "__editable__.runner-0.1.0.pth").write_text(f"# a comment\n\n{checkout}\n")
    assert _launcher().package_folder() == str(checkout)
    assert not marker.exists()  # the start-up hooks the launcher's client avoids


def test_pythonpath_comes_before_site_packages(site_packages: Path, tmp_path: Path,
                                               monkeypatch: pytest.MonkeyPatch) -> None:
    _package(site_packages)
    mine = _package(tmp_path / "mine")
    monkeypatch.setattr(sys, "path", [str(LAUNCHER.parent), str(mine)])
    assert _launcher().package_folder() == str(mine)


def test_nothing_found_means_none(site_packages: Path) -> None:
    (site_packages / "other.pth").write_text("relative/folder\n")
    assert _launcher().package_folder() is None  # the launcher then starts the interpreter as usual
