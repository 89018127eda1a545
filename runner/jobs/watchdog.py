"""A job's watchdog: a small process that outlives a runner killed while its job's container runs.

Why a detached process, not the container or the engine: Docker has no "maximum run time" a container
could carry, and wrapping the command (``timeout``, a shell trap) depends on what the image holds and
changes how signals reach the command. A process of ours started in its own session depends on
nothing in the image, and a pipe tells it the moment its runner dies:

* the runner starts it (``start_watchdog``) as soon as the container runs, keeping the write end of a
  pipe whose read end only the watchdog holds; it costs one interpreter start and then sleeps in one
  ``select``;
* the runner ends the job normally: it writes ``done`` and the watchdog exits;
* the runner dies (SIGKILL, OOM, a crash): the kernel closes its end, the read returns EOF, and the
  watchdog takes over: it appends what the container prints from then on to the job's log
  (``user_logs/std_log.txt``: the engine keeps the whole log, the watchdog skips what the runner already
  wrote), stops the container at the job's ``limits.timeout`` (SIGTERM, the cancel grace period, then
  SIGKILL), and once the container ended does what the next runner command's recovery would
  (``runner.jobs.recovery``): removes it, unmounts what the dead runner left, marks the job Failed;
* a runner that lives but hangs past the timeout (and its grace) by ``BACKSTOP_S`` gets its container
  stopped too.

Recovery still works without a watchdog (killed with its runner, or never started: the process
backend's output goes through a pipe to the runner and dies with it). While a watchdog keeps a job's
log it holds a lock on it; recovery then leaves the log to it (``recovery.log_keeper``).

    python -m runner.jobs.watchdog --workspace WS --job NAME --run ID --pipe-fd N [--deadline EPOCH]
"""

from __future__ import annotations

import argparse
import contextlib
import logging
import os
import select
import subprocess
import sys
import threading
import time
from pathlib import Path

log = logging.getLogger(__name__)

BACKSTOP_S = 60.0  # past the deadline and the grace: a live but hung runner's container is stopped
DONE = b"done"


class Watchdog:
    """The runner's side: ``release()`` once the job's final status is written."""

    def __init__(self, process: subprocess.Popen[bytes] | None, pipe: int) -> None:
        self.process, self._pipe = process, pipe

    def release(self) -> None:
        if self._pipe < 0:
            return
        with contextlib.suppress(OSError):  # the watchdog is gone already
            os.write(self._pipe, DONE)
        os.close(self._pipe)
        self._pipe = -1
        if self.process is not None:  # reaped in the background: it exits at once
            threading.Thread(target=self.process.wait, name="watchdog-reap", daemon=True).start()


def start_watchdog(workspace: Path, job: str, run: str, deadline: float | None, grace_s: float,
                   log_file: Path) -> Watchdog:
    """Start the watchdog of ``job`` whose run (container) ``run`` is under way."""
    read_end, write_end = os.pipe()  # both close-on-exec: only the watchdog gets the read end
    command = [sys.executable, "-m", "runner.jobs.watchdog", "--workspace", str(workspace), "--job", job,
               "--run", run, "--pipe-fd", str(read_end), "--grace", str(grace_s)]
    if deadline is not None:
        command += ["--deadline", repr(deadline)]
    try:
        with open(log_file, "ab") as output:
            process = subprocess.Popen(command, stdin=subprocess.DEVNULL, stdout=output,  # noqa: S603
                                       stderr=subprocess.STDOUT, pass_fds=(read_end,), cwd="/",
                                       start_new_session=True)
    except OSError as exc:  # no watchdog is no reason to fail the job: recovery still works
        log.warning("could not start the job's watchdog: %s", exc)
        os.close(write_end)
        return Watchdog(None, -1)
    finally:
        os.close(read_end)
    return Watchdog(process, write_end)


def wait_for_runner(pipe: int, backstop: float | None, on_backstop: object) -> bool:
    """Block until the runner says ``done`` (False) or dies (True: EOF). At ``backstop`` (epoch
    seconds) call ``on_backstop()`` once and keep waiting."""
    while True:
        timeout = None if backstop is None else max(0.0, backstop - time.time())
        ready, _, _ = select.select([pipe], [], [], timeout)
        if not ready:
            assert callable(on_backstop)
            on_backstop()
            backstop = None
            continue
        data = os.read(pipe, 64)
        if data.startswith(DONE):
            return False
        if not data:
            return True


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m runner.jobs.watchdog")
    parser.add_argument("--workspace", required=True)
    parser.add_argument("--job", required=True)
    parser.add_argument("--run", required=True)
    parser.add_argument("--pipe-fd", type=int, required=True)
    parser.add_argument("--deadline", type=float)
    parser.add_argument("--grace", type=float, default=10.0)
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s watchdog %(levelname)s: %(message)s")
    backstop = args.deadline + args.grace + BACKSTOP_S if args.deadline is not None else None

    def hung_runner() -> None:
        log.warning("job %s: past its timeout and its runner has not stopped it; stopping it", args.job)
        from runner.jobs.takeover import stop_run  # reason: imported only in this rare case (start-up cost)

        stop_run(Path(args.workspace), args.job, args.run, args.grace)

    if not wait_for_runner(args.pipe_fd, backstop, hung_runner):
        return 0
    from runner.jobs.takeover import take_over  # reason: the runner died; docker-py etc. only now

    take_over(Path(args.workspace), args.job, args.run, args.deadline, args.grace)
    return 0


if __name__ == "__main__":
    sys.exit(main())
