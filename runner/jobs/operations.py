"""The job lifecycle's public face: ``JobOperations`` (``ml_client.jobs``) and what the CLI calls.

    ops = JobOperations(workspace)
    record = ops.create_or_update(spec)            # Queued; runs in a background worker process
    record = ops.create_or_update(spec, stream=True, echo=sys.stdout.buffer.write)   # foreground
    ops.stream(name); ops.get(name); ops.list(); ops.cancel(name)
    ops.download(name, download_path="out", output_name="model")   # or all=True

Submission (``runner.jobs.submit``) plans the job, snapshots its code and records it as Queued; the run
(``runner.jobs.run``) takes it to a terminal status, here with ``stream`` or in a background worker
(``python -m runner.jobs.worker``).
"""

from __future__ import annotations

import builtins
import logging
import os
import signal
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from runner.errors import JobError
from runner.jobs.download import download_outputs
from runner.jobs.recovery import mark_lost, process_start_time, reconcile, release_resources, runner_alive
from runner.jobs.run import run_job
from runner.jobs.submit import submit_job
from runner.jobs.supervise import Echo, cancel_grace_s
from runner.spec.job import CommandJobSpec
from runner.uris import ARTIFACTS
from runner.workspace.db import JobRecord, JobStatus, Workspace

log = logging.getLogger(__name__)

STREAM_POLL_S = 0.25
CANCEL_WAIT_AFTER_GRACE_S = 120.0  # stop, finalize the outputs, record


@dataclass(frozen=True)
class JobService:
    """``returned_job.services["Studio"].endpoint``: locally, the command that shows the job."""

    endpoint: str
    type: str = "Studio"


class Job(JobRecord):
    """What ``ml_client.jobs`` returns: the job's record plus azure.ai.ml's ``services``/``studio_url``
    (``returned_job.services["Studio"].endpoint``), which here name the command that shows the job."""

    @property
    def studio_url(self) -> str:
        return f"runner job show --name {self.name}"

    @property
    def services(self) -> dict[str, Any]:
        tracking = f"file://{Path(self.job_dir or '.') / 'mlruns'}"
        return {"Studio": JobService(endpoint=self.studio_url),
                "Tracking": JobService(endpoint=tracking, type="Tracking")}


def as_job(record: JobRecord) -> Job:
    return record if isinstance(record, Job) else Job.model_validate(record.model_dump())


