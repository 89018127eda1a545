"""How the orchestrator submits its steps: ``JobOperations`` as for any job, except that a step's
background worker is a fork of the orchestrator (which has imported the job machinery already) running
the worker's own ``main`` (``python -m runner.jobs.worker``'s), instead of a new interpreter that imports
it all again (~0.7 s per step on this machine; see bench/RESULTS.md, "Pipeline per-step overhead").

The fork is the worker in every other way: its own session (a cancel of the pipeline does not reach it
through the terminal; ``job cancel`` of the step signals it by pid), stdout and stderr appended to the
step's ``runner.log``, its pid and start time in the step's record. The orchestrator reaps it.
"""

from __future__ import annotations

import contextlib
import os
import signal
import sys
import traceback

from runner.jobs import worker
from runner.jobs.operations import JobOperations
from runner.jobs.recovery import process_start_time
from runner.workspace.db import JobStatus, Workspace


def fork_worker(ws: Workspace, name: str, *, upload_on_failure: bool) -> int:
    """Start the worker of job ``name`` as a fork of this process; its pid."""
    log_path = ws.job_dir(name).runner_log
    log_path.parent.mkdir(parents=True, exist_ok=True)
    for stream in (sys.stdout, sys.stderr):  # nothing buffered here is written twice
        with contextlib.suppress(Exception):
            stream.flush()
    pid = os.fork()
    if pid:
        return pid
    code = 1
    try:
        os.setsid()
        for sig in (signal.SIGTERM, signal.SIGINT):
            signal.signal(sig, signal.SIG_DFL)  # until the run installs its own (a cancel before it)
        out = os.open(log_path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
        devnull = os.open(os.devnull, os.O_RDONLY)
        os.dup2(devnull, 0)
        os.dup2(out, 1)
        os.dup2(out, 2)
        args = ["--workspace", str(ws.root), name, *([] if upload_on_failure else ["--no-upload-on-failure"])]
        code = worker.main(args)
    except BaseException:  # noqa: BLE001 - the fork never returns into the orchestrator's code
        with contextlib.suppress(Exception):
            traceback.print_exc()
    finally:
        with contextlib.suppress(Exception):
            sys.stdout.flush()
            sys.stderr.flush()
        os._exit(code)


class StepOperations(JobOperations):
    """``JobOperations`` whose background workers are forks of this process (see the module docstring)."""

    def __init__(self, workspace: Workspace) -> None:
        super().__init__(workspace)
        self.children: set[int] = set()

    def start_worker(self, name: str, *, upload_on_failure: bool = True) -> int:
        """Fork the step's worker; record its pid as ``JobOperations.start_worker`` does: while the step is
        still Queued, in one transaction that keeps the rest of its record (a cancel that came meanwhile
        stands; once the worker took the step it recorded itself)."""
        pid = fork_worker(self.workspace, name, upload_on_failure=upload_on_failure)
        self.children.add(pid)
        self.workspace.update_job(name, only_from={JobStatus.QUEUED}, runner_pid=pid,
                                  merge_extra={"runner_start": process_start_time(pid)})
        return pid

    def reap(self) -> None:
        """Collect the workers that ended (no zombies while the pipeline runs)."""
        for pid in list(self.children):
            try:
                done, _ = os.waitpid(pid, os.WNOHANG)
            except ChildProcessError:
                done = pid
            if done:
                self.children.discard(pid)
