"""``ml_client.jobs``: the job operations (``runner.pipelines.operations.PipelineJobOperations``) for a
Python caller, who reads a job's recorded error in Python's words.

    job = ml_client.jobs.get("j1")
    job.error       # "... (`ml_client.jobs.stream('j1')`)": the record says `runner job stream --name j1`

A job's record is in the CLI's words (``runner job show`` prints it; the web UI shows it, through the
operations themselves). Every job ``ml_client.jobs`` returns (``get``, ``list``, ``page``, ``refresh``,
``stream``, ``cancel``, ``create_or_update``, and a pipeline's ``.jobs``) is a copy whose ``error`` is read
with ``runner.jobs.python_words.in_python``, the translation ``stream``'s ``JobFailedError`` uses; the
record is never rewritten. A pipeline's log ``stream`` prints (no ``echo`` given) says its warnings once:
the ones ``create_or_update`` logged here are left out, others are in Python's words
(``runner.pipelines.warning_lines``).
"""

from __future__ import annotations

import builtins
from contextlib import AbstractContextManager, nullcontext
from typing import Any

from runner.errors import JobFailedError
from runner.jobs.job import Job
from runner.jobs.log_echo import terminal_echo
from runner.jobs.python_words import failed_error, in_python
from runner.jobs.supervise import Echo
from runner.not_found import raises_not_found
from runner.pipelines.operations import PipelineJobOperations
from runner.pipelines.step_rows import is_pipeline
from runner.pipelines.warning_lines import said_once
from runner.workspace.db import Workspace
from runner.workspace.paging import Page


def in_python_words(job: Job) -> Job:
    """``job`` with its ``error``, and its steps' jobs' (a pipeline's ``.jobs``), in Python's words: a copy
    (``job`` and its record are unchanged)."""
    said = job.model_copy(update={"error": in_python(job.error)} if job.error else {})
    said._jobs = {step: None if one is None else in_python_words(one) for step, one in job._jobs.items()}
    return said


@raises_not_found("get", "refresh", "stream", "cancel", "begin_cancel", "archive", "restore", "download")
class PythonJobOperations(PipelineJobOperations):
    """``ml_client.jobs``: ``PipelineJobOperations`` whose returned jobs say their error in Python's
    words (see the module docstring), and whose ``stream`` prints a pipeline's warnings once, in Python's
    words (``runner.pipelines.warning_lines``)."""

    def __init__(self, workspace: Workspace) -> None:
        super().__init__(workspace)
        self._told: set[str] = set()  # the pipelines whose warnings create_or_update logged

    def create_or_update(self, job: Any, **kwargs: Any) -> Job:
        created = super().create_or_update(job, **kwargs)
        if created.type == "pipeline":
            self._told.add(created.name)
        return in_python_words(created)

    def get(self, name: str) -> Job:
        return in_python_words(super().get(name))

    def list(self, **kwargs: Any) -> builtins.list[Job]:
        return [in_python_words(job) for job in super().list(**kwargs)]

    def page(self, **filters: Any) -> Page[Job]:
        found = super().page(**filters)
        return Page([in_python_words(job) for job in found.items], found.offset, found.limit, found.total)

    def refresh(self, name: str) -> Job:
        return in_python_words(super().refresh(name))

    def stream(self, name: str, echo: Echo | None = None, *, raise_on_failure: bool = True) -> Job:
        """``JobOperations.stream``; its ``JobFailedError`` made from the record (``err.render()`` in the
        CLI's words, ``str(err)`` in Python's)."""
        try:
            if echo is not None:  # the caller's own: the log as it is
                return in_python_words(super().stream(name, echo, raise_on_failure=raise_on_failure))
            with terminal_echo(None) as shown, self._warnings_said_once(name, shown) as said:
                return in_python_words(super().stream(name, said, raise_on_failure=raise_on_failure))
        except JobFailedError:
            raise failed_error(self.workspace.get_job(name), self.workspace.job_dir(name).std_log) from None

    def _warnings_said_once(self, name: str, echo: Echo) -> AbstractContextManager[Echo]:
        """A pipeline's log printed with its warnings' lines left out when ``create_or_update`` logged them
        here, else in Python's words; any other job's as it is."""
        record = self.workspace.get_job(name)
        if not is_pipeline(record):
            return nullcontext(echo)
        return said_once(echo, record.extra.get("warnings") or [], told=name in self._told)

    def cancel(self, name: str) -> Job:
        return in_python_words(super().cancel(name))
