"""Run the examples of the documentation pages (docs/**/*.md, README.md), page by page.

The convention, for whoever writes a page:

* Every fenced code block has a language. ``bash``/``sh``/``shell`` blocks run with bash
  (``set -euo pipefail``); ``python``/``py`` blocks are exec'd; ``pycon`` blocks are doctests;
  ``console`` blocks are ``$ command`` lines whose output (stdout and stderr, as a terminal shows them)
  must match the lines below them (a line ``...`` matches any lines, ``...`` inside a line matches any
  text). A console command that exits non-zero must be followed by ``$ echo $?`` showing its status.
  Every other language (yaml, json, text, toml, ...) is data.
* A data block with ``title="path"`` (pymdownx.superfences shows it as the block's caption) is
  written to that path, so the page can show the file the next command reads.
* ``<!-- norun: why -->`` on the line right before a fence: that block is not run; the reason is
  required and is reported as a skip.
* ``<!-- needs: docker, fuse, azurite -->`` on the line right before a fence: the block runs only where
  those services are (the test's ``require`` callback skips locally and fails under CI, as
  tests/conftest.py does for the other tests).
* ``<!-- setup:bash`` ... ``-->`` (or ``setup:python``): a hidden block, run in order but not shown
  (the MkDocs hook strips these comments, and HTML comments never show anyway). It may carry a needs
  list: ``<!-- setup:bash needs: docker``.
* The blocks of one page run in order, in one fresh directory: files persist from block to block;
  shell blocks share exported variables and the current directory; python/pycon blocks share one
  namespace, like a notebook. Pages do not share anything.
"""

from __future__ import annotations

import doctest
import os
import re
import shlex
import subprocess
import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

SHELL = {"bash", "sh", "shell"}
PYTHON = {"python", "py", "python3"}
DOCTEST = {"pycon"}
CONSOLE = {"console"}
RUNNABLE = SHELL | PYTHON | DOCTEST | CONSOLE

_FENCE = re.compile(r"^(?P<indent>[ \t]*)(?P<fence>`{3,}|~{3,})[ \t]*(?P<info>[^`]*)$")
_NORUN = re.compile(r"^[ \t]*<!--\s*norun\b\s*:?\s*(?P<why>.*?)\s*-->\s*$")
_NEEDS = re.compile(r"^[ \t]*<!--\s*needs\s*:\s*(?P<what>[\w ,.-]+?)\s*-->\s*$")
_SETUP_OPEN = re.compile(r"^[ \t]*<!--\s*setup:(?P<lang>\w+)(?:\s+needs:\s*(?P<what>[\w ,.-]+?))?\s*$")
_MARKER_ANY = re.compile(r"<!--\s*(norun|setup|needs)\b")
_ATTR = re.compile(r"""(\w[\w-]*)=(?:"([^"]*)"|'([^']*)'|(\S+))""")


class DocExampleError(Exception):
    """A page breaks the convention (not an example failing: that is an AssertionError)."""


@dataclass
class Block:
    page: Path
    line: int  # 1-based line of the opening fence (or of the setup comment)
    lang: str
    code: str
    attrs: dict[str, str] = field(default_factory=dict)
    norun: str | None = None  # the reason, when marked not runnable
    hidden: bool = False  # a <!-- setup:... --> block
    needs: tuple[str, ...] = ()  # services from <!-- needs: ... -->

    @property
    def where(self) -> str:
        return f"{self.page}:{self.line}"

    @property
    def runnable(self) -> bool:
        return self.lang in RUNNABLE and self.norun is None


def _services(text: str | None) -> tuple[str, ...]:
    return tuple(w.strip() for w in (text or "").split(",") if w.strip())


