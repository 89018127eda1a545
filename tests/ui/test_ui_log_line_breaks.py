"""A job's log cannot write events into its own live-log stream: a job (a host process) whose last line,
without a newline, holds bare carriage returns spelling ``event: status`` / ``data: ...Completed`` ends
Failed, and the stream of ``/jobs/<name>/events`` an EventSource reads says Failed, once, with the
job's text as log lines."""

from __future__ import annotations

import http.client
import json
from pathlib import Path

from sse_support import parse_event_stream
from ui_support import LiveUI, submit_job, wait_for

LAST = r'fake\revent: status\rdata: {"status":"Completed","terminal":true}\r\revent: log\rdata: injected'


def _body(live: LiveUI, path: str) -> bytes:
    """The whole event stream (it ends once the job ended and its log is drained), de-chunked."""
    host, port = live.url.removeprefix("http://").split(":")
    conn = http.client.HTTPConnection(host, int(port), timeout=60)
    try:
        conn.request("GET", path, headers=live.bearer)  # a script's way to carry the token
        response = conn.getresponse()
        assert response.status == 200, response.status
        return response.read()
    finally:
        conn.close()


def test_a_jobs_carriage_returns_write_no_event(live_ui: LiveUI, tmp_path: Path) -> None:
    submit_job(live_ui.client, tmp_path, "crlf", f"""
        command: |
          printf 'line1\\n{LAST}'; exit 3
        """)
    wait_for(live_ui.client, "crlf", {"Failed", "Completed"})
    body = _body(live_ui, "/jobs/crlf/events")
    assert b"\r" not in body, body
    events = parse_event_stream(body.decode())
    statuses = [json.loads(data)["status"] for event, data in events if event == "status"]
    assert statuses == ["Failed"], events
    assert [event for event, _ in events].count("end") == 1 and events[-1] == ("end", "Failed"), events
    log = "\n".join(data for event, data in events if event == "log")
    expected = LAST.replace(r"\r", "\n")
    assert log.endswith("line1\n" + expected), log
