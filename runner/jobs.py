"""The job lifecycle's public face: ``JobOperations`` (``ml_client.jobs``) and what the CLI calls.

    ops = JobOperations(workspace)
    record = ops.create_or_update(spec)            # Queued; runs in a background worker process
    record = ops.create_or_update(spec, stream=True, echo=sys.stdout.buffer.write)   # foreground
    ops.stream(name); ops.get(name); ops.list(); ops.cancel(name)
    ops.download(name, download_path="out", output_name="model")   # or all=True

Submission builds the plan (resolving every input and output, so a bad reference fails right away),
copies the job's ``code`` to ``<job_dir>/code``, and records the job as Queued with its plan; the run
itself (``runner.job_run``) re-resolves the plan's canonical URIs in the process that runs it.
"""

from __future__ import annotations

import builtins
import logging
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

from runner.errors import JobError, SpecError
from runner.job_recovery import current_process_start, mark_lost, reconcile, release_resources, runner_alive
from runner.job_supervise import Echo, cancel_grace_s
from runner.names import generate_job_name, is_valid_job_name
from runner.spec_load import uses_local_process
from runner.uris import ARTIFACTS
from runner.workspace import JobRecord, JobStatus, Workspace, utcnow

if TYPE_CHECKING:
    from runner.plan_types import RunPlan
    from runner.spec import CommandJobSpec

log = logging.getLogger(__name__)

STREAM_POLL_S = 0.25
CANCEL_WAIT_AFTER_GRACE_S = 120.0  # stop, finalize the outputs, record


def backend_for(spec: CommandJobSpec, requested: str | None) -> str:
    if requested:
        return requested
    return "process" if uses_local_process(spec) else "docker"


def copy_code(code_source: str | None, code_dir: Path) -> None:
    """Snapshot the job's ``code`` (a folder, or one file) into ``code_dir`` (the working directory)."""
    code_dir.mkdir(parents=True, exist_ok=True)
    if code_source:
        source = Path(code_source.removeprefix("file://")).expanduser()
        if code_source.startswith(("azureml:", "http://", "https://")):
            raise SpecError(f"code '{code_source}' is not a local folder", field="code",
                            hint="point code: at a local folder (relative to the job YAML)")
        if source.is_dir():
            shutil.copytree(source, code_dir, dirs_exist_ok=True, symlinks=True,
                            ignore=shutil.ignore_patterns(".git", "__pycache__"))
        elif source.is_file():
            shutil.copy2(source, code_dir / source.name)
        else:
            raise SpecError(f"code folder '{source}' does not exist", field="code",
                            hint="set code: to a folder relative to the job YAML")
    for sub in ("outputs", "logs"):
        (code_dir / sub).mkdir(exist_ok=True)


def build_job_plan(ws: Workspace, spec: CommandJobSpec, name: str) -> RunPlan:
    from runner.plan import build_plan

    return build_plan(spec, workspace=ws, job_name=name)


class Job(JobRecord):
    """What ``ml_client.jobs`` returns: the job's record plus azure.ai.ml's ``services``/``studio_url``
    (``returned_job.services["Studio"].endpoint``), which here name the command that shows the job."""

    @property
    def studio_url(self) -> str:
        return f"runner job show --name {self.name}"

    @property
    def services(self) -> dict[str, Any]:
        from runner.entities import JobService

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
                         upload_on_failure: bool = True, quiet: bool = False) -> Job:
        """Submit ``job`` (a spec or a builder job); run it in the background, or here with ``stream``
        (``quiet``: no progress bars for its transfers)."""
        spec = _as_spec(job)
        record = self.submit(spec, name=name, backend=backend)
        try:
            if stream:
                from runner.job_run import run_job

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

    def submit(self, spec: CommandJobSpec, *, name: str | None = None,
               backend: str | None = None) -> JobRecord:
        """Plan the job, snapshot its code and record it as Queued (owned by this process)."""
        job_name = name or spec.name or generate_job_name()
        if not is_valid_job_name(job_name):
            raise SpecError(f"'{job_name}' is not a valid job name", field="name",
                            hint="use letters, digits, '-' and '_', starting with a letter or digit")
        if self.workspace.job_exists(job_name):
            raise JobError(f"a job named '{job_name}' exists already",
                           hint="give another --name, or omit it to get a generated one")
        if ARTIFACTS in spec.outputs:
            raise SpecError(f"'{ARTIFACTS}' is the reserved name of the job's default artifact location",
                            field=f"outputs.{ARTIFACTS}", hint="rename the output")
        plan = build_job_plan(self.workspace, spec, job_name)
        if backend_for(spec, backend) == "docker" and plan.resources.docker_args:
            from runner.backends.docker_args import parse_docker_args

            parse_docker_args(plan.resources.docker_args)  # refuse unsupported options before queuing
        job_dir = self.workspace.job_dir(job_name)
        queued = utcnow()
        record = JobRecord(
            name=job_name, display_name=spec.display_name, experiment_name=spec.experiment_name,
            created_at=queued,
            spec=spec.to_yaml_dict(), inputs={b.name: b.uri for b in plan.inputs},
            outputs={b.name: b.uri for b in plan.outputs}, image=plan.image or None,
            backend=backend_for(spec, backend), runner_pid=os.getpid(), job_dir=str(job_dir),
            extra={"plan": plan.to_dict(), "runner_start": current_process_start(),
                   "literals": dict(plan.literals), "warnings": list(plan.warnings),
                   "status_times": {JobStatus.QUEUED.value: queued.isoformat()}})
        self.workspace.create_job(record)
        try:
            copy_code(plan.code_source, job_dir / "code")
        except (OSError, SpecError) as exc:
            message = exc.render() if isinstance(exc, SpecError) else f"copying the code failed: {exc}"
            self.workspace.update_job(job_name, status=JobStatus.FAILED, error=message)
            raise
        return record

    def start_worker(self, name: str, *, upload_on_failure: bool = True) -> int:
        """Run the job in a detached ``python -m runner.job_worker`` process; record its pid."""
        job_dir = self.workspace.job_dir(name)
        command = [sys.executable, "-m", "runner.job_worker", "--workspace", str(self.workspace.root), name]
        if not upload_on_failure:
            command.append("--no-upload-on-failure")
        with (job_dir / "runner.log").open("ab") as runner_log:
            proc = subprocess.Popen(command, stdin=subprocess.DEVNULL, stdout=runner_log,  # noqa: S603
                                    stderr=subprocess.STDOUT, start_new_session=True, close_fds=True)
        record = self.workspace.get_job(name)
        extra = {**record.extra, "runner_start": _start_time_of(proc.pid)}
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
        log_path = self.workspace.job_dir(name) / "user_logs" / "std_log.txt"
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
        from runner.job_download import download_outputs

        record = self.workspace.get_job(name)
        names = list(record.outputs) if all else [output_name or ARTIFACTS]
        return download_outputs(self.workspace, record, names, Path(download_path), every=all, quiet=quiet)


def _as_spec(job: Any) -> CommandJobSpec:
    from runner.spec import CommandJobSpec

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


def _start_time_of(pid: int) -> str | None:
    from runner.job_recovery import process_start_time

    return process_start_time(pid)


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
