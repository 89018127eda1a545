"""``runner.ui.events.sse``: a job's log text never ends a server-sent event's line itself. An EventSource
ends a line at CRLF, LF or a bare CR, so a bare CR inside a data line would let the job write its own
``event:`` and ``data:`` lines (a fake ``status`` event turning a failed job's badge "Completed")."""

from __future__ import annotations

import pytest
from sse_support import parse_event_stream

from runner.ui.events import sse

INJECTION = ('line1\nfake\revent: status\rdata: {"status":"Completed","terminal":true}\r\revent: log\r'
             'data: injected')


def test_a_bare_carriage_return_in_log_text_is_no_line_of_the_stream() -> None:
    sent = sse("log", INJECTION, 42)
    assert "\r" not in sent
    assert parse_event_stream(sent) == [("log", INJECTION.replace("\r", "\n"))]


@pytest.mark.parametrize(("text", "data"), [
    ("a\r\nb", "a\nb"),  # CRLF: one line break
    ("a\rb", "a\nb"),
    ("a\r", "a\n"),
    ("\r", "\n"),
    ("a\n\rb", "a\n\nb"),  # LF then CR: two breaks
    ("plain", "plain"),
])
def test_every_line_break_is_sent_as_lf(text: str, data: str) -> None:
    sent = sse("log", text)
    assert "\r" not in sent
    assert parse_event_stream(sent) == [("log", data)]
    assert sent == "event: log\n" + "".join(f"data: {line}\n" for line in data.split("\n")) + "\n"
