"""``runner.backends.dockerfile.urls_fetched``: the sources a Dockerfile's ``ADD`` makes the engine fetch from
outside this machine (``http(s)://``, any ``scheme://``, a git remote ``git@host:path``, ``repo.git#ref``),
in every form (flags such as ``--checksum`` and ``--keep-git-dir``, the JSON array, beside a heredoc,
continuations, lowercase), with the variables the stage sets (``ARG``, ``ENV``, a global ``ARG`` it
redeclares) substituted; a source that only a variable the Dockerfile does not set could make a URL is
listed too (the base image's ENV may set it). ``ADD`` of a local path or archive, ``COPY``, ``RUN curl`` and
a local ``ONBUILD ADD`` fetch nothing here. The refusal names the line, the URL with its secrets masked, why
and how to fix. Pure: no file, no engine."""

from __future__ import annotations

from pathlib import Path

import pytest

from runner.backends.dockerfile import Fetch, fetch_refused, urls_fetched
from runner.errors import BackendError

SOURCE = Path("/ctx/Dockerfile")
BASE = "FROM runner/busybox:latest\n"


def _urls(text: str) -> list[tuple[str, int]]:
    return [(fetch.source, fetch.line) for fetch in urls_fetched(text, SOURCE)]


@pytest.mark.parametrize(("add", "url"), [
    ("ADD https://example.com/a.tar.gz /opt/", "https://example.com/a.tar.gz"),
    ("ADD http://example.com/a /a", "http://example.com/a"),
    ("add HTTPS://Example.com/x /x", "HTTPS://Example.com/x"),
    ("ADD git@github.com:moby/buildkit.git /src", "git@github.com:moby/buildkit.git"),
    ("ADD https://github.com/moby/buildkit.git#v0.10.1 /src", "https://github.com/moby/buildkit.git#v0.10.1"),
    ("ADD ssh://git@example.com/x.git /src", "ssh://git@example.com/x.git"),
    ("ADD git://example.com/x.git /src", "git://example.com/x.git"),
    ("ADD --checksum=sha256:24454f830cdb571e2c4ad15481119c43b3cafd48dd869a9b2945d1036d1dc68d "
     "https://example.com/a /a", "https://example.com/a"),
    ("ADD --keep-git-dir=true https://github.com/moby/buildkit.git#v0.10.1 /buildkit",
     "https://github.com/moby/buildkit.git#v0.10.1"),
    ("ADD --chown=1:1 --chmod=644 --link local.txt https://example.com/b /dst/", "https://example.com/b"),
    ('ADD ["https://example.com/a b", "/x"]', "https://example.com/a b"),
    ('ADD --chown=1:1 ["local.txt", "https://example.com/c", "/dst/"]', "https://example.com/c"),
    ("ADD \"https://example.com/q\" '/x'", "https://example.com/q"),
    ("ADD <<EOF https://example.com/h /dst/\nhello\nEOF", "https://example.com/h"),
])
def test_each_form_of_add_url_is_found_at_its_line(add: str, url: str) -> None:
    assert _urls(f"# comment\n{BASE}{add}\nRUN true\n") == [(url, 3)]


def test_a_continued_add_is_found_at_its_first_line_with_either_escape() -> None:
    assert _urls(f"{BASE}\nADD \\\n  # comment\n  https://example.com/x \\\n  /x\n") == [
        ("https://example.com/x", 3)]
    assert _urls(f"# escape=`\n{BASE}ADD `\n  https://example.com/y `\n  /y\n") == [
        ("https://example.com/y", 3)]


def test_variables_the_stage_sets_are_substituted() -> None:
    text = ("ARG GLOBAL=https://example.com/global\n"
            f"{BASE}"
            "ARG GLOBAL\n"                                  # a redeclared global ARG: its default
            "ADD ${GLOBAL} /g\n"
            "ARG VERSION=1.2\n"
            "ADD https://example.com/v${VERSION}.tgz /v\n"
            "ENV SITE=https://example.com\n"
            "ADD $SITE/e.tgz /e\n"
            "ENV MIRROR https://mirror.example.com/x\n"      # the legacy ENV form
            "ADD ${MIRROR} /m\n"
            "ARG SITE=./local\n"                             # an ENV wins over an ARG of its name
            "ADD ${SITE}/f /f\n"
            "ARG MAYBE\n"
            "ADD ${MAYBE:-https://example.com/default} /d\n")
    assert _urls(text) == [("https://example.com/global", 4), ("https://example.com/v1.2.tgz", 6),
                           ("https://example.com/e.tgz", 8), ("https://mirror.example.com/x", 10),
                           ("https://example.com/f", 12), ("${MAYBE:-https://example.com/default}", 14)]


def test_a_new_stage_starts_with_no_variables() -> None:
    text = f"{BASE}ARG U=https://example.com/x\nADD $U /x\n{BASE}ADD files/$U /y\n"
    assert _urls(text) == [("https://example.com/x", 3)]