def parse_page(path: Path) -> list[Block]:
    """All fenced blocks and setup comments of a Markdown page, in order."""
    lines = path.read_text(encoding="utf-8").splitlines()
    blocks: list[Block] = []
    pending_norun: str | None = None
    pending_needs: tuple[str, ...] = ()
    i = 0
    while i < len(lines):
        line = lines[i]
        setup, norun, needs, fence = (_SETUP_OPEN.match(line), _NORUN.match(line), _NEEDS.match(line),
                                      _FENCE.match(line))
        if (pending_norun or pending_needs) and not fence:
            raise DocExampleError(f"{path}:{i}: a norun/needs marker must be the line right before a fence")
        if needs:
            pending_needs = _services(needs["what"])
        elif setup:
            end = next((j for j in range(i + 1, len(lines)) if lines[j].strip() == "-->"), None)
            if end is None:
                raise DocExampleError(f"{path}:{i + 1}: unclosed <!-- setup:{setup['lang']} comment")
            blocks.append(Block(path, i + 1, setup["lang"], "\n".join(lines[i + 1:end]) + "\n", hidden=True,
                                needs=_services(setup["what"])))
            i = end
        elif norun:
            if not norun["why"]:
                raise DocExampleError(f"{path}:{i + 1}: <!-- norun: ... --> needs a reason")
            pending_norun = norun["why"]
        elif _MARKER_ANY.search(line):
            raise DocExampleError(f"{path}:{i + 1}: malformed doc-test marker: {line.strip()}")
        elif fence:
            block, i = _fenced_block(path, lines, i, fence)
            block.norun, block.needs = pending_norun, pending_needs
            blocks.append(block)
            pending_norun, pending_needs = None, ()
        i += 1
    if pending_norun or pending_needs:
        raise DocExampleError(f"{path}: a norun/needs marker must be the line right before a fence "
                              "(none follows)")
    return blocks


def _fenced_block(path: Path, lines: list[str], i: int, fence: re.Match[str]) -> tuple[Block, int]:
    """The block opened at line ``i`` and the index of its closing fence."""
    indent, mark, info = fence["indent"], fence["fence"], fence["info"].strip()
    lang = info.split(None, 1)[0].lstrip("{.").rstrip("}") if info else ""
    if not lang:
        raise DocExampleError(f"{path}:{i + 1}: a fence without a language (use text for plain output)")
    attrs = {m[1]: m[2] or m[3] or m[4] for m in _ATTR.finditer(info)}
    closing = re.compile(rf"^[ \t]*{re.escape(mark[0])}{{{len(mark)},}}[ \t]*$")
    end = next((j for j in range(i + 1, len(lines)) if closing.match(lines[j])), None)
    if end is None:
        raise DocExampleError(f"{path}:{i + 1}: unclosed fence")
    body = [ln[len(indent):] if ln.startswith(indent) else ln.lstrip() for ln in lines[i + 1:end]]
    return Block(path, i + 1, lang.lower(), "\n".join(body) + "\n", attrs), end


