"""Removing a job's ended container while its outputs are finalized (``runner.jobs.run._release``):
joined before the job's final status, its errors raised in the job's thread."""

from __future__ import annotations

import threading
from contextlib import ExitStack
from typing import Any

import pytest

from runner.backends.docker import DockerBackend
from runner.backends.process import ProcessBackend
from runner.jobs.run import _release


class Tracker:
    def __init__(self) -> None:
        self.timings: dict[str, float] = {}

    def timing(self, step: str, seconds: float) -> None:
        self.timings[step] = seconds

    def lap(self, step: str) -> None:
        self.timings[step] = 0.0


class Backend:
    def __init__(self, name: str) -> None:
        backends = {"docker": DockerBackend, "process": ProcessBackend}
        self.capabilities = backends[name].capabilities


class Handle:
    def __init__(self, error: Exception | None = None) -> None:
        self.release = threading.Event()
        self.removed = threading.Event()
        self.thread: str | None = None
        self.error = error

    def remove(self) -> None:
        self.thread = threading.current_thread().name
        self.release.wait(timeout=30)
        if self.error is not None:
            raise self.error
        self.removed.set()


def _release_into(stack: ExitStack, handle: Handle, backend: str, tracker: Tracker) -> None:
    args: Any = (handle, Backend(backend), stack, tracker)
    _release(*args)


def test_a_container_is_removed_beside_the_finalization_and_joined_when_the_job_closes() -> None:
    handle, tracker = Handle(), Tracker()
    with ExitStack() as stack:
        _release_into(stack, handle, "docker", tracker)
        assert not handle.removed.is_set()  # still going: the job finalizes its outputs meanwhile
        handle.release.set()
    assert handle.removed.is_set()  # done before the job's final status is written
    assert handle.thread == "remove-container"
    assert "container_remove (during finalize)" in tracker.timings


def test_a_failed_removal_is_raised_in_the_jobs_thread() -> None:
    handle = Handle(error=ConnectionError("the engine went away"))
    handle.release.set()
    with pytest.raises(ConnectionError, match="went away"), ExitStack() as stack:
        _release_into(stack, handle, "docker", Tracker())


def test_a_process_jobs_group_is_killed_before_its_outputs_are_finalized() -> None:
    handle, tracker = Handle(), Tracker()
    handle.release.set()
    with ExitStack() as stack:
        _release_into(stack, handle, "process", tracker)
        assert handle.removed.is_set()  # at once, in this thread: nothing writes to the outputs after
        assert handle.thread == threading.current_thread().name
    assert "container_remove" in tracker.timings
