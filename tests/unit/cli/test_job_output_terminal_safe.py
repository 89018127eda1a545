"""What the CLI and the Python API print of a job's log and of text a job chose (its record's error, a
logged warning) cannot drive the terminal: escape sequences other than SGR colours, and every other
control character, are shown as their ``\\xNN`` escape; the log's colours, tabs, newlines and carriage
returns are kept (``runner.terminal_text``)."""

from __future__ import annotations

import io
import logging
from pathlib import Path

import pytest
from click.testing import CliRunner

from runner.cli.main import _CliFormatter, app
from runner.jobs.log_echo import TerminalEcho
from runner.jobs.operations import JobOperations
from runner.workspace.db import JobRecord, JobStatus, Workspace

LOG = (b"step 1 \x1b[32mok\x1b[0m\n"
       b"\x1b]0;pwned\x07\x1b]52;c;cm0gLXJmIH4=\x07\x1b]8;;https://evil.example/\x1b\\link\x1b]8;;\x1b\\\n"
       b"10%\r20%\r\x1b[1A\x1b[2Kforged\x08\x08\x7f \xc2\x9b2J caf\xc3\xa9\t\x1b[8mhidden\x1b[0m\n")
SHOWN = ("step 1 \x1b[32mok\x1b[0m\n"
         "\\x1b]0;pwned\\x07\\x1b]52;c;cm0gLXJmIH4=\\x07\\x1b]8;;https://evil.example/\\x1b\\link"
         "\\x1b]8;;\\x1b\\\n"
         "10%\r20%\r\\x1b[1A\\x1b[2Kforged\\x08\\x08\\x7f \\x9b2J café\t\\x1b[8mhidden\x1b[0m\n")
ERROR = "the command exited 1: \x1b]0;pwned\x07\x1b[2J\rforged"


def _workspace(tmp_path: Path) -> Path:
    ws = tmp_path / "ws"
    workspace = Workspace(ws)
    workspace.create_job(JobRecord(name="j", status=JobStatus.FAILED, backend="process", exit_code=1,
                                   error=ERROR))
    log = workspace.job_dir("j").std_log
    log.parent.mkdir(parents=True, exist_ok=True)
    log.write_bytes(LOG)
    return ws


def _runner(ws: Path, *args: str) -> str:
    result = CliRunner().invoke(app, ["--workspace", str(ws), "job", *args])
    assert result.exception is None or isinstance(result.exception, SystemExit), result.output
    return result.stdout


def _no_escape_but_sgr(text: str) -> None:
    assert text.replace("\x1b[", "").count("\x1b") == 0
    for sequence in ("\x1b[1A", "\x1b[2K", "\x1b[8m", "\x07", "\x08", "\x7f", "\x9b"):
        assert sequence not in text


def test_job_stream_prints_the_log_terminal_safe_with_its_colours(tmp_path: Path) -> None:
    out = _runner(_workspace(tmp_path), "stream", "--name", "j")
    assert out.startswith("RunId: j\n" + SHOWN)
    _no_escape_but_sgr(out)
    assert "Error: the command exited 1: \\x1b]0;pwned\\x07\\x1b[2J\\x0dforged" in out  # the summary's


def test_job_show_and_tsv_show_a_stored_error_escaped(tmp_path: Path) -> None:
    ws = _workspace(tmp_path)
    for args, carriage_return in (((), "\\x0d"), (("-o", "tsv"), "\\r")):  # tsv's own escape for \r
        out = _runner(ws, "show", "--name", "j", *args)
        assert f"\\x1b]0;pwned\\x07\\x1b[2J{carriage_return}forged" in out
        assert "\x1b]" not in out and "\r" not in out and "\x07" not in out


def test_the_python_api_stream_prints_it_terminal_safe(tmp_path: Path,
                                                        capsys: pytest.CaptureFixture[str]) -> None:
    ops = JobOperations(Workspace(_workspace(tmp_path)))
    assert ops.stream("j", raise_on_failure=False).status == "Failed"
    assert capsys.readouterr().out == SHOWN
    given: list[bytes] = []
    ops.stream("j", given.append, raise_on_failure=False)
    assert b"".join(given) == LOG  # an echo of the caller's own gets the bytes as they are


@pytest.mark.parametrize("buffered", [True, False])
def test_terminal_echo_writes_utf8_and_prints_its_held_tail_on_close(buffered: bool) -> None:
    raw = io.BytesIO()
    stream = io.TextIOWrapper(raw, encoding="ascii") if buffered else io.StringIO()
    with TerminalEcho(stream) as echo:
        echo("caf\xc3".encode("latin-1"))
        echo(b"\xa9 \x1b[3")
        echo(b"1mred \x1b")
    text = raw.getvalue().decode() if buffered else stream.getvalue()  # type: ignore[attr-defined]
    assert text == "café \x1b[31mred \\x1b"


def test_a_logged_warning_naming_a_file_a_job_made_is_escaped() -> None:
    record = logging.LogRecord("runner.jobs.run", logging.WARNING, __file__, 1,
                               "outputs.d: 1 entry stays in its folder: %s", ("a\x1b]0;t\x07\rb",), None)
    assert _CliFormatter().format(record) == ("warning: outputs.d: 1 entry stays in its folder: "
                                              "a\\x1b]0;t\\x07\\x0db")
