"""The images a Dockerfile makes the engine's (classic) builder fetch, read as the engine reads them, so that
a build can be refused before it starts when one is not local (nothing is pulled unless allowed). Pure.

- every ``FROM`` image, but ``scratch`` and an earlier stage's name (``FROM x AS name`` ... ``FROM NAME``:
  stage names are case-insensitive), and every ``COPY --from=<image>`` (not a stage's name or index);
- ``ARG``s before the first ``FROM`` give the values substituted in ``FROM`` (``$VAR``, ``${VAR}``,
  ``${VAR:-word}``, ``${VAR:+word}``, ``${VAR:?message}`` and their forms without ``:``); no build args are
  passed, so an ``ARG`` without a default is unset and substitutes as empty, as the engine does. A ``FROM``
  that then names no image, or no valid one, is one error; so is a substitution the engine's versions read
  differently (``${VAR%...}``) and a ``COPY --from`` holding ``$`` (expanded by some versions, not others):
  the safe side is to refuse, never to guess an image the build may then fetch;
- ``FROM --platform=P``: ``P`` after substitution, or ``None`` when it uses a variable that is not set
  (``$BUILDPLATFORM``: the engine's own);
- line continuations (the escape character, ``\\`` or the ``# escape=``` parser directive's), comment and
  blank lines (inside a continuation too), lowercase instructions, quotes, a byte-order mark, CRLF
  (``runner.backends.dockerfile_words`` reads the words). A directive not every engine takes (not on the
  first line: an engine that does not know one before it stops reading directives) is read both ways, and
  what either reading finds counts (images: their union);
- ``ONBUILD`` triggers (they run in a later build FROM the image): ``ONBUILD ADD <url>`` is a fetch,
  ``ONBUILD COPY --from=<image>`` an image; ``triggers_scan`` reads a base image's triggers the same way.

And every source an ``ADD`` makes the engine fetch itself, from outside this machine whatever network the
build's ``RUN`` steps get (``urls_fetched``): a ``scheme://`` URL (``http(s)``, a git remote,
``repo.git#ref``) or ``git@host:path``, in the shell or JSON form, after its flags (``--checksum``,
``--keep-git-dir``, ...), beside a heredoc; the variables the stage sets (its ``ARG``s, a global ``ARG`` it
redeclares, its ``ENV``s, which win over an ``ARG``) substituted. A source that only a variable the
Dockerfile does not set could make a URL (the base image's ``ENV`` may set it) is listed too, with that
variable: the safe side again.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, replace
from pathlib import Path
from typing import NoReturn

from runner.backends.dockerfile_words import Word, escape_characters, instructions, short, split_words
from runner.errors import BackendError, SourceLocation
from runner.spec.image_ref import REFERENCE

FROM_FORM = "FROM [--platform=PLATFORM] IMAGE [AS NAME]"
# what no local path starts with: a URL's scheme (http(s)://, git://, ssh://, ...) or a git remote (git@host:)
_REMOTE = re.compile(r"[A-Za-z][A-Za-z0-9+.\-]*://|[A-Za-z0-9._~-]+@[^/\s]*:")
_GIT = re.compile(r"(?i)(?:git|ssh|git\+[a-z]+)://|[^:/]+@[^/]*:|[^#?]*\.git(?:[#?/]|$)")
_UNSET = "https://unset/"  # a variable the Dockerfile does not set, in an ADD source: could it make a URL?
PULL_ALLOWED = "RUNNER_ALLOW_PULL=1"
_FIRST_LINE = "put the '# escape=' parser directive on the Dockerfile's first line (every engine takes it)"


@dataclass(frozen=True)
class ImageUse:
    """An image the build fetches unless it is local: ``instruction`` (``FROM``, ``COPY --from``) at
    ``line`` (1-based, where the instruction starts) names it; ``platform``: ``FROM --platform``'s."""

    image: str
    line: int
    instruction: str
    platform: str | None = None


