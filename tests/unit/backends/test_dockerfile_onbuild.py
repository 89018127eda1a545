"""``runner.backends.dockerfile``: ``ONBUILD`` triggers run in a later build (one ``FROM`` the image), so a
Dockerfile's ``ONBUILD ADD <url>`` is refused as a fetch of its own (variables read as the later build
sees them: the stage's final ``ENV``s, the triggers' own ``ENV``/``ARG``), and its ``ONBUILD COPY
--from=<image>`` is an image it uses. ``triggers_scan`` reads a base image's ``Config.OnBuild`` the same
way, its ``ENV`` (``Config.Env``) substituted. Pure."""

from __future__ import annotations

from pathlib import Path

import pytest

from runner.backends.dockerfile import (
    Fetch,
    ImageUse,
    fetch_refused,
    images_used,
    triggers_scan,
    urls_fetched,
)

SOURCE = Path("/ctx/Dockerfile")
BASE = "FROM runner/busybox:latest\n"
URL = "https://example.com/x"


def _fetched(text: str) -> list[tuple[str, int, str]]:
    return [(f.source, f.line, f.instruction) for f in urls_fetched(text, SOURCE)]


@pytest.mark.parametrize("trigger", [
    f"ONBUILD ADD {URL} /x",
    f"onbuild add {URL} /x",
    f"ONBUILD ADD --chown=1:1 {URL} /x",
    f'ONBUILD ADD ["{URL}", "/x"]',
    f"ONBUILD \\\n  ADD {URL} \\\n  /x",
])
def test_an_onbuild_add_url_is_a_fetch(trigger: str) -> None:
    assert _fetched(f"{BASE}{trigger}\nRUN true\n") == [(URL, 2, "ONBUILD ADD")]


def test_the_later_build_s_variables_are_substituted() -> None:
    text = (f"{BASE}ONBUILD ADD $LATE /a\nENV LATE={URL}\n"        # the stage's final ENV
            "ONBUILD ENV T=https://example.com/t\nONBUILD ADD ${T} /t\n"
            "ARG A=https://example.com/a\nONBUILD ADD $A /y\n"       # an ARG is not in the image
            "ENV L=local.tgz\nONBUILD ADD $L /z\n")
    later = "ONBUILD ADD"
    assert urls_fetched(text, SOURCE) == [Fetch(URL, 2, instruction=later),
                                          Fetch("https://example.com/t", 5, instruction=later),
                                          Fetch("$A", 7, ("A",), instruction=later)]


@pytest.mark.parametrize("trigger", ["ONBUILD ADD app.tgz /x", "ONBUILD COPY . /app",
                                     f"ONBUILD RUN curl -o /x {URL}", "ONBUILD COPY --from=0 /a /b"])
def test_local_triggers_fetch_nothing(trigger: str) -> None:
    assert urls_fetched(f"{BASE}{trigger}\n", SOURCE) == []
    assert [use.image for use in images_used(f"{BASE}{trigger}\n", SOURCE)] == ["runner/busybox:latest"]


def test_an_onbuild_copy_from_an_image_is_an_image_use() -> None:
    text = f"{BASE}ONBUILD COPY --from=other/image:1 /a /b\n"
    assert images_used(text, SOURCE)[1] == ImageUse("other/image:1", 2, "ONBUILD COPY --from")


def test_the_refusal_says_it_would_run_in_a_later_build() -> None:
    [fetch] = urls_fetched(f"{BASE}ONBUILD ADD {URL}?sig=SECRETSIG /x\n", SOURCE)
    err = fetch_refused(fetch, SOURCE)
    text = err.render()
    assert text.startswith(f"{SOURCE}:2: the build's ONBUILD ADD would fetch 'https://example.com/x?<query "
                           "removed>' from outside this machine"), text
    assert "later build" in text and "SECRETSIG" not in text and "RUNNER_ALLOW_PULL=1" in text


def test_a_base_image_s_triggers_are_read_with_its_env() -> None:
    uses, fetches = triggers_scan([f"ADD {URL}   /x", "ARG Z", "ADD $U /u", "ADD $L /l",
                                   "COPY --from=other/image:1 /a /b", "COPY --from=0 /a /b"],
                                  ["PATH=/bin", "U=https://example.com/u", "L=local.tgz"])
    assert [(f.source, f.line) for f in fetches] == [(URL, 1), ("https://example.com/u", 3)]
    assert [(use.image, use.line) for use in uses] == [("other/image:1", 5)]


def test_a_trigger_variable_the_base_image_does_not_set_could_be_a_url() -> None:
    _, fetches = triggers_scan(["ADD $SRC /x", "ADD files/$SRC /y"], [])
    assert [(f.source, f.line, f.unset) for f in fetches] == [("$SRC", 1, ("SRC",))]