def test_a_stage_from_an_earlier_one_keeps_its_env_not_its_args() -> None:
    text = ("FROM runner/busybox:latest AS Base\n"
            "ENV URL=https://example.com/e\n"
            "ARG A=https://example.com/a\n"
            "FROM base\n"
            "ADD $URL /x\n"
            "ADD $A /y\n")
    assert urls_fetched(text, SOURCE) == [Fetch("https://example.com/e", 5), Fetch("$A", 6, ("A",))]


def test_a_source_only_an_unset_variable_could_make_a_url_is_listed_with_it() -> None:
    text = ("ARG URL=https://example.com/x\n"
            f"{BASE}"
            "ADD $URL /x\n"                     # a global ARG not redeclared: unset in the stage
            "ARG SRC\n"
            "ADD ${SRC}.tar /y\n"
            "ENV FROM_BASE=$HOME_URL/a\n"
            "ADD $FROM_BASE /z\n")
    assert urls_fetched(text, SOURCE) == [Fetch("$URL", 3, ("URL",)), Fetch("${SRC}.tar", 5, ("SRC",)),
                                          Fetch("$FROM_BASE", 7, ("HOME_URL",))]


def test_a_url_with_an_unset_variable_inside_is_a_url() -> None:
    assert urls_fetched(f"{BASE}ADD https://example.com/$FILE /x\n", SOURCE) == [
        Fetch("https://example.com/$FILE", 2)]


@pytest.mark.parametrize("text", [
    f"{BASE}ADD app.tar.gz /opt/\n",
    f"{BASE}ADD --chown=1:1 ./src /src\n",
    f'{BASE}ADD ["a b.txt", "/x"]\n',
    f"{BASE}ADD files/$NAME /x\n",                        # an unset variable after a folder: a path
    f"{BASE}ARG LOCAL=data.tgz\nADD ${{LOCAL}} /x\n",
    f"{BASE}ADD local.txt https://example.com/not-a-source\n",  # the destination is no source
    f"{BASE}ADD <<EOF /dst/file\nhttps://example.com/in-the-heredoc\nEOF\n",
    f"{BASE}COPY https://example.com/x /x\n",               # COPY never fetches (the engine refuses it)
    f"{BASE}RUN curl -fLo /x https://example.com/x\n",      # the build's RUN has no network
    f"{BASE}ONBUILD ADD app.tgz /x\n",                      # a local trigger (a URL: test_dockerfile_onbuild)
    "ADD https://example.com/x /x\n",                      # before any FROM: the engine refuses it
    f"{BASE}ENV BROKEN=${{X%.*}}\nADD data.tgz /x\n",       # a value not read: only an unknown variable
])
def test_local_sources_and_other_instructions_fetch_nothing(text: str) -> None:
    assert urls_fetched(text, SOURCE) == []


def test_the_refusal_names_the_line_the_url_why_and_how_to_fix() -> None:
    [fetch] = urls_fetched(f"{BASE}\nADD https://example.com/a.tgz /opt/\n", SOURCE)
    err = fetch_refused(fetch, SOURCE)
    assert isinstance(err, BackendError)
    assert err.where is not None and err.where.file == SOURCE and err.where.line == 3
    text = err.render()
    assert text.startswith(f"{SOURCE}:3: the build's ADD would fetch 'https://example.com/a.tgz' from "
                           "outside this machine (nothing is fetched from outside it unless "
                           "RUNNER_ALLOW_PULL=1)\n"
                           "  hint: download it into the build context and COPY it from there"), text
    assert "RUNNER_ALLOW_PULL=1" in (err.hint or "")


def test_a_git_source_is_told_to_be_cloned() -> None:
    [fetch] = urls_fetched(f"{BASE}ADD git@github.com:moby/buildkit.git /src\n", SOURCE)
    assert (fetch_refused(fetch, SOURCE).hint or "").startswith("clone it into the build context")


def test_an_unset_variable_refusal_names_it_and_how_to_set_it() -> None:
    [fetch] = urls_fetched(f"{BASE}ARG SRC\nADD ${{SRC}}.tar /y\n", SOURCE)
    err = fetch_refused(fetch, SOURCE)
    assert err.where is not None and err.where.line == 3
    assert "'${SRC}.tar'" in err.message and "'SRC'" in err.message
    assert "ARG SRC=" in (err.hint or "") and "RUNNER_ALLOW_PULL=1" in (err.hint or "")


def test_secrets_in_the_url_are_masked() -> None:
    url = "https://user:hunter2@example.com/a.tgz?sv=2021-08-06&sig=SECRETSIG"
    [fetch] = urls_fetched(f"{BASE}ARG U={url}\nADD $U /a\n", SOURCE)
    text = fetch_refused(fetch, SOURCE).render()
    assert "hunter2" not in text and "SECRETSIG" not in text, text
    assert "'https://user:***@example.com/a.tgz?<query removed>'" in text


def test_a_malformed_source_holding_a_secret_is_masked_in_its_error() -> None:
    with pytest.raises(BackendError) as caught:
        urls_fetched(f"{BASE}ADD ${{U:-https://example.com/a?sig=SECRETSIG /a\n", SOURCE)
    assert "misses a '}'" in caught.value.message and "SECRETSIG" not in caught.value.render()