@dataclass(frozen=True)
class Fetch:
    """A source an ``ADD`` at ``line`` makes the engine fetch from outside this machine: after substitution
    (the URL, not masked: show it through ``fetch_refused``), or as written when a variable the stage does
    not set is in it; ``unset``: those variables, when only they could make it a URL; ``instruction``:
    ``ONBUILD ADD`` for a trigger (it fetches in a later build); ``escape``: the escape character of the
    reading that found it, when that is not the one the ``# escape=`` directive declares to this engine."""

    source: str
    line: int
    unset: tuple[str, ...] = ()
    instruction: str = "ADD"
    escape: str = ""


def images_used(text: str, source: Path | None = None) -> list[ImageUse]:
    """Every image ``text`` (a Dockerfile, read from ``source``) names, once each, first use first."""
    return scan(text, source)[0]


def urls_fetched(text: str, source: Path | None = None) -> list[Fetch]:
    """Every source ``text``'s ``ADD``s fetch from outside this machine, in order."""
    return scan(text, source)[1]


def fetch_refused(fetch: Fetch, source: Path | None) -> BackendError:
    """The one error for an ``ADD`` that would fetch ``fetch`` (pulling not allowed): at its line, its
    secrets masked, why and how to fix."""
    shown = short(fetch.source)
    why = f"nothing is fetched from outside it unless {PULL_ALLOWED}"
    where = SourceLocation(source, fetch.line)
    later = " in a later build FROM this image" if fetch.instruction != "ADD" else ""
    reading = (f" (reading the Dockerfile with '{fetch.escape}' as its escape character, as an engine "
               "may: its '# escape=' parser directive is not on the first line)" if fetch.escape else "")
    first = f"{_FIRST_LINE}, " if fetch.escape else ""
    if fetch.unset:
        names = ", ".join(f"'{name}'" for name in fetch.unset)
        set_it = (f"set it in the stage (ENV {fetch.unset[0]}=<path>)" if later else
                  f"set it after the stage's FROM (ARG {fetch.unset[0]}=<path in the build context>)")
        return BackendError(
            f"the build's {fetch.instruction} source '{shown}' could be a URL fetched from outside this "
            f"machine{later}: {names} {'is' if len(fetch.unset) == 1 else 'are'} not set in its stage of the "
            f"Dockerfile (the base image's ENV may set it), and {why}{reading}",
            hint=f"{first}{set_it}, write the path itself, or set {PULL_ALLOWED}", where=where)
    get = ("clone it into the build context (git clone) and COPY it from there" if _GIT.match(fetch.source)
           else "download it into the build context and COPY it from there (ADD still unpacks a local "
                "archive)")
    return BackendError(f"the build's {fetch.instruction} would fetch '{shown}' from outside this machine"
                        f"{later} ({why}){reading}", hint=f"{first}{get}, or set {PULL_ALLOWED}", where=where)


def scan(text: str, source: Path | None = None) -> tuple[list[ImageUse], list[Fetch]]:
    """``images_used`` and ``urls_fetched``: with each escape character an engine may read ``text`` with
    (``escape_characters``), every image and fetch any reading finds."""
    return _every_reading(text, lambda escape: _read(text, source, escape))


def triggers_scan(triggers: Iterable[str], env: Iterable[str]) -> tuple[list[ImageUse], list[Fetch]]:
    """The ``COPY --from`` images and ``ADD`` fetches of an image's ``ONBUILD`` triggers (``Config.OnBuild``,
    run by a build FROM it, its ``Config.Env`` entries ``NAME=value`` set): ``line`` is the trigger's
    (1-based)."""
    text, entries = "\n".join(triggers), list(env)

    def read(escape: str) -> tuple[list[ImageUse], list[Fetch]]:
        stage = _Stage()
        for name, _, value in (entry.partition("=") for entry in entries):
            stage.values[name] = value
            stage.env_names.add(name)
        return _replay(list(instructions(text, escape)), stage, escape, None, "")
    return _every_reading(text, read)


