"""A pipeline's warnings in its log, for a Python caller who streams it: each said once, in the caller's
words.

    warning_line(warning)                  # b"[pipeline] warning: <warning>\\n": the orchestrator's line
    with said_once(echo, warnings, told=True) as shown:  # the log's warning lines left out
        run_pipeline(ws, name, echo=shown)

A pipeline's record keeps its warnings in the CLI's words, and its log (``runner.pipelines.orchestrate``)
holds a ``warning_line`` for each. ``ml_client.jobs.create_or_update`` logs each once, in Python's words
(``runner.jobs.python_words.tell``), before the pipeline runs; the log a Python caller then streams to its
terminal (``create_or_update(..., stream=True)``, ``ml_client.jobs.stream``) leaves those lines out
(``told``), or, for a pipeline this client did not submit, shows them in Python's words
(``runner.jobs.python_words.in_python``). Every other byte of the log is passed on as it is, as it comes:
only the bytes that may begin a warning's line are held back (at most one such line), until the next chunk
says whether they do. ``runner job stream`` and an ``echo`` a caller gives get the log as it is.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from contextlib import contextmanager

from runner.jobs.python_words import in_python
from runner.jobs.supervise import Echo

_PREFIX = b"[pipeline] warning: "


def warning_line(warning: str) -> bytes:
    """A pipeline's warning as its log's line."""
    return _PREFIX + f"{warning}\n".encode()


class SaidOnce:
    """An ``Echo`` passing a pipeline's log on with each line of ``warnings`` replaced: left out when the
    caller was ``told`` them, else in Python's words (see the module docstring)."""

    def __init__(self, echo: Echo, warnings: Iterable[str], *, told: bool) -> None:
        self._echo = echo
        self._lines = {warning_line(w): b"" if told else warning_line(in_python(w)) for w in warnings}
        self._longest = max(map(len, self._lines), default=0)
        self._held = b""

    def __call__(self, chunk: bytes) -> None:
        if not self._lines:
            self._echo(chunk)
            return
        data, out = self._held + chunk, bytearray()
        while (hit := self._first(data)) is not None:
            at, line = hit
            out += data[:at] + self._lines[line]
            data = data[at + len(line):]
        keep = self._may_begin_a_line(data)
        out += data[:keep]
        self._held = data[keep:]
        if out:
            self._echo(bytes(out))

    def close(self) -> None:
        """Pass on what was held back (the log ended inside what might have been a warning's line)."""
        held, self._held = self._held, b""
        if held:
            self._echo(held)

    def _first(self, data: bytes) -> tuple[int, bytes] | None:
        found = [(at, line) for line in self._lines if (at := data.find(line)) >= 0]
        return min(found) if found else None

    def _may_begin_a_line(self, data: bytes) -> int:
        """Where the end of ``data`` that may begin a warning's line starts (``len(data)``: none)."""
        at = data.find(_PREFIX[:1], max(0, len(data) - self._longest + 1))
        while at >= 0:
            if any(line.startswith(data[at:]) for line in self._lines):
                return at
            at = data.find(_PREFIX[:1], at + 1)
        return len(data)


@contextmanager
def said_once(echo: Echo, warnings: Iterable[str], *, told: bool) -> Iterator[Echo]:
    """``echo`` with ``warnings``' lines replaced (``SaidOnce``); what it held back passed on at the end."""
    shown = SaidOnce(echo, warnings, told=told)
    try:
        yield shown
    finally:
        shown.close()
