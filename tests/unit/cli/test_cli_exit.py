"""The CLI's exit (``runner.cli.main``): status codes and flushed output as ``sys.exit`` gives them,
without the interpreter's module teardown."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path


def _runner(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "runner", *args], capture_output=True, text=True,
                          timeout=120, check=False)


def test_version_exits_zero_with_its_output_flushed() -> None:
    result = _runner("--version")
    assert result.returncode == 0
    assert result.stdout.strip().startswith("runner ")


def test_runner_error_exits_non_zero_with_one_message(tmp_path: Path) -> None:
    result = _runner("--workspace", str(tmp_path), "job", "show", "--name", "no-such-job")
    assert result.returncode == 1
    assert result.stderr.startswith("error: ")
    assert "no-such-job" in result.stderr
    assert "Traceback" not in result.stderr


def test_usage_error_keeps_click_status(tmp_path: Path) -> None:
    result = _runner("--workspace", str(tmp_path), "no-such-command")
    assert result.returncode == 2
    assert "no-such-command" in result.stderr


def test_atexit_handlers_still_run(tmp_path: Path) -> None:
    marker = tmp_path / "atexit-ran"
    code = (f"import atexit, pathlib, sys\natexit.register(pathlib.Path({str(marker)!r}).touch)\n"
            "sys.argv = ['runner', '--version']\nfrom runner.cli.main import main\nmain()")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120,
                            check=False)
    assert result.returncode == 0
    assert marker.exists()


def test_an_internal_error_is_one_message_not_a_traceback_or_silence(tmp_path: Path) -> None:
    # a bug (any exception that is not a RunnerError) in a command: one message, status 1, the
    # traceback only with --debug; never a silent exit (the fork server's child once ended so)
    code = ("import sys\nimport runner.cli.main as m\n"
            "def broken():\n    raise ZeroDivisionError('boom')\n"
            "m.click_command = lambda: broken\nsys.argv = ['runner', *sys.argv[1:]]\nm.main()")
    plain = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert plain.returncode == 1
    assert plain.stderr.startswith("error: internal error: ZeroDivisionError: boom\n")
    assert "--debug" in plain.stderr and "Traceback" not in plain.stderr
    debug = subprocess.run([sys.executable, "-c", code.replace("m.main()", "m._common.STATE.debug = True\n"
                                                               "m.main()")],
                           capture_output=True, text=True, timeout=120)
    assert debug.returncode == 1 and "Traceback" in debug.stderr and "ZeroDivisionError" in debug.stderr


def test_debug_shows_the_traceback_after_the_same_message(tmp_path: Path) -> None:
    """``--debug`` adds the traceback (the error's origin in runner/) to the one clear message."""
    args = ("--workspace", str(tmp_path), "job", "show", "--name", "no-such-job")
    plain, debug = _runner(*args), _runner("--debug", *args)
    assert plain.returncode == debug.returncode == 1
    assert "Traceback" not in plain.stderr
    assert "Traceback (most recent call last):\n" in debug.stderr  # (after any debug log lines)
    assert 'File "' in debug.stderr and "runner/" in debug.stderr  # frames of the code that raised
    assert "ResolveError: unknown job 'no-such-job'" in debug.stderr  # the exception itself
    message = plain.stderr[plain.stderr.index("error: "):]
    assert debug.stderr.endswith(message)  # then the same message as without --debug