def _every_reading(text: str, read: Callable[[str], tuple[list[ImageUse], list[Fetch]]]
                   ) -> tuple[list[ImageUse], list[Fetch]]:
    """``read``'s images and fetches with each escape ``text`` may be read with (the declared one first)."""
    uses: dict[tuple[str, str | None], ImageUse] = {}
    fetches: dict[tuple[int, str, str], Fetch] = {}
    declared, *others = escape_characters(text)
    for escape in (declared, *others):
        try:
            found_uses, found = read(escape)
        except BackendError as err:
            if escape == declared:
                raise
            raise BackendError(f"{err.message} (reading the Dockerfile with '{escape}' as its escape "
                               "character, as an engine may: its '# escape=' parser directive is not on the "
                               "first line)", hint=f"{_FIRST_LINE}; {err.hint}" if err.hint else _FIRST_LINE,
                               where=err.where) from None
        for use in found_uses:
            uses.setdefault((use.image, use.platform), use)
        for fetch in found:
            fetches.setdefault((fetch.line, fetch.source, fetch.instruction),
                               fetch if escape == declared else replace(fetch, escape=escape))
    return list(uses.values()), sorted(fetches.values(), key=lambda fetch: fetch.line)


def _failing(source: Path | None, line: int) -> Callable[..., NoReturn]:
    def fail(message: str, hint: str | None = None, line: int = line) -> NoReturn:
        raise BackendError(message, hint=hint, where=SourceLocation(source, line))
    return fail


def _read(text: str, source: Path | None, escape: str) -> tuple[list[ImageUse], list[Fetch]]:
    """``scan`` in one reading of ``text``: with ``escape`` as its escape character."""
    global_args: dict[str, str | None] = {}
    stages: list[str] = []  # lowercased stage names ("" for an unnamed stage), in order
    uses: dict[tuple[str, str | None], ImageUse] = {}
    fetches: list[Fetch] = []
    stage = _Stage()  # the variables the current stage sets
    named: dict[str, _Stage] = {}  # each stage's, by name (its ENVs: what a FROM NAME starts with)
    triggers: list[tuple[int, str]] = []  # the stage's ONBUILDs: run by a later build, with its final ENVs

    def run_triggers() -> None:
        later_uses, later_fetches = _replay(triggers, stage.child(), escape, source, "ONBUILD ")
        for use in later_uses:
            uses.setdefault((use.image, use.platform), use)
        fetches.extend(later_fetches)
        triggers.clear()

    for line, instruction in instructions(text, escape):
        fail = _failing(source, line)
        keyword, _, rest = instruction.partition(" ")
        keyword = keyword.upper()
        if keyword == "ARG" and not stages:
            for word in split_words(rest, escape):
                name, equals, value = word.partition("=")
                global_args[name] = Word(value, escape, global_args, fail).expand() if equals else None
        elif keyword == "FROM":
            run_triggers()
            use, name, base = _from(rest.split(), line, escape, global_args, stages, fail)
            stages.append(name)
            stage = named[base].child() if use is None and base in named else _Stage()
            named[name] = stage
            if use is not None:
                uses.setdefault((use.image, use.platform), use)
        elif keyword in ("ARG", "ENV") and stages:
            stage.declare(keyword, rest, escape, global_args)
        elif keyword == "ADD" and stages:
            for word in _add_sources(rest, escape):
                fetch = stage.fetch(word, line, escape, fail)
                if fetch is not None:
                    fetches.append(fetch)
        elif keyword == "COPY":
            image = _copy_from(rest.split(), stages, fail)
            if image is not None:
                uses.setdefault((image, None), ImageUse(image=image, line=line, instruction="COPY --from"))
        elif keyword == "ONBUILD" and stages:
            triggers.append((line, " ".join(rest.split(None, 1))))
    run_triggers()
    return list(uses.values()), fetches


