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
  blank lines (inside a continuation too), lowercase instructions, quotes, a byte-order mark, CRLF.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import NoReturn

from runner.errors import BackendError, SourceLocation
from runner.spec.image_ref import REFERENCE

FROM_FORM = "FROM [--platform=PLATFORM] IMAGE [AS NAME]"
_DIRECTIVE = re.compile(r"#\s*([a-zA-Z][a-zA-Z0-9]*)\s*=\s*(.+?)\s*")
_DIRECTIVES = ("escape", "syntax", "check")
_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*|[0-9]+")
_MODIFIERS = (":-", ":+", ":?", "-", "+", "?")


@dataclass(frozen=True)
class ImageUse:
    """An image the build fetches unless it is local: ``instruction`` (``FROM``, ``COPY --from``) at
    ``line`` (1-based, where the instruction starts) names it; ``platform``: ``FROM --platform``'s."""

    image: str
    line: int
    instruction: str
    platform: str | None = None


def images_used(text: str, source: Path | None = None) -> list[ImageUse]:
    """Every image ``text`` (a Dockerfile, read from ``source``) names, once each, first use first."""
    escape = _escape_character(text)
    global_args: dict[str, str | None] = {}
    stages: list[str] = []  # lowercased stage names ("" for an unnamed stage), in order
    uses: dict[tuple[str, str | None], ImageUse] = {}
    for line, instruction in _instructions(text, escape):
        def fail(message: str, hint: str | None = None, line: int = line) -> NoReturn:
            raise BackendError(message, hint=hint, where=SourceLocation(source, line))

        keyword, _, rest = instruction.partition(" ")
        keyword = keyword.upper()
        if keyword == "ARG" and not stages:
            for word in _split_words(rest, escape):
                name, equals, value = word.partition("=")
                global_args[name] = _Word(value, escape, global_args, fail).expand() if equals else None
        elif keyword == "FROM":
            use, stage = _from(rest.split(), line, escape, global_args, stages, fail)
            stages.append(stage)
            if use is not None:
                uses.setdefault((use.image, use.platform), use)
        elif keyword == "COPY":
            image = _copy_from(rest.split(), stages, fail)
            if image is not None:
                uses.setdefault((image, None), ImageUse(image=image, line=line, instruction="COPY --from"))
    return list(uses.values())


def _from(words: list[str], line: int, escape: str, args: dict[str, str | None], stages: list[str],
          fail: Callable[..., NoReturn]) -> tuple[ImageUse | None, str]:
    """The image one ``FROM`` fetches (``None``: scratch, an earlier stage) and its stage's name."""
    flags = {k: v for k, _, v in (w.removeprefix("--").partition("=") for w in words if w.startswith("--"))}
    rest = [w for w in words if not w.startswith("--")]
    if not (len(rest) == 1 or (len(rest) == 3 and rest[1].lower() == "as")):
        fail(f"the Dockerfile's FROM is not understood: 'FROM {' '.join(words)}'",
             hint=f"write {FROM_FORM}, with a comment on a line of its own")
    word = _Word(rest[0], escape, args, fail)
    image = word.expand()
    unset = ", ".join(f"'{name}'" for name in dict.fromkeys(word.unset))
    stage = rest[2].lower() if len(rest) == 3 else ""
    if not image:
        fail(f"the Dockerfile's FROM names no image: {unset or 'the value'} is not set (no build args "
             "are passed: only an ARG before the first FROM, with a default, sets one)",
             hint=f"give it a default before the first FROM: ARG {(word.unset or ['BASE'])[0]}=<image>")
    if image.lower() in stages or image == "scratch":
        return None, stage
    if not REFERENCE.fullmatch(image):
        fail(f"the Dockerfile's FROM names '{_short(image)}', which is not a valid image name"
             + (f" ({unset} not set)" if unset else ""),
             hint="write [registry/]name[:tag] in lowercase, e.g. runner/python:3.11 (ARGs before the "
                  "first FROM give the values substituted)")
    platform = None
    if "platform" in flags:
        platform_word = _Word(flags["platform"], escape, args, fail)
        platform = platform_word.expand()
        platform = platform if platform and not platform_word.unset else None
    return ImageUse(image=image, line=line, instruction="FROM", platform=platform), stage


def _copy_from(words: list[str], stages: list[str], fail: Callable[..., NoReturn]) -> str | None:
    """The image a ``COPY --from=<image>`` fetches; ``None`` for a stage (name or index) or no --from."""
    for word in words:
        if not word.startswith("--"):
            break
        name, _, value = word[2:].partition("=")
        if name.lower() != "from" or value.isdigit() or value.lower() in stages:
            continue
        if "$" in value or not REFERENCE.fullmatch(value):
            fail(f"the Dockerfile's COPY --from names '{_short(value)}', which is neither an earlier "
                 "stage nor a valid image name",
                 hint="name an earlier stage (FROM IMAGE AS NAME) or an image, without variables")
        return value
    return None


