"""A Ray node's log file (``runner.log``, sent back with the result) keeps every line: one holding a name
that is not valid UTF-8 (a lone surrogate from ``os.fsdecode``) is written with it escaped, not dropped by
logging's ``UnicodeEncodeError`` (which prints "--- Logging error ---" and loses the line)."""

from __future__ import annotations

import logging
import os
from pathlib import Path

import pytest

from runner.jobs.node import node_log_handler


def test_a_line_holding_a_name_that_is_not_utf8_is_kept(tmp_path: Path,
                                                         capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "runner.log"
    handler = node_log_handler(path)  # the handler main() installs
    logger = logging.getLogger("tests.node_log_handler")
    logger.addHandler(handler)
    logger.propagate = False
    try:
        logger.warning("upload of %s failed", os.fsdecode(b"bad\xff.txt"))
        logger.warning("the line after it")
    finally:
        logger.removeHandler(handler)
        handler.close()
    lines = path.read_bytes().decode("utf-8").splitlines()  # the file stays UTF-8 text
    messages = [line.split(": ", 1)[1] for line in lines]
    assert messages == ["upload of bad\\udcff.txt failed", "the line after it"]
    assert lines[0].split()[2:4] == ["WARNING", "tests.node_log_handler:"]
    assert "Logging error" not in capsys.readouterr().err