class JobOperations:
    """``ml_client.jobs`` for a local workspace."""

    def __init__(self, workspace: Workspace) -> None:
        self.workspace = workspace
        reconcile(workspace)

    # ---- create -------------------------------------------------------------------------------
    def create_or_update(self, job: Any, *, name: str | None = None, stream: bool = False,
                         echo: Echo | None = None, backend: str | None = None,
                         upload_on_failure: bool = True, quiet: bool = False,
                         allow_unsafe_docker_args: bool = False) -> Job:
        """Submit ``job`` (a spec or a builder job); run it in the background, or here with ``stream``
        (``quiet``: no progress bars for its transfers; ``allow_unsafe_docker_args``: see
        ``runner.backends.docker_args``)."""
        spec = _as_spec(job)
        record = self.submit(spec, name=name, backend=backend,
                             allow_unsafe_docker_args=allow_unsafe_docker_args)
        try:
            if stream:
                return as_job(run_job(self.workspace, record.name, echo=echo,
                                      upload_on_failure=upload_on_failure, quiet=quiet))
            self.start_worker(record.name, upload_on_failure=upload_on_failure)
        except KeyboardInterrupt:  # before the run took over SIGINT: the queued job is canceled
            current = self.workspace.get_job(record.name)
            if not current.status.is_terminal:
                mark_lost(self.workspace, current, status=JobStatus.CANCELED,
                          reason="canceled (interrupted before the job started)")
            raise
        return as_job(self.workspace.get_job(record.name))

    def submit(self, spec: CommandJobSpec, *, name: str | None = None, backend: str | None = None,
               allow_unsafe_docker_args: bool = False) -> JobRecord:
        """Plan the job, snapshot its code and record it as Queued (owned by this process)."""
        return submit_job(self.workspace, spec, name=name, backend=backend,
                          allow_unsafe_docker_args=allow_unsafe_docker_args)

    def start_worker(self, name: str, *, upload_on_failure: bool = True) -> int:
        """Run the job in a detached ``python -m runner.jobs.worker`` process; record its pid."""
        job_dir = self.workspace.job_dir(name)
        command = [sys.executable, "-m", "runner.jobs.worker", "--workspace", str(self.workspace.root), name]
        if not upload_on_failure:
            command.append("--no-upload-on-failure")
        with job_dir.runner_log.open("ab") as runner_log:
            proc = subprocess.Popen(command, stdin=subprocess.DEVNULL, stdout=runner_log,  # noqa: S603
                                    stderr=subprocess.STDOUT, start_new_session=True, close_fds=True)
        record = self.workspace.get_job(name)
        extra = {**record.extra, "runner_start": process_start_time(proc.pid)}
        self.workspace.update_job(name, runner_pid=proc.pid, extra=extra)
        return proc.pid

    # ---- read ---------------------------------------------------------------------------------
    def get(self, name: str) -> Job:
        return as_job(self.workspace.get_job(name))

    def list(self, *, max_results: int | None = None) -> builtins.list[Job]:
        return [as_job(r) for r in self.workspace.list_jobs(max_results=max_results)]

    def stream(self, name: str, echo: Echo | None = None) -> Job:
        """Follow the job's log until it reaches a terminal status (the whole log when it has).

        The log goes to ``echo`` (default: this process's stdout, as ``azure.ai.ml``'s ``stream``)."""
        echo = echo or _stdout_echo
        log_path = self.workspace.job_dir(name).std_log
        position = 0
        while True:
            record = self.workspace.get_job(name)
            if not record.status.is_terminal and not runner_alive(record):
                release_resources(self.workspace, record)
                record = mark_lost(self.workspace, record)
            position = _follow(log_path, position, echo)
            if record.status.is_terminal:
                _follow(log_path, position, echo)
                return as_job(record)
            time.sleep(STREAM_POLL_S)

    # ---- cancel ---------------------------------------------------------------------------------
    def cancel(self, name: str) -> Job:
        """Stop a running job (grace period, then kill), finalize its outputs, mark it Canceled.

        A runner still alive after the grace period and ``CANCEL_WAIT_AFTER_GRACE_S`` is still making
        its outputs durable (a long upload): it is left to finish and record the end itself, and the
        job is returned as it stands (not terminal). Only a runner that is gone is cleaned up after."""
        record = self.workspace.get_job(name)
        if record.status.is_terminal:
            raise JobError(f"job '{name}' is already {record.status.value}; only an active job can be "
                           "canceled")
        pid = record.runner_pid if runner_alive(record) else None
        if pid:
            os.kill(pid, signal.SIGTERM)
            deadline = time.monotonic() + cancel_grace_s() + CANCEL_WAIT_AFTER_GRACE_S
            while time.monotonic() < deadline:
                record = self.workspace.get_job(name)
                if record.status.is_terminal:
                    return as_job(record)
                if not runner_alive(record):
                    break
                time.sleep(STREAM_POLL_S)
            else:  # never unmount or delete under a runner that is still finalizing
                return as_job(record)
        record = self.workspace.get_job(name)
        if record.status.is_terminal:
            return as_job(record)
        release_resources(self.workspace, record)
        # a runner that ends on our SIGTERM without recording it had not taken over the signals yet
        reason = (f"canceled while {record.status.value}: the runner (pid {record.runner_pid}) stopped on "
                  "the cancel before it recorded the end") if pid else None
        return as_job(mark_lost(self.workspace, record, status=JobStatus.CANCELED, reason=reason))

    # ---- download -----------------------------------------------------------------------------
    def download(self, name: str, *, download_path: str | Path = ".", output_name: str | None = None,
                 all: bool = False, quiet: bool = False) -> builtins.list[Path]:  # noqa: A002
        """Copy outputs locally as Azure does: ``artifacts/`` and ``named-outputs/<out>/`` (``all``:
        azure.ai.ml's keyword; ``quiet``: no progress bar)."""
        record = self.workspace.get_job(name)
        names = list(record.outputs) if all else [output_name or ARTIFACTS]
        return download_outputs(self.workspace, record, names, Path(download_path), every=all, quiet=quiet)


def _as_spec(job: Any) -> CommandJobSpec:
    if isinstance(job, CommandJobSpec):
        return job
    for attribute in ("to_spec", "_to_spec", "spec"):
        candidate = getattr(job, attribute, None)
        candidate = candidate() if callable(candidate) else candidate
        if isinstance(candidate, CommandJobSpec):
            return candidate
    raise JobError(f"cannot run a {type(job).__name__}; pass a job built with command(...) or loaded with "
                   "load_job(...)")


def _stdout_echo(chunk: bytes) -> None:
    sys.stdout.write(chunk.decode("utf-8", errors="replace"))
    sys.stdout.flush()


def _follow(path: Path, position: int, echo: Echo | None) -> int:
    """Echo what was appended to ``path`` since ``position``; return the new position."""
    if not path.exists():
        return position
    with path.open("rb") as handle:
        handle.seek(position)
        while chunk := handle.read(1 << 16):
            if echo is not None:
                echo(chunk)
            position += len(chunk)
    return position
