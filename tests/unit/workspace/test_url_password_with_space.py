"""A URL whose password holds a space or a quote (``https://u:p w@host/x``, ``sftp://u:p'w@h/d``: fsspec's
``infer_storage_options`` reads all of it as the password) is a URL with a password like any: refused as a
datastore's ``url`` and as an input's path, in one error that never shows it, and never kept."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

URLS = ["https://u:p s3cr3t@host/x", "sftp://u:p's3cr3t@h/d", 'ftp://u:p"s3cr3t@h/d']


def _runner(cwd: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "RUNNER_FORKSERVER": "0", "RUNNER_WORKSPACE": str(cwd / "ws"), "COLUMNS": "200"}
    code = "import sys\nsys.argv = ['runner', *sys.argv[1:]]\nfrom runner.cli.main import main\nmain()"
    return subprocess.run([sys.executable, "-c", code, *args], capture_output=True, text=True,
                          timeout=120, check=False, env=env, cwd=cwd)


def _yaml_text(url: str) -> str:
    return "'" + url.replace("'", "''") + "'"


def _never_kept(tmp_path: Path) -> None:
    for path in (tmp_path / "ws").rglob("*"):
        if path.is_file():
            assert b"s3cr3t" not in path.read_bytes(), path


@pytest.mark.parametrize("url", URLS)
def test_datastore_create_refuses_it_and_keeps_nothing(tmp_path: Path, url: str) -> None:
    (tmp_path / "ds.yml").write_text(f"name: d1\ntype: fsspec\nurl: {_yaml_text(url)}\n")
    result = _runner(tmp_path, "datastore", "create", "--file", "ds.yml")
    shown = result.stdout + result.stderr
    assert result.returncode == 2 and "password" in shown and "ds.yml:3:" in shown, shown
    assert "s3cr3t" not in shown and "Traceback" not in shown, shown
    listed = _runner(tmp_path, "datastore", "show", "--name", "d1")
    assert listed.returncode != 0 and "s3cr3t" not in listed.stdout + listed.stderr
    _never_kept(tmp_path)


@pytest.mark.parametrize("url", URLS)
def test_an_input_path_with_it_is_refused_and_not_kept(tmp_path: Path, url: str) -> None:
    (tmp_path / "j.yml").write_text("command: ls ${{inputs.d}}\nenvironment: runner/busybox:latest\n"
                                    f"inputs:\n  d:\n    type: uri_file\n    path: {_yaml_text(url)}\n")
    result = _runner(tmp_path, "job", "create", "--file", "j.yml")
    shown = result.stdout + result.stderr
    assert result.returncode == 2 and "j.yml:6:" in shown and "password" in shown, shown
    assert "s3cr3t" not in shown and "Traceback" not in shown, shown
    _never_kept(tmp_path)