def _escape_character(text: str) -> str:
    """The ``# escape=`` parser directive's character (``\\`` without one): directives lead the file."""
    for raw in text.removeprefix("\ufeff").split("\n"):
        found = _DIRECTIVE.fullmatch(raw.rstrip("\r"))
        if not found or found.group(1).lower() not in _DIRECTIVES:
            break
        if found.group(1).lower() == "escape" and found.group(2) in ("`", "\\"):
            return found.group(2)
    return "\\"


def _instructions(text: str, escape: str) -> Iterator[tuple[int, str]]:
    """(first line, instruction joined over its continuations): comments and blank lines dropped."""
    lines = [raw.rstrip("\r") for raw in text.removeprefix("\ufeff").split("\n")]
    continued = re.compile(re.escape(escape) + r"[ \t]*$")
    index = 0
    while index < len(lines):
        start, line = index + 1, lines[index].lstrip(" \t")
        index += 1
        if not line or line.startswith("#"):
            continue
        parts: list[str] = []
        while (found := continued.search(line)) is not None:
            parts.append(line[:found.start()])
            line = ""
            while index < len(lines):
                index += 1
                following = lines[index - 1]
                if following.strip(" \t") and not following.lstrip(" \t").startswith("#"):
                    line = following
                    break
        parts.append(line)
        joined = "".join(parts).strip(" \t")
        if joined:
            yield start, " ".join(joined.split(None, 1))


def _split_words(text: str, escape: str) -> list[str]:
    """``text`` split at blanks outside quotes (quotes and escapes kept, for ``_Word``)."""
    words: list[str] = []
    current: list[str] = []
    quote: str | None = None
    index = 0
    while index < len(text):
        char = text[index]
        if quote is None and char in " \t":
            if current:
                words.append("".join(current))
                current = []
        else:
            current.append(char)
            if char == escape and index + 1 < len(text):
                current.append(text[index + 1])
                index += 1
            elif quote is None and char in "'\"":
                quote = char
            elif char == quote:
                quote = None
        index += 1
    return [*words, "".join(current)] if current else words


class _Word:
    """One word as the engine's shell lexer processes it: quotes removed, escapes applied, variables
    substituted from ``env`` (``None``: declared without a value); ``unset``: the variables read unset."""

    def __init__(self, text: str, escape: str, env: dict[str, str | None],
                 fail: Callable[..., NoReturn]) -> None:
        self.text, self.escape, self.env, self.fail = text, escape, env, fail
        self.pos = 0
        self.unset: list[str] = []

    def expand(self, stop: str | None = None) -> str:
        out: list[str] = []
        while self.pos < len(self.text):
            char = self.text[self.pos]
            if char == stop:
                self.pos += 1
                return "".join(out)
            self.pos += 1
            if char == self.escape:
                out.append(self.text[self.pos:self.pos + 1])
                self.pos += 1
            elif char in "'\"":
                out.append(self._quoted(char))
            elif char == "$":
                out.append(self._dollar())
            else:
                out.append(char)
        if stop:
            self.fail(f"the Dockerfile's '{_short(self.text)}' misses a '{stop}'")
        return "".join(out)

    def _quoted(self, quote: str) -> str:
        out: list[str] = []
        while self.pos < len(self.text):
            char = self.text[self.pos]
            self.pos += 1
            if char == quote:
                return "".join(out)
            if quote == '"' and char == self.escape and self.text[self.pos:self.pos + 1] in ('"', "$", char):
                out.append(self.text[self.pos])
                self.pos += 1
            elif quote == '"' and char == "$":
                out.append(self._dollar())
            else:
                out.append(char)
        self.fail(f"the Dockerfile's '{_short(self.text)}' misses its closing quote ({quote})")

    def _dollar(self) -> str:
        braced = self.text.startswith("{", self.pos)
        found = _NAME.match(self.text, self.pos + braced)
        if not braced:
            if not found:
                return "$"
            self.pos = found.end()
            return self._value(found.group())
        end = self.text.find("}", self.pos)
        raw = self.text[self.pos - 1:end + 1] if end >= 0 else self.text[self.pos - 1:]
        modifier = next((m for m in _MODIFIERS if found and self.text.startswith(m, found.end())), None)
        if not found or (modifier is None and not self.text.startswith("}", found.end())):
            self.fail(f"the Dockerfile's substitution '{_short(raw)}' is not one every engine reads "
                      "the same way", hint="write $VAR, ${VAR}, ${VAR:-default} or ${VAR:+value}")
        name = found.group()
        if modifier is None:
            self.pos = found.end() + 1
            return self._value(name)
        self.pos = found.end() + len(modifier)
        word = self.expand(stop="}")
        value = self.env.get(name)
        present = bool(value) if modifier.startswith(":") else value is not None
        if modifier.endswith("-"):
            return value if present and value is not None else word
        if modifier.endswith("+"):
            return word if present else ""
        if not present:
            self.fail(f"the Dockerfile's ARG '{name}' is required and not set: {word or raw}",
                      hint=f"give it a default before the first FROM: ARG {name}=<value>")
        return value or ""

    def _value(self, name: str) -> str:
        value = self.env.get(name)
        if value is None:
            self.unset.append(name)
        return value or ""


def _short(text: str) -> str:
    return text if len(text) <= 80 else text[:77] + "..."
