"""A job's MLflow run and its artifacts (for ``runner.jobs.run``): the run prepared before the command
starts (its store bound into the container, its variables set), then, once the command has ended, the
run finished and ./outputs, ./logs, user_logs/ and the logged models collected into the artifacts
folder, with no link the job planted followed; and the same for a job whose runner died before it did
(``collect_left_behind``, for ``runner.jobs.recovery``)."""

from __future__ import annotations

from pathlib import Path

from runner.backends.base import Backend, BindMount
from runner.jobs.materialize import Materializations
from runner.jobs.mlflow import MlflowRun, collect_logged_models, finish_run, prepare_run
from runner.plan.types import CONTAINER_ARTIFACTS, CONTAINER_MLRUNS
from runner.uris import ARTIFACTS
from runner.workspace.db import JobRecord, JobStatus
from runner.workspace.jobdir import JobDir
from runner.workspace.nofollow import Links, copy_folder, is_empty, open_folder


def prepare_mlflow(record: JobRecord, job_dir: JobDir, backend: Backend, mats: Materializations
                   ) -> MlflowRun:
    in_container = backend.capabilities.in_container
    artifacts = Path(mats.host_paths[f"outputs/{ARTIFACTS}"])
    run = prepare_run(job_dir, record.name, record.experiment_name, in_container=in_container,
                      artifacts=artifacts)
    mats.env.update(run.env(in_container=in_container))
    mats.mounts.append(BindMount(str(run.mlruns), CONTAINER_MLRUNS, read_only=False))
    return run


def collect_artifacts(run: MlflowRun, job_dir: JobDir, status: JobStatus) -> list[str]:
    """./outputs, ./logs, user_logs/ and MLflow logged models into the artifacts folder. The job could
    write all of them: no link it planted is followed, where data is read or where it is written
    (``runner.workspace.nofollow``); returns the links met and what was done with each."""
    links = Links()
    finish_run(run, status={JobStatus.COMPLETED: "FINISHED", JobStatus.CANCELED: "KILLED"}.get(status,
                                                                                              "FAILED"),
               links=links)
    collect_logged_models(run, links)
    for source, name in ((job_dir.code_outputs, "outputs"), (job_dir.code_logs, "logs"),
                         (job_dir.user_logs, "user_logs")):
        with open_folder(job_dir.root, *source.relative_to(job_dir.root).parts, links=links) as folder:
            if folder is None or is_empty(folder):
                continue
            with open_folder(run.artifacts.parent, run.artifacts.name, name, links=links,
                             create=True) as target:
                if target is not None:
                    copy_folder(folder, target, links)
    return links.noted


def collect_left_behind(record: JobRecord, job_dir: JobDir, artifacts: Path, status: JobStatus, *,
                        in_container: bool) -> list[str]:
    """``collect_artifacts`` for a job whose runner died before it collected them (recovery, or the job's
    watchdog): its MLflow run ended with ``status``, its logged models, ./outputs, ./logs and user_logs/
    copied into ``artifacts`` (their staging, or their place for a host process), no link followed; the
    originals stay in the job's folder. Returns the links met; raises ``OSError`` when a copy fails."""
    started = int(record.started_at.timestamp() * 1000) if record.started_at else 0
    run = MlflowRun(mlruns=job_dir.mlruns, artifacts=artifacts, run_id=record.name, start_ms=started,
                    artifact_uri=f"file://{CONTAINER_ARTIFACTS if in_container else artifacts}")
    return collect_artifacts(run, job_dir, status)
