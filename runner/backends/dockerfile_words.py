"""A Dockerfile's instructions and words as the engine's (classic) builder reads them, for
``runner.backends.dockerfile``. Pure.

- ``escape_character``: the ``# escape=`` parser directive's (``\\`` without one; directives lead the file);
  ``escape_characters``: every escape an engine may read the file with (one that does not know a directive
  before ``# escape=`` stops reading directives there);
- ``instructions``: each instruction at its first line, joined over its continuations, comment and blank
  lines (inside a continuation too) dropped; a byte-order mark, CRLF;
- ``split_words``: words at blanks outside quotes; ``Word``: one word with its quotes removed, escapes
  applied and variables substituted (``$VAR``, ``${VAR}``, ``${VAR:-word}``, ``${VAR:+word}``,
  ``${VAR:?message}`` and their forms without ``:``); any other substitution is one error (engines read
  ``${VAR%...}`` differently);
- ``short``: a word as a message shows it (a URL's secrets masked, at most 80 characters).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator, Mapping
from typing import NoReturn

from runner.url_secrets import without_secrets

_DIRECTIVE = re.compile(r"#\s*([a-zA-Z][a-zA-Z0-9]*)\s*=\s*(.+?)\s*")
_DIRECTIVES = ("escape", "syntax", "check")
_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*|[0-9]+")
_MODIFIERS = (":-", ":+", ":?", "-", "+", "?")


def escape_character(text: str) -> str:
    """The ``# escape=`` parser directive's character (``\\`` without one): directives lead the file."""
    for raw in text.removeprefix("\ufeff").split("\n"):
        found = _DIRECTIVE.fullmatch(raw.rstrip("\r"))
        if not found or found.group(1).lower() not in _DIRECTIVES:
            break
        if found.group(1).lower() == "escape" and found.group(2) in ("`", "\\"):
            return found.group(2)
    return "\\"


def escape_characters(text: str) -> tuple[str, ...]:
    """The escape characters engines may read ``text`` with, ``escape_character``'s first: the ``# escape=``
    directive is taken by every engine on the first line only (with one character); after another
    directive (``# check=``, ``# syntax=``, one not yet known) an engine that does not know that one stops
    reading directives and keeps ``\\``, one that knows it takes the escape (the first character, for an
    older engine): both readings."""
    readings = [escape_character(text)]
    for index, raw in enumerate(text.removeprefix("\ufeff").split("\n")):
        found = _DIRECTIVE.fullmatch(raw.rstrip("\r"))
        if not found:
            break
        if found.group(1).lower() == "escape":
            if index == 0 and found.group(2) in ("`", "\\"):
                return (found.group(2),)
            readings += [found.group(2)[0], "\\"]
    return tuple(char for char in dict.fromkeys(readings) if char in ("`", "\\"))


def instructions(text: str, escape: str) -> Iterator[tuple[int, str]]:
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


def split_words(text: str, escape: str) -> list[str]:
    """``text`` split at blanks outside quotes (quotes and escapes kept, for ``Word``)."""
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


class Word:
    """One word as the engine's shell lexer processes it: quotes removed, escapes applied, variables
    substituted from ``env`` (``None``: declared without a value); ``unset``: the variables read unset."""

    def __init__(self, text: str, escape: str, env: Mapping[str, str | None],
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
            self.fail(f"the Dockerfile's '{short(self.text)}' misses a '{stop}'")
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
        self.fail(f"the Dockerfile's '{short(self.text)}' misses its closing quote ({quote})")

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
            self.fail(f"the Dockerfile's substitution '{short(raw)}' is not one every engine reads "
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


def short(text: str) -> str:
    """``text`` as a message shows it: a URL's secrets masked, at most 80 characters."""
    text = without_secrets(text)
    return text if len(text) <= 80 else text[:77] + "..."
