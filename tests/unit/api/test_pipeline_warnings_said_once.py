"""A pipeline streamed from Python says each warning once, in Python's words: ``create_or_update`` logs it
(``test_pipeline_warnings_told``), so the log it then prints (``stream=True``, or ``ml_client.jobs.stream``
after) leaves the pipeline's ``[pipeline] warning:`` lines out; a client that did not submit it prints them
in Python's words. ``runner job stream`` and an ``echo`` given get the log as it is (the CLI's words). The
replacement holds back only what may begin a warning's line, wherever the log's chunks are cut. Steps run
as host processes (``compute: local-process``); every file and workspace is in tmp_path."""

from __future__ import annotations

import logging
import re
import textwrap
from pathlib import Path

import pytest

from runner import MLClient, load_job
from runner.pipelines.warning_lines import SaidOnce, warning_line

CLI_FORMS = re.compile(r"`runner [a-z]|\brunner (?:job|model|data|component|environment|datastore|compute) "
                       r"[a-z]|(?<![\w/-])--[a-z]")
PIPELINE = """\
type: pipeline
settings: {default_compute: local-process}
jobs:
  a:
    type: command
    command: echo step-a-ran
    environment: {image: runner/busybox:latest}
    environment_variables: {DB_PASSWORD: hunter2}
"""
SECRET = "DB_PASSWORD look like secrets"


@pytest.fixture
def folder(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "p.yml").write_text(textwrap.dedent(PIPELINE))
    return tmp_path


def _logged(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [r.getMessage() for r in caplog.records
            if r.levelno >= logging.WARNING and SECRET in r.getMessage()]


def test_create_then_stream_says_each_warning_once(folder: Path, caplog: pytest.LogCaptureFixture,
                                                   capfd: pytest.CaptureFixture[str]) -> None:
    ml_client = MLClient(workspace_dir=folder / "ws")
    with caplog.at_level(logging.WARNING):
        job = ml_client.jobs.create_or_update(load_job("p.yml"), name="p1")
        ml_client.jobs.stream(job.name)
    out = capfd.readouterr().out
    assert "[a] step-a-ran" in out and "[pipeline] Completed" in out, out
    assert SECRET not in out, out  # told once, by the logger, in Python's words
    said = _logged(caplog)
    assert len(said) == 1 and not CLI_FORMS.search(said[0]), said
    assert any(SECRET in w for w in ml_client.workspace.get_job("p1").extra["warnings"])  # the record's

    other = MLClient(workspace_dir=folder / "ws")  # did not submit it: shows them, in Python's words
    other.jobs.stream("p1")
    again = [line for line in capfd.readouterr().out.splitlines() if SECRET in line]
    assert len(again) == 1 and "ml_client.datastores.create_or_update" in again[0], again
    assert not CLI_FORMS.search(again[0]), again


def test_a_streamed_create_says_each_warning_once(folder: Path, caplog: pytest.LogCaptureFixture,
                                                  capfd: pytest.CaptureFixture[str]) -> None:
    with caplog.at_level(logging.WARNING):
        MLClient(workspace_dir=folder / "ws").jobs.create_or_update(load_job("p.yml"), name="p2", stream=True)
    out = capfd.readouterr().out
    assert "[a] step-a-ran" in out and SECRET not in out, out
    assert len(_logged(caplog)) == 1


def test_an_echo_given_gets_the_log_as_it_is(folder: Path) -> None:
    ml_client = MLClient(workspace_dir=folder / "ws")
    ml_client.jobs.create_or_update(load_job("p.yml"), name="p3", stream=True, echo=lambda _: None)
    seen: list[bytes] = []
    ml_client.jobs.stream("p3", echo=seen.append)
    assert b"`runner datastore create`" in b"".join(seen)  # the log's own words


@pytest.mark.parametrize("size", [1, 2, 7, 64, 10_000])
def test_lines_are_replaced_wherever_the_chunks_are_cut(size: int) -> None:
    warnings = ["compute 'gpu' is not registered (`runner compute create --name gpu --type ray ...`)", "two"]
    log = (b"[pipeline] pipeline p: 1 step(s): a\n" + b"".join(map(warning_line, warnings)) +
           b"[a] [pipeline] warning: a step's own line\n[pipeline] warning: two and more\n[pipeline] warn")
    for told, expected in ((True, b""), (False, warning_line(
            "compute 'gpu' is not registered (`ml_client.compute.create_or_update({'name': 'gpu', 'type': "
            "'ray', ...})`)") + warning_line("two"))):
        seen: list[bytes] = []
        echo = SaidOnce(seen.append, warnings, told=told)
        for at in range(0, len(log), size):
            echo(log[at:at + size])
        echo.close()
        assert b"".join(seen) == (b"[pipeline] pipeline p: 1 step(s): a\n" + expected +
                                  b"[a] [pipeline] warning: a step's own line\n"
                                  b"[pipeline] warning: two and more\n[pipeline] warn")