def _replay(triggers: list[tuple[int, str]], stage: _Stage, escape: str, source: Path | None,
            prefix: str) -> tuple[list[ImageUse], list[Fetch]]:
    """The ``COPY --from`` images and ``ADD`` fetches of ``ONBUILD`` ``triggers`` (line, instruction), run in
    order from ``stage``'s variables (their ``ARG``s and ``ENV``s set as they go; a later build's stages and
    global ``ARG``s unknown); ``prefix``: for the instruction's name."""
    uses: list[ImageUse] = []
    fetches: list[Fetch] = []
    for line, instruction in triggers:
        fail = _failing(source, line)
        keyword, _, rest = instruction.partition(" ")
        keyword = keyword.upper()
        if keyword in ("ARG", "ENV"):
            stage.declare(keyword, rest, escape, {})
        elif keyword == "ADD":
            for word in _add_sources(rest, escape):
                fetch = stage.fetch(word, line, escape, fail)
                if fetch is not None:
                    fetches.append(replace(fetch, instruction=f"{prefix}ADD"))
        elif keyword == "COPY":
            image = _copy_from(rest.split(), [], fail)
            if image is not None:
                uses.append(ImageUse(image=image, line=line, instruction=f"{prefix}COPY --from"))
    return uses, fetches


def _from(words: list[str], line: int, escape: str, args: dict[str, str | None], stages: list[str],
          fail: Callable[..., NoReturn]) -> tuple[ImageUse | None, str, str]:
    """The image one ``FROM`` fetches (``None``: scratch, an earlier stage), its stage's name and what it
    names (lowercased)."""
    flags = {k: v for k, _, v in (w.removeprefix("--").partition("=") for w in words if w.startswith("--"))}
    rest = [w for w in words if not w.startswith("--")]
    if not (len(rest) == 1 or (len(rest) == 3 and rest[1].lower() == "as")):
        fail(f"the Dockerfile's FROM is not understood: 'FROM {' '.join(words)}'",
             hint=f"write {FROM_FORM}, with a comment on a line of its own")
    word = Word(rest[0], escape, args, fail)
    image = word.expand()
    unset = ", ".join(f"'{name}'" for name in dict.fromkeys(word.unset))
    stage = rest[2].lower() if len(rest) == 3 else ""
    if not image:
        fail(f"the Dockerfile's FROM names no image: {unset or 'the value'} is not set (no build args "
             "are passed: only an ARG before the first FROM, with a default, sets one)",
             hint=f"give it a default before the first FROM: ARG {(word.unset or ['BASE'])[0]}=<image>")
    if image.lower() in stages or image == "scratch":
        return None, stage, image.lower()
    if not REFERENCE.fullmatch(image):
        fail(f"the Dockerfile's FROM names '{short(image)}', which is not a valid image name"
             + (f" ({unset} not set)" if unset else ""),
             hint="write [registry/]name[:tag] in lowercase, e.g. runner/python:3.11 (ARGs before the "
                  "first FROM give the values substituted)")
    platform = None
    if "platform" in flags:
        platform_word = Word(flags["platform"], escape, args, fail)
        platform = platform_word.expand()
        platform = platform if platform and not platform_word.unset else None
    return ImageUse(image=image, line=line, instruction="FROM", platform=platform), stage, image.lower()


def _copy_from(words: list[str], stages: list[str], fail: Callable[..., NoReturn]) -> str | None:
    """The image a ``COPY --from=<image>`` fetches; ``None`` for a stage (name or index) or no --from."""
    for word in words:
        if not word.startswith("--"):
            break
        name, _, value = word[2:].partition("=")
        if name.lower() != "from" or value.isdigit() or value.lower() in stages:
            continue
        if "$" in value or not REFERENCE.fullmatch(value):
            fail(f"the Dockerfile's COPY --from names '{short(value)}', which is neither an earlier "
                 "stage nor a valid image name",
                 hint="name an earlier stage (FROM IMAGE AS NAME) or an image, without variables")
        return value
    return None


