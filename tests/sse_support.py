"""How a browser's EventSource reads a ``text/event-stream`` (the HTML standard's parser, the fields the
UI uses): for tests that check what a page would receive, not just the bytes sent."""

from __future__ import annotations

import re


def parse_event_stream(text: str) -> list[tuple[str, str]]:
    """(event, data) of each event an EventSource dispatches from ``text``: a line ends at CRLF, LF or a
    bare CR; a blank line dispatches; data lines are joined with LF; a line starting ``:`` is a comment."""
    events: list[tuple[str, str]] = []
    event, data = "", list[str]()  # the event being read: its name and data lines
    for line in re.split(r"\r\n|\r|\n", text):
        if not line:
            if data:
                events.append((event or "message", "\n".join(data)))
            event, data = "", []
            continue
        name, _, value = line.partition(":")
        value = value.removeprefix(" ")
        if name == "event":
            event = value
        elif name == "data":
            data.append(value)
    return events
