"""Drive a started run: pump its logs to the job's log file (and a terminal), wait with a timeout, and
stop it (grace period, then kill) when a cancel is requested through SIGTERM/SIGINT (or found by its
``check``: a cancel recorded in the job's record).
"""

from __future__ import annotations

import contextlib
import logging
import os
import signal
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from types import FrameType
from typing import BinaryIO

from runner.backends.base import RunHandle

log = logging.getLogger(__name__)

CANCEL_GRACE_ENV = "RUNNER_CANCEL_GRACE_S"
POLL_S = 0.2
CHECK_S = 1.0  # how often ``supervise`` calls its ``check`` (a read of the job's record)
LOG_DRAIN_S = 10.0

Echo = Callable[[bytes], None]


def cancel_grace_s() -> float:
    """Seconds a stopped job gets between SIGTERM and SIGKILL (read when used, not at import: a
    warm fork server imports this module once for many commands with their own environments)."""
    return float(os.environ.get(CANCEL_GRACE_ENV, "10"))


class JobCanceled(BaseException):  # noqa: N818 - a control-flow signal, like KeyboardInterrupt
    """Raised (before the run starts) when the job was asked to cancel, to unwind preparation."""


class CancelSignals:
    """SIGTERM and SIGINT become a cancel request.

    Before the run starts the handler raises ``JobCanceled`` so preparation unwinds through its
    ``ExitStack``; once the run is started it only sets a flag, so stopping and finalizing the outputs
    are never interrupted halfway.
    """

    def __init__(self) -> None:
        self.requested = threading.Event()
        self.raise_now = True

    def _handle(self, _signum: int, _frame: FrameType | None) -> None:
        self.requested.set()
        if self.raise_now:
            self.raise_now = False
            raise JobCanceled()

    @contextlib.contextmanager
    def installed(self) -> Iterator[CancelSignals]:
        if threading.current_thread() is not threading.main_thread():
            yield self
            return
        previous = {sig: signal.signal(sig, self._handle) for sig in (signal.SIGTERM, signal.SIGINT)}
        try:
            yield self
        finally:
            for sig, handler in previous.items():
                signal.signal(sig, handler)


@dataclass(frozen=True)
class Outcome:
    exit_code: int | None
    reason: str  # "exited", "timeout", "canceled"
    detail: str | None = None  # what ended it, beyond the exit code (the handle's ``end_reason``)


def _pump_logs(handle: RunHandle, log_path: Path, echo: Echo | None) -> None:
    """The run's output to the job's log (and ``echo``). A log that cannot be written (a full disk)
    stops being written, with a warning; the terminal still gets the output. A terminal that stops taking
    it (``--stream | head``: a broken pipe) stops being echoed to, with a warning; the log still gets all
    of it."""
    sink: BinaryIO | None = None
    try:
        log_path.parent.mkdir(parents=True, exist_ok=True)
        sink = log_path.open("ab")
    except OSError as exc:
        log.warning("cannot write the job's log %s: %s", log_path, exc)
    try:
        for chunk in handle.logs():
            if sink is not None:
                try:
                    sink.write(chunk)
                    sink.flush()
                except OSError as exc:
                    log.warning("the job's log %s stops here: %s", log_path, exc)
                    _closed(sink)
                    sink = None
            if echo is not None:
                try:
                    echo(chunk)
                except OSError as exc:
                    log.warning("the job's output is no longer shown here (%s); its log %s keeps all of it",
                                exc, log_path)
                    echo = None
    except Exception as exc:  # noqa: BLE001 - a broken log stream must not fail the job
        log.warning("log streaming stopped: %s", exc)
    finally:
        _closed(sink)


def _closed(sink: BinaryIO | None) -> None:
    if sink is not None:
        with contextlib.suppress(OSError):  # the buffered rest may not fit either
            sink.close()


def supervise(handle: RunHandle, *, timeout_s: float | None, cancel: CancelSignals, log_path: Path,
              echo: Echo | None = None, started: Callable[[], object] | None = None,
              check: Callable[[], object] | None = None) -> Outcome:
    """Wait for ``handle`` to end; stop it on timeout or cancel. Logs are fully written on return.
    ``started`` is called once the wait and the log stream are under way (the job's Running record is
    written while the engine reports on a command that may already have ended). ``check`` is called every
    ``CHECK_S`` while it runs, and may ask for the cancel (a cancel recorded in the job's record)."""
    done = threading.Event()
    result: dict[str, int | BaseException] = {}

    def wait() -> None:
        try:
            result["code"] = handle.wait()
        except BaseException as exc:  # noqa: BLE001 - handed to the main thread
            result["error"] = exc
        finally:
            done.set()

    pump = threading.Thread(target=_pump_logs, args=(handle, log_path, echo), daemon=True, name="logs")
    waiter = threading.Thread(target=wait, daemon=True, name="wait")
    waiter.start()  # first: the engine's report of an exit is what the job waits for
    pump.start()
    if started is not None:
        started()
    deadline = time.monotonic() + timeout_s if timeout_s else None
    reason = "exited"
    checked = time.monotonic()
    while not done.wait(POLL_S):
        if check is not None and time.monotonic() - checked >= CHECK_S:
            check()
            checked = time.monotonic()
        if cancel.requested.is_set():
            reason = "canceled"
            break
        if deadline is not None and time.monotonic() >= deadline:
            reason = "timeout"
            break
    if reason != "exited":
        grace_s = cancel_grace_s()
        log.info("stopping the job (%s), grace period %.0f s", reason, grace_s)
        handle.stop(grace_s)
        done.wait()
    pump.join(LOG_DRAIN_S)
    error = result.get("error")
    if isinstance(error, BaseException):
        raise error
    code = result.get("code")
    return Outcome(exit_code=code if isinstance(code, int) else None, reason=reason,
                   detail=handle.end_reason() if isinstance(code, int) else None)