def _add_sources(rest: str, escape: str) -> list[str]:
    """An ``ADD``'s sources as written: its flags, the destination and heredoc markers left out."""
    while (flag := re.match(r"--\S*\s*", rest)) is not None:
        rest = rest[flag.end():]
    words = split_words(rest, escape)
    if rest.startswith("["):
        try:
            array = json.loads(rest)
        except ValueError:
            array = None
        if isinstance(array, list) and all(isinstance(word, str) for word in array):
            words = array
    return [word for word in words[:-1] if not word.startswith("<<")]


class _GiveUp(Exception):
    pass


def _give_up(*_: object, **__: object) -> NoReturn:
    raise _GiveUp


class _Stage:
    """The variables a build stage sets, as its ``ADD`` substitutes them: ``None`` for one it declares with
    no value, or sets from a variable it does not set (``origins``: those)."""

    def __init__(self) -> None:
        self.values: dict[str, str | None] = {}
        self.origins: dict[str, tuple[str, ...]] = {}
        self.env_names: set[str] = set()

    def declare(self, keyword: str, rest: str, escape: str, global_args: dict[str, str | None]) -> None:
        """An ``ARG`` or ``ENV`` in the stage (a value not read the same way by every engine: not set)."""
        words = split_words(rest, escape)
        if keyword == "ENV" and words and "=" not in words[0]:  # the legacy form: ENV NAME the value
            pairs: list[tuple[str, str | None]] = [(words[0], rest.split(None, 1)[1] if len(words) > 1
                                                    else None)]
        else:
            pairs = [(name, value if equals else None) for name, equals, value in
                     (word.partition("=") for word in words)]
        for name, value in pairs:
            if keyword == "ARG" and name in self.env_names:  # an ENV wins over an ARG of its name
                continue
            if keyword == "ENV":
                self.env_names.add(name)
            self.origins.pop(name, None)
            if value is None:  # ARG NAME: a global ARG's default (no build args are passed)
                self.values[name] = global_args.get(name) if keyword == "ARG" else None
                continue
            lookup = _Lookup(self, "")
            try:
                expanded: str | None = Word(value, escape, lookup, _give_up).expand()
            except _GiveUp:
                expanded, lookup.read = None, [name]
            self.values[name] = None if lookup.read else expanded
            if lookup.read:
                self.origins[name] = tuple(dict.fromkeys(lookup.read))

    def child(self) -> _Stage:
        """A stage ``FROM`` this one: its ``ENV``s are in the image it starts from, its ``ARG``s are not."""
        child = _Stage()
        child.env_names = set(self.env_names)
        child.values = {name: self.values.get(name) for name in self.env_names}
        child.origins = {name: self.origins[name] for name in self.env_names if name in self.origins}
        return child

    def fetch(self, word: str, line: int, escape: str, fail: Callable[..., NoReturn]) -> Fetch | None:
        """What ``ADD``'s source ``word`` fetches from outside this machine (``None``: it is local)."""
        possible = _Lookup(self, _UNSET)
        value = Word(word, escape, possible, fail).expand()
        if not _REMOTE.match(value):
            return None
        if not possible.read:
            return Fetch(value, line)
        try:  # a URL even with the variables the stage does not set empty?
            certain = _REMOTE.match(Word(word, escape, _Lookup(self, ""), _give_up).expand())
        except _GiveUp:
            certain = None
        return Fetch(word, line, () if certain else tuple(dict.fromkeys(possible.read)))


class _Lookup(Mapping[str, "str | None"]):
    """A stage's variables for ``Word``: one it does not set reads as ``stand_in``, and ``read`` lists
    the variables not set that were read (behind one set from them, too)."""

    def __init__(self, stage: _Stage, stand_in: str) -> None:
        self.stage, self.stand_in = stage, stand_in
        self.read: list[str] = []

    def __getitem__(self, name: str) -> str | None:
        value = self.stage.values.get(name)
        if value is None:
            self.read.extend(self.stage.origins.get(name, (name,)))
            return self.stand_in
        return value

    def __iter__(self) -> Iterator[str]:
        return iter(self.stage.values)

    def __len__(self) -> int:
        return len(self.stage.values)
