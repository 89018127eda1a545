"""The ``runner`` command's Python part (bin/runner): where it finds the ``runner`` package when the
interpreter starts without site-packages."""

from __future__ import annotations

import importlib.machinery
import importlib.util
import os
import shutil
import site
import subprocess
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


# a stand-in for the runner package: says which interpreter start ran which part of runner.launch
STAND_IN_LAUNCH = """import sys
def run_in_server():
    print("client, site", "off" if sys.flags.no_site else "on")
def main():
    print("command, site", "off" if sys.flags.no_site else "on")
"""


def _run_launcher(tmp_path: Path, switch: str | None) -> list[str]:
    """The lines bin/runner's Python parts print, as pip installs it (``runner-py`` beside it), with
    ``RUNNER_FORKSERVER=switch`` (None: unset) and the stand-in package first on the path."""
    into = tmp_path / "bin"
    into.mkdir(exist_ok=True)
    shutil.copy2(LAUNCHER, into / "runner")
    (into / "runner-py").write_text(f"#!{sys.executable}\nimport sys\nfrom runner.launch import main\n"
                                    "sys.exit(main())\n")
    (_package(tmp_path / "stand-in") / "runner" / "launch.py").write_text(STAND_IN_LAUNCH)
    (tmp_path / "stand-in" / "runner" / "__init__.py").write_text("")  # before the installed one
    env = {k: v for k, v in os.environ.items() if k != "RUNNER_FORKSERVER"}
    env["PYTHONPATH"] = str(tmp_path / "stand-in")
    if switch is not None:
        env["RUNNER_FORKSERVER"] = switch
    result = subprocess.run([into / "runner", "--version"], capture_output=True, text=True, env=env,
                            timeout=60, check=False)
    assert result.returncode == 0, result.stderr
    return result.stdout.splitlines()


@pytest.mark.parametrize("switch", ["0", "off", "OFF", "False", "no"])
def test_with_the_server_turned_off_the_interpreter_starts_once(tmp_path: Path, switch: str) -> None:
    """No client to ask a server (there is none): the shell lines start the interpreter as runner-py
    would, instead of a ``python -S`` client that then starts it again."""
    assert _run_launcher(tmp_path, switch) == ["command, site on"]


@pytest.mark.parametrize("switch", [None, "1", " 0 "])
def test_otherwise_a_client_without_site_asks_first(tmp_path: Path, switch: str | None) -> None:
    """The server may be on (a value the shell does not read, " 0 ", is left to ``runner.launch``, which
    turns it off there: the command still runs, after the client)."""
    assert _run_launcher(tmp_path, switch) == ["client, site off", "command, site on"]
