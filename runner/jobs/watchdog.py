"""A job's watchdog: a small process that outlives a runner killed while its job's container runs
(or its host process: ``runner.jobs.takeover`` stops that one at once; its output went to the runner).

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

Recovery still works without a watchdog (killed with its runner, or never started). A watchdog holds a
lock on the job's log for as long as it keeps the job: the runner opens and locks the log as it starts
the watchdog, which inherits it (``--log-fd``), so the lock is held from the moment the container runs
until the watchdog followed it to its end and let it go, or died. While it is held, a runner command's
recovery leaves the container and the job's end to the watchdog (``runner.jobs.log_lock``).

It is started as ``python -S`` with this package's folder on ``sys.path`` and, until its runner dies,
imports nothing but ``os``, ``select``, ``sys`` and ``time`` (it costs a bare interpreter start, run
beside the job); ``site`` and the rest load only to take over.

    python -S -c "...main()" --workspace WS --job NAME --run ID --pipe-fd N --grace S [--deadline EPOCH]
                             [--log-fd N]
"""

from __future__ import annotations

import os
import select
import sys
import time

TYPE_CHECKING = False  # as typing.TYPE_CHECKING (type checkers read it as True), without importing typing
if TYPE_CHECKING:  # the standard library's, for the runner's side (imported when used: see above)
    import subprocess
    from pathlib import Path

BACKSTOP_S = 60.0  # past the deadline and the grace: a live but hung runner's container is stopped
DONE = b"done"
PACKAGE_ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
ENTRY = (f"import sys; sys.path.insert(0, {PACKAGE_ROOT!r}); "
         "from runner.jobs.watchdog import main; sys.exit(main(sys.argv[1:]))")


class Watchdog:
    """The runner's side: ``release()`` once the job's final status is written."""

    def __init__(self, process: subprocess.Popen[bytes] | None, pipe: int) -> None:
        self.process, self._pipe = process, pipe

    def release(self) -> None:
        import contextlib
        import threading

        if self._pipe < 0:
            return
        with contextlib.suppress(OSError):  # the watchdog is gone already
            os.write(self._pipe, DONE)
        os.close(self._pipe)
        self._pipe = -1
        if self.process is not None:  # reaped in the background: it exits at once
            threading.Thread(target=self.process.wait, name="watchdog-reap", daemon=True).start()


def start_watchdog(workspace: Path, job: str, run: str, deadline: float | None, grace_s: float,
                   log_file: Path, std_log: Path | None = None) -> Watchdog:
    """Start the watchdog of ``job`` whose run (container) ``run`` is under way; its own output goes to
    ``log_file``, the job folder's ``runner.log``. It holds the job's log (``std_log``, by default the
    one of the job folder ``log_file`` is in) locked for as long as it lives (``log_lock``)."""
    import logging
    import subprocess

    from runner.jobs.log_lock import lock_for_watchdog  # the runner's side: the watchdog never needs it
    from runner.workspace.jobdir import JobDir

    read_end, write_end = os.pipe()  # both close-on-exec: only the watchdog gets the read end
    command = [sys.executable, "-S", "-c", ENTRY, "--workspace", str(workspace), "--job", job,
               "--run", run, "--pipe-fd", str(read_end), "--grace", str(grace_s)]
    if deadline is not None:
        command += ["--deadline", repr(deadline)]
    held = lock_for_watchdog(std_log or JobDir(log_file.parent).std_log)  # close-on-exec too
    if held >= 0:
        command += ["--log-fd", str(held)]
    passed = (read_end, held) if held >= 0 else (read_end,)
    try:
        with open(log_file, "ab") as output:
            process = subprocess.Popen(command, stdin=subprocess.DEVNULL, stdout=output,  # noqa: S603
                                       stderr=subprocess.STDOUT, pass_fds=passed, cwd="/",
                                       start_new_session=True)
    except OSError as exc:  # no watchdog is no reason to fail the job: recovery still works
        logging.getLogger(__name__).warning("could not start the job's watchdog: %s", exc)
        os.close(write_end)
        return Watchdog(None, -1)
    finally:
        os.close(read_end)
        if held >= 0:
            os.close(held)  # the watchdog's copy holds the lock now (or, not started, nobody does)
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


def _options(argv: list[str]) -> dict[str, str]:
    """``--name value`` pairs (the runner wrote them: no argparse to import)."""
    names, values = argv[::2], argv[1::2]
    if len(names) != len(values) or not all(name.startswith("--") for name in names):
        raise SystemExit(f"watchdog: bad arguments {argv!r}")
    return {name[2:]: value for name, value in zip(names, values, strict=True)}


def main(argv: list[str] | None = None) -> int:
    opts = _options(sys.argv[1:] if argv is None else argv)
    deadline = float(opts["deadline"]) if "deadline" in opts else None
    grace = float(opts.get("grace", "10"))
    backstop = deadline + grace + BACKSTOP_S if deadline is not None else None
    try:  # the job's log, held locked until this process lets it go or exits
        os.set_inheritable(int(opts.get("log-fd", "-1")), False)  # a child it starts must not keep the lock
    except OSError:  # not passed (-1), or not open: the watchdog locks the log when it takes over
        opts.pop("log-fd", None)
    hung = lambda: _take_over(opts, None, grace, stop_only=True)  # noqa: E731
    if wait_for_runner(int(opts["pipe-fd"]), backstop, hung):
        _take_over(opts, deadline, grace)
    return 0


def _take_over(opts: dict[str, str], deadline: float | None, grace: float, *,
               stop_only: bool = False) -> None:
    """Load what taking over needs (site-packages, logging, the job lifecycle) and do it."""
    if sys.flags.no_site:
        import site

        site.main()  # docker-py, pydantic: from site-packages, only now
    import logging
    from pathlib import Path

    logging.basicConfig(level=logging.INFO, format="%(asctime)s watchdog %(levelname)s: %(message)s")
    from runner.jobs.takeover import stop_run, take_over  # reason: start-up cost (see the module)

    workspace = Path(opts["workspace"])
    if stop_only:
        logging.getLogger(__name__).warning("job %s: past its timeout and its runner has not stopped it; "
                                            "stopping it", opts["job"])
        stop_run(workspace, opts["job"], opts["run"], grace)
    else:
        take_over(workspace, opts["job"], opts["run"], deadline, grace, log_fd=int(opts.get("log-fd", "-1")))


if __name__ == "__main__":
    sys.exit(main())
