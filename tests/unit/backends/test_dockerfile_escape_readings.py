"""``runner.backends.dockerfile``: a Dockerfile whose ``# escape=`` parser directive not every engine takes
(it follows another directive, ``# check=`` or ``# syntax=``, that an engine may not know and stop reading
directives at; or its value is more than one character) is read with BOTH escape characters (``\\`` and the
declared one): an ``ADD`` URL either reading finds is refused, and the images either reading names are all
checked (their union). A directive on the first line is taken by every engine: one reading. Pure."""

from __future__ import annotations

from pathlib import Path

import pytest

from runner.backends.dockerfile import fetch_refused, images_used, urls_fetched
from runner.backends.dockerfile_words import escape_characters
from runner.errors import BackendError

SOURCE = Path("/ctx/Dockerfile")
URL = "http://127.0.0.1:8765/x"


def test_an_add_swallowed_only_by_the_declared_escape_is_found() -> None:
    # this engine (20.10) does not know `check`: it keeps `\` and runs the ADD the ENV swallows with `
    text = f"# check=skip=all\n# escape=`\nFROM runner/busybox:latest\nENV X=y`\nADD {URL} /x\n"
    [fetch] = urls_fetched(text, SOURCE)
    assert (fetch.source, fetch.line, fetch.escape) == (URL, 5, "\\")
    err = fetch_refused(fetch, SOURCE)
    assert err.where is not None and err.where.line == 5
    assert f"would fetch '{URL}'" in err.message and "'\\' as its escape character" in err.message
    assert "first line" in (err.hint or "") and "RUNNER_ALLOW_PULL=1" in (err.hint or "")


def test_an_add_swallowed_only_by_the_backslash_is_found() -> None:
    # an engine that knows a directive this one does not reads ` and runs the ADD `\` would swallow
    text = f"# future=1\n# escape=`\nFROM runner/busybox:latest\nRUN echo \\\nADD {URL} /x\n"
    assert [(f.source, f.line) for f in urls_fetched(text, SOURCE)] == [(URL, 5)]


def test_a_multi_character_escape_value_is_read_both_ways() -> None:
    # older engines take its first character, newer ones refuse it
    text = f"# escape=`x\nFROM runner/busybox:latest\nENV X=y`\nADD {URL} /x\n"
    assert [(f.source, f.line) for f in urls_fetched(text, SOURCE)] == [(URL, 4)]


def test_the_images_of_both_readings_are_checked() -> None:
    text = ("# syntax=docker/dockerfile:1\n# escape=`\nFROM runner/busybox:latest\nRUN echo `\n"
            "FROM other/image:1\n")
    assert [(use.image, use.line) for use in images_used(text, SOURCE)] == [
        ("runner/busybox:latest", 3), ("other/image:1", 5)]


def test_a_first_line_escape_is_one_reading() -> None:
    text = f"# escape=`\n# check=skip=all\nFROM runner/busybox:latest\nENV X=y`\nADD {URL} /x\n"
    assert urls_fetched(text, SOURCE) == []
    assert escape_characters(text) == ("`",)


@pytest.mark.parametrize(("text", "readings"), [
    ("FROM runner/busybox:latest\n", ("\\",)),
    ("# escape=\\\nFROM runner/busybox:latest\n", ("\\",)),
    ("# a comment\n# escape=`\nFROM runner/busybox:latest\n", ("\\",)),  # every engine stops at it
    ("# check=skip=all\n# escape=`\nFROM runner/busybox:latest\n", ("`", "\\")),
    ("# syntax=docker/dockerfile:1\n# escape=`\nFROM runner/busybox:latest\n", ("`", "\\")),
    ("# future=1\n# escape=`\nFROM runner/busybox:latest\n", ("\\", "`")),
    ("\ufeff# escape=`x\nFROM runner/busybox:latest\n", ("\\", "`")),
])
def test_the_readings_each_engine_may_take(text: str, readings: tuple[str, ...]) -> None:
    assert escape_characters(text) == readings


def test_a_file_only_the_declared_escape_reads_is_refused_with_how_to_fix() -> None:
    text = "# syntax=docker/dockerfile:1\n# escape=`\nFROM `\n  runner/busybox:latest\n"
    with pytest.raises(BackendError) as caught:
        images_used(text, SOURCE)
    err = caught.value
    assert err.where is not None and err.where.line == 3
    assert "'\\' as its escape character" in err.message
    assert "first line" in (err.hint or "")
