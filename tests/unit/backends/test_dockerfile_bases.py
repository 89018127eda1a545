"""``runner.backends.dockerfile``: the images a Dockerfile makes the classic builder fetch (every ``FROM``
that is not ``scratch`` or an earlier stage, every ``COPY --from=<image>``), read as the engine reads them:
global ``ARG`` defaults substituted, ``--platform``, stage names (any case), line continuations, comments,
parser directives (``# escape=```), lowercase instructions, quotes. Pure: no file, no engine."""

from __future__ import annotations

from pathlib import Path

import pytest

from runner.backends.dockerfile import ImageUse, images_used
from runner.errors import BackendError

SOURCE = Path("/ctx/Dockerfile")


def _images(text: str) -> list[tuple[str, int]]:
    return [(use.image, use.line) for use in images_used(text, SOURCE)]


def test_a_plain_from() -> None:
    assert images_used("FROM rocker/tidyverse:latest\nRUN echo hi\n", SOURCE) == [
        ImageUse(image="rocker/tidyverse:latest", line=1, instruction="FROM")]


def test_global_arg_defaults_are_substituted_in_both_spellings() -> None:
    text = ("ARG REPO=runner\n"
            "ARG NAME=\"busybox\"\n"
            "ARG IMAGE=${REPO}/$NAME\n"
            "ARG TAG=latest OTHER=x\n"
            "FROM ${IMAGE}:$TAG\n"
            "FROM $REPO/python:${MISSING:-3.11}\n"
            "FROM runner/tool:${TAG:+v1}${MISSING:+v2}${MISSING-}\n")
    assert _images(text) == [("runner/busybox:latest", 5), ("runner/python:3.11", 6), ("runner/tool:v1", 7)]


def test_an_arg_declared_inside_a_stage_does_not_reach_a_later_from() -> None:
    text = "FROM runner/busybox:latest\nARG TAG=nope\nFROM runner/python:${TAG:-3.11}\n"
    assert _images(text) == [("runner/busybox:latest", 1), ("runner/python:3.11", 3)]


def test_an_unset_arg_is_empty_as_the_engine_makes_it() -> None:
    assert _images("ARG SUFFIX\nFROM runner/busybox${SUFFIX}:latest\n") == [("runner/busybox:latest", 2)]


def test_an_arg_without_default_naming_the_whole_image_is_one_error_at_its_line() -> None:
    with pytest.raises(BackendError) as caught:
        images_used("# base image\nARG BASE\nFROM ${BASE}\n", SOURCE)
    err = caught.value
    assert err.where is not None and err.where.file == SOURCE and err.where.line == 3
    assert "FROM names no image" in err.message and "'BASE'" in err.message
    assert err.hint is not None and "ARG BASE=" in err.hint


def test_platform_flag_and_stage_names() -> None:
    text = ("FROM --platform=linux/amd64 runner/python:3.11 AS Build\n"
            "RUN true\n"
            "from build as final\n"
            "FROM BUILD\n"
            "FROM later\n"  # a stage named after this line: an image here
            "FROM runner/busybox:latest AS later\n"
            "FROM scratch\n")
    uses = images_used(text, SOURCE)
    assert [(u.image, u.line, u.platform) for u in uses] == [
        ("runner/python:3.11", 1, "linux/amd64"), ("later", 5, None), ("runner/busybox:latest", 6, None)]


def test_a_platform_naming_an_unknown_variable_is_left_unknown() -> None:
    uses = images_used("FROM --platform=$BUILDPLATFORM runner/busybox:latest\n", SOURCE)
    assert [(u.image, u.platform) for u in uses] == [("runner/busybox:latest", None)]


def test_continuations_comments_and_blank_lines_keep_the_instructions_line() -> None:
    text = ("# syntax=docker/dockerfile:1\n"
            "\n"
            "  # an indented comment\n"
            "FROM \\\n"
            "  # a comment inside the continuation\n"
            "\n"
            "  runner/busybox:latest \\  \n"
            "  AS base\n"
            "RUN echo \\\n"
            "  FROM not/an-image:1\n"
            "FROM base\n")
    assert _images(text) == [("runner/busybox:latest", 4)]


