"""An fsspec URL whose filesystem cannot be made from the URL is ONE ``ResolveError`` at the input's
path, never an internal error: an archive chain over a file that is not there (``zip://x::memory://a.zip``,
``tar://``: fsspec reads the archive as it makes the filesystem, raising ``FileNotFoundError``), and a
protocol whose filesystem needs options a URL does not give (``jlab://``: a ``TypeError``)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from runner.errors import ResolveError
from runner.workspace.db import Workspace
from runner.workspace.resolve import Resolver

# (id, url, words of the message, words of the hint)
CASES = [
    ("zip-missing", "zip://x::memory://a.zip", "'memory://a.zip' that 'zip://x::memory://a.zip' reads does "
     "not exist", "last link"),
    ("tar-missing", "tar://x::memory://a.tar", "'memory://a.tar' that 'tar://x::memory://a.tar' reads does "
     "not exist", "last link"),
    ("needs-options", "jlab:///x", "'jlab:///x' cannot be opened from its URL alone", "type: fsspec"),
]


@pytest.mark.parametrize(("url", "words", "hint"), [c[1:] for c in CASES], ids=[c[0] for c in CASES])
@pytest.mark.parametrize("check", [False, True])
def test_a_filesystem_that_cannot_be_made_is_one_resolve_error(tmp_path: Path, url: str, words: str,
                                                               hint: str, check: bool) -> None:
    resolver = Resolver(Workspace(tmp_path / "ws"))
    with pytest.raises(ResolveError) as info:
        resolver.resolve(url, base_dir=tmp_path, field="inputs.a.path", check=check)
    assert info.value.field == "inputs.a.path"
    assert info.value.message.startswith("input 'a' cannot be read: "), info.value.message
    assert words in info.value.message, info.value.message
    assert info.value.hint and hint in info.value.hint, info.value.hint


def _job(tmp_path: Path, url: str, mode: str) -> Path:
    job = tmp_path / "job.yml"
    job.write_text(f"command: cat ${{{{inputs.a}}}}\nenvironment:\n  image: python:3.11\ninputs:\n  a:\n"
                   f"    type: uri_file\n    path: {url}\n    mode: {mode}\n")
    return job


@pytest.mark.parametrize(("url", "mode"), [("zip://x::memory://a.zip", "ro_mount"),
                                           ("tar://x::memory://a.tar", "download"),
                                           ("jlab:///x", "direct")])
@pytest.mark.parametrize("command", [["job", "validate"], ["job", "create", "--backend", "process"]])
def test_the_cli_says_one_located_error(tmp_path: Path, url: str, mode: str, command: list[str]) -> None:
    job = _job(tmp_path, url, mode)
    result = subprocess.run([sys.executable, "-m", "runner", "--workspace", str(tmp_path / "ws"), *command,
                             "--file", str(job)], capture_output=True, text=True, timeout=120)
    assert result.returncode == 1, result.stderr
    assert result.stdout == ""
    assert result.stderr.startswith(f"error: {job}:7:5: inputs.a.path: input 'a' cannot be read: "), \
        result.stderr
    assert "internal error" not in result.stderr and "Traceback" not in result.stderr
    assert len(result.stderr.strip().splitlines()) == 2  # the message and its hint
