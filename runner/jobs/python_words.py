"""A job's recorded texts in the Python API's words, for a caller of ``ml_client.jobs``.

    in_python(text)                   # each CLI command the text names, as the ml_client call
    failed_error(record, log_path)    # what ``stream`` raises for a Failed or Canceled job

A job's record is written once, by whichever process ran it, in the CLI's words (``runner job show``
prints it): its error says ``runner job stream --name j`` (``runner.jobs.run``, ``runner.jobs.ray_follow``),
a missing image's ``runner environment create --name N --image IMAGE`` (``runner.backends.docker``). A
Python caller reads the same text with each such command as its call (``JobFailedError.python_message``,
``str(err)``; the logged warnings of ``JobOperations.create_or_update``).
"""

from __future__ import annotations

import re
from pathlib import Path

from runner.errors import JobFailedError
from runner.workspace.db import JobRecord

_CALLS = (
    (re.compile(r"`runner job stream --name ([^`\s]+)`"), r"`ml_client.jobs.stream('\1')`"),
    (re.compile(r"`runner job show --name ([^`\s]+)`"), r"`ml_client.jobs.get('\1')`"),
    (re.compile(r"`runner environment create --name ([^`\s]+) --image ([^`\s]+)`"),
     r"`ml_client.environments.create_or_update(name='\1', image='\2')`"),
)


def in_python(text: str) -> str:
    """``text`` with each ``runner`` command a job's record names as the ``ml_client`` call that does it."""
    for pattern, call in _CALLS:
        text = pattern.sub(call, text)
    return text


def failed_error(record: JobRecord, log_path: Path) -> JobFailedError:
    """``stream``'s error for a job that ended Failed or Canceled: why, and where its log is; the
    recorded reason in the Python API's words for a Python caller (``str(err)``)."""
    why = f": {record.error}" if record.error else (
        f" (exit code {record.exit_code})" if record.exit_code is not None else "")
    message = f"job '{record.name}' ended {record.status.value}{why}"
    err = JobFailedError(message, job_name=record.name, status=record.status.value,
                         hint=f"its log: `runner job stream --name {record.name}` (the file {log_path}); "
                              f"`runner job show --name {record.name}` shows the job",
                         python_hint=f"its log: the file {log_path}; `ml_client.jobs.get('{record.name}')` "
                                     "shows the job")
    err.python_message = in_python(message)
    return err