def test_the_escape_directive_changes_the_continuation_character() -> None:
    text = "# escape=`\nFROM `\n  runner/busybox:latest\nRUN dir c:\\\nFROM runner/python:3.11\n"
    assert _images(text) == [("runner/busybox:latest", 2), ("runner/python:3.11", 5)]


def test_a_directive_after_a_comment_is_only_a_comment() -> None:
    text = "# a comment\n# escape=`\nFROM runner/busybox:latest `\nRUN true\n"
    with pytest.raises(BackendError) as caught:  # ` is no continuation: FROM has a stray word
        images_used(text, SOURCE)
    assert caught.value.where is not None and caught.value.where.line == 3


def test_a_byte_order_mark_and_crlf_line_ends() -> None:
    assert _images("\ufeffFROM runner/busybox:latest\r\nRUN true\r\n") == [("runner/busybox:latest", 1)]


def test_quotes_are_removed_as_the_engine_does() -> None:
    assert _images("FROM \"runner/busybox:latest\"\nFROM 'runner/python:3.11'\n") == [
        ("runner/busybox:latest", 1), ("runner/python:3.11", 2)]


def test_copy_from_an_image_counts_but_not_from_a_stage_or_an_index() -> None:
    text = ("FROM runner/busybox:latest AS tools\n"
            "FROM runner/python:3.11\n"
            "COPY --from=tools /bin/busybox /x\n"
            "COPY --from=0 /bin/busybox /y\n"
            "copy --chown=1:1 --from=some/image:2 /a /b\n"
            "COPY --from=TOOLS /bin/busybox /z\n")
    assert [(u.image, u.line, u.instruction) for u in images_used(text, SOURCE)] == [
        ("runner/busybox:latest", 1, "FROM"), ("runner/python:3.11", 2, "FROM"),
        ("some/image:2", 5, "COPY --from")]


def test_a_from_the_engine_would_refuse_is_one_error_not_a_guess() -> None:
    for text, line in (("FROM runner/busybox:latest # comment\n", 1), ("\nFROM\n", 2),
                       ("FROM a AS\n", 1), ("FROM a BS b\n", 1)):
        with pytest.raises(BackendError) as caught:
            images_used(text, SOURCE)
        assert caught.value.where is not None and caught.value.where.line == line, text
        assert "FROM [--platform=PLATFORM] IMAGE [AS NAME]" in (caught.value.hint or "")


def test_a_name_that_is_no_image_name_after_substitution_is_one_error() -> None:
    with pytest.raises(BackendError) as caught:
        images_used("ARG TAG=Latest!\nFROM runner/busybox:${TAG}\n", SOURCE)
    assert "'runner/busybox:Latest!'" in caught.value.message
    assert "not a valid image name" in caught.value.message
    assert caught.value.where is not None and caught.value.where.line == 2


def test_a_substitution_the_engine_may_read_otherwise_is_refused() -> None:
    with pytest.raises(BackendError) as caught:
        images_used("ARG V=3.11.4\nFROM runner/python:${V%.*}\n", SOURCE)
    assert "${V%.*}" in caught.value.message and caught.value.where is not None


def test_a_required_arg_that_is_unset_is_one_error() -> None:
    with pytest.raises(BackendError) as caught:
        images_used("ARG BASE\nFROM ${BASE:?needed}\n", SOURCE)
    assert "'BASE'" in caught.value.message and "needed" in caught.value.message


def test_an_unterminated_quote_is_one_error() -> None:
    with pytest.raises(BackendError) as caught:
        images_used("FROM \"runner/busybox:latest\n", SOURCE)
    assert "quote" in caught.value.message


def test_the_same_image_twice_is_listed_once_at_its_first_line() -> None:
    text = "FROM runner/busybox:latest\nFROM runner/busybox:latest\nCOPY --from=runner/busybox:latest a b\n"
    assert _images(text) == [("runner/busybox:latest", 1)]


def test_an_empty_dockerfile_names_nothing() -> None:
    assert images_used("# nothing here\n\n", SOURCE) == []