class PageRunner:
    """Runs one page's blocks in order in ``workdir``."""

    def __init__(self, workdir: Path, env: dict[str, str], timeout: float = 300.0,
                 require: Callable[[str], None] | None = None) -> None:
        self.require = require or (lambda service: None)  # skip or fail when a service is missing
        self.workdir = workdir
        self.env = env
        self.timeout = timeout
        self.namespace: dict[str, object] = {"__name__": "__docs__"}
        self.state = workdir.parent / f".{workdir.name}-shell-state"  # exported variables and cwd
        self.skipped: list[str] = []
        self.ran = 0

    def run(self, blocks: list[Block]) -> None:
        for block in blocks:
            if block.norun is not None:
                if block.lang in RUNNABLE:
                    self.skipped.append(f"{block.where} ({block.lang}): {block.norun}")
                continue
            for service in block.needs:
                self.require(service)
            if block.lang in SHELL:
                self._shell(block, block.code)
            elif block.lang in PYTHON:
                self._python(block)
            elif block.lang in DOCTEST:
                self._doctest(block)
            elif block.lang in CONSOLE:
                self._console(block)
            elif "title" in block.attrs:
                target = self.workdir / block.attrs["title"]
                target.parent.mkdir(parents=True, exist_ok=True)
                target.write_text(block.code, encoding="utf-8")
            self.ran += block.runnable

    def _script(self, code: str, *, errexit: bool = True, status_in: int = 0) -> str:
        state = shlex.quote(str(self.state))
        return (f"set -uo pipefail{' -e' if errexit else ''}\n[ -f {state} ] && source {state}\n"
                f"(exit {status_in})\n{code}\n"
                f"__status=$?\n{{ export -p; printf 'cd %q\\n' \"$PWD\"; }} > {state}\nexit $__status\n")

    def _shell(self, block: Block, code: str) -> str:
        proc = subprocess.run(["bash", "-c", self._script(code)], cwd=self.workdir, env=self.env, text=True,
                              capture_output=True, timeout=self.timeout, stdin=subprocess.DEVNULL)
        if proc.returncode != 0:
            raise AssertionError(f"{block.where}: bash block exited {proc.returncode}\n--- block\n{code}"
                                 f"--- stdout\n{proc.stdout}--- stderr\n{proc.stderr}")
        return proc.stdout

    def _python(self, block: Block) -> None:
        cwd, environ = os.getcwd(), dict(os.environ)
        os.chdir(self.workdir)
        os.environ.clear()
        os.environ.update(self.env)
        try:
            # blank lines first: a traceback points at the page's own line numbers
            exec(compile("\n" * (block.line) + block.code, str(block.page), "exec"), self.namespace)
        finally:
            os.chdir(cwd)
            os.environ.clear()
            os.environ.update(environ)

    def _doctest(self, block: Block) -> None:
        test = doctest.DocTestParser().get_doctest(block.code, self.namespace, block.where, str(block.page),
                                                   block.line)
        runner = doctest.DocTestRunner(optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE)
        out: list[str] = []
        cwd, environ = os.getcwd(), dict(os.environ)
        os.chdir(self.workdir)
        os.environ.clear()
        os.environ.update(self.env)
        try:
            runner.run(test, out=out.append, clear_globs=False)
        finally:
            os.chdir(cwd)
            os.environ.clear()
            os.environ.update(environ)
        if runner.failures:
            raise AssertionError("".join(out))

    def _console(self, block: Block) -> None:
        status = 0
        for command, expected in _console_steps(block.code):
            if status != 0 and command.strip() != "echo $?":
                raise AssertionError(f"{block.where}: the command before `{command.strip()}` exited "
                                     f"{status}; a failing console command must be followed by `$ echo $?`")
            proc = subprocess.run(["bash", "-c", self._script(command, errexit=False, status_in=status)],
                                  cwd=self.workdir, env=self.env, text=True, stdout=subprocess.PIPE,
                                  stderr=subprocess.STDOUT, timeout=self.timeout, stdin=subprocess.DEVNULL)
            status = proc.returncode
            if not output_matches(expected, proc.stdout):
                raise AssertionError(f"{block.where}: output of `{command.strip()}` differs (exit {status})\n"
                                     f"--- expected\n{expected}--- actual\n{proc.stdout}")
        if status != 0:
            raise AssertionError(f"{block.where}: the last command exited {status}; "
                                 "follow it with `$ echo $?`")


def _console_steps(code: str) -> list[tuple[str, str]]:
    """``$ cmd`` lines (a line ending in ``\\`` continues the command) and the output under each."""
    steps: list[list[str]] = []
    continued = False
    for line in code.splitlines():
        if line.startswith("$ ") and not continued:
            steps.append([line[2:] + "\n", ""])
        elif not steps:
            raise DocExampleError(f"a console block must start with a '$ ' line: {line!r}")
        elif continued:
            steps[-1][0] += line + "\n"
        else:
            steps[-1][1] += line + "\n"
        continued = line.endswith("\\") and not steps[-1][1]
    return [(command, output) for command, output in steps]


def output_matches(expected: str, actual: str) -> bool:
    """Line by line, trailing spaces ignored; a line ``...`` matches any lines (also none), ``...``
    within a line any text on that line."""
    def lines(text: str) -> list[str]:
        return [ln.rstrip() for ln in text.strip("\n").splitlines()]

    pattern = "".join(r"(?:[^\n]*\n)*" if ln == "..." else
                      r"[^\n]*".join(re.escape(part) for part in ln.split("...")) + "\n"
                      for ln in lines(expected))
    return re.fullmatch(pattern, "".join(ln + "\n" for ln in lines(actual))) is not None


def page_env(home: Path, extra: dict[str, str] | None = None) -> dict[str, str]:
    """The environment the examples see: this interpreter's scripts first on PATH, HOME in the page's
    directory (``~`` is a temporary folder), and nothing of the developer's own workspace or settings."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("RUNNER_")}
    env["PATH"] = os.pathsep.join([str(Path(sys.executable).parent), env.get("PATH", "")])
    env["HOME"] = str(home)
    env["NO_COLOR"] = "1"
    env["TERM"] = "dumb"
    env["COLUMNS"] = "100"
    env.update(extra or {})
    return env
