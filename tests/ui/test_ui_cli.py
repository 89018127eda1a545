"""`runner ui` on the command line: it serves on loopback (its printed address carries its access
token), refuses another address without --allow-remote and a token, says how to install the extra when it
is missing, and stops on SIGTERM."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import urllib.error
import urllib.request
from pathlib import Path

import pytest

RUNNER = [sys.executable, "-m", "runner"]


def _runner(ws: Path, *args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run([*RUNNER, "--workspace", str(ws), *args], capture_output=True, text=True,
                          timeout=60, env={**os.environ, **(env or {})})


@pytest.mark.parametrize(("args", "message"), [
    (("--host", "0.0.0.0"), "listens on loopback only"),
    (("--host", "192.168.1.10", "--allow-remote"), "--allow-remote needs an access token"),
    (("--host", "0.0.0.0", "--allow-remote", "--token", "short"), "the access token is too short"),
])
def test_an_address_beyond_loopback_needs_allow_remote_and_a_token(
        workspace_dir: Path, args: tuple[str, ...], message: str) -> None:
    result = _runner(workspace_dir, "ui", *args, "--port", "0")
    assert result.returncode == 2 and message in result.stderr and "hint:" in result.stderr
    assert "Traceback" not in result.stderr


def test_without_the_extra_it_says_how_to_install_it(workspace_dir: Path) -> None:
    code = ("import sys; sys.modules['starlette'] = None; sys.argv = ['runner', 'ui', '--port', '0']\n"
            "from runner.cli.main import run; sys.exit(run())")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60,
                            env={**os.environ, "RUNNER_WORKSPACE": str(workspace_dir)})
    assert result.returncode == 1
    checkout = Path(__file__).resolve().parents[2]  # this checkout: its own extra, not PyPI's "runner"
    assert result.stderr.strip() == ("error: runner ui needs the optional web UI dependencies (starlette is "
                                     f"not installed)\n  hint: install them: pip install -e '{checkout}[ui]'")


def test_it_serves_the_workspace_and_stops_on_sigterm(ui_extra: None, workspace_dir: Path, tmp_path: Path
                                                     ) -> None:
    started_in = tmp_path / "project"
    started_in.mkdir()
    proc = subprocess.Popen([*RUNNER, "--workspace", str(workspace_dir), "ui", "--port", "0"],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=started_in,
                            env={**os.environ, "RUNNER_FORKSERVER": "0"})
    try:
        assert proc.stdout is not None
        first = proc.stdout.readline()
        assert first.startswith("runner ui: workspace ") and str(workspace_dir) in first
        address = proc.stdout.readline().strip()
        # on loopback too, the address carries a new random access token (Jupyter's way)
        assert re.fullmatch(r"http://127\.0\.0\.1:\d+/\?token=[\w-]{43}", address), address
        # the folder the Register form may read local files from: the one it was started in
        assert proc.stdout.readline().strip() == f"Register form reads local files from: {started_in}"
        with pytest.raises(urllib.error.HTTPError) as refused:
            urllib.request.urlopen(address.split("?")[0] + "jobs", timeout=10)
        assert refused.value.code == 401
        from ui_support import Browserless

        status, text = Browserless(address).get("/jobs")
        assert status == 200 and "<h1>Jobs</h1>" in text
        proc.send_signal(signal.SIGTERM)  # uvicorn shuts down, then ends by the signal it caught
        assert proc.wait(timeout=20) == -signal.SIGTERM
        assert proc.stderr is not None and "Traceback" not in proc.stderr.read()
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()


def test_sources_sets_the_folder_the_register_form_reads(ui_extra: None, workspace_dir: Path,
                                                        tmp_path: Path) -> None:
    sources = tmp_path / "models"
    sources.mkdir()
    (sources / "m").mkdir()
    (sources / "m" / "w.bin").write_bytes(b"w")
    (tmp_path / "outside").mkdir()
    (tmp_path / "outside" / "w.bin").write_bytes(b"w")
    proc = subprocess.Popen([*RUNNER, "--workspace", str(workspace_dir), "ui", "--port", "0",
                             "--sources", str(sources / "m" / "..")],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            cwd=tmp_path / "outside", env={**os.environ, "RUNNER_FORKSERVER": "0"})
    try:
        assert proc.stdout is not None
        proc.stdout.readline()
        address = proc.stdout.readline().strip()
        assert proc.stdout.readline().strip() == f"Register form reads local files from: {sources}"
        from ui_support import Browserless

        web = Browserless(address)
        token = web.csrf()
        status, _, text = web.request("/register/model", {"csrf_token": token, "name": "in", "path": "m",
                                                          "type": "custom_model"})
        assert status == 303, text[:500]  # relative to --sources, not to the folder it was started in
        status, _, text = web.request("/register/model", {"csrf_token": token, "name": "out", "path":
                                                          str(tmp_path / "outside" / "w.bin")})
        assert status == 422 and f"outside the folder the UI serves ({sources})" in text
    finally:
        proc.terminate()
        proc.wait(timeout=20)


@pytest.mark.parametrize("kind", ["missing", "file"])
def test_sources_that_is_not_a_folder_is_one_clear_error(workspace_dir: Path, tmp_path: Path,
                                                         kind: str) -> None:
    target = tmp_path / "nope"
    if kind == "file":
        target.write_text("x")
    result = _runner(workspace_dir, "ui", "--port", "0", "--sources", str(target))
    said = f"the folder {target} does not exist" if kind == "missing" else f"{target} is not a folder"
    assert result.returncode == 2, result.stderr
    assert result.stderr.startswith(f"error: --sources: {said}\n  hint: ")
    assert "Traceback" not in result.stderr and result.stdout == ""
